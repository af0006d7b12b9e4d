#!/usr/bin/env bash
# Regenerates reports/strategies/: the weight-free methods' NoC on GrabCut and Berkeley under the
# reference robot and the seeded click strategies (issue 14), with the spread over click seeds.
# Accuracy only (parallel, untimed). About 45 minutes on 2 cores with the defaults below.
#
#   bash benchmarks/click_strategies.sh [DATA_ROOT]        # DATA_ROOT holds GrabCut/ and Berkeley/
#   SEEDS=3 LIMIT=10 bash benchmarks/click_strategies.sh    # a quicker, smaller run
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/datasets}
SEEDS=${SEEDS:-10}  # seeds of the realistic users (uniform, distance)
HARD_SEEDS=${HARD_SEEDS:-2}  # seeds of the jittered robot and the boundary user
LIMIT=${LIMIT:-10}  # the first samples of each dataset (GrabCut has 50, Berkeley 100)
METHODS=${METHODS:-grabcut,watershed}
OUT=results/strategies
COMMON=(--methods "$METHODS" --datasets GrabCut,Berkeley --data-root "$DATA" --limit "$LIMIT" --workers 2
        --out "$OUT" --no-report --no-progress)

iseg-bench run "${COMMON[@]}"
iseg-bench run "${COMMON[@]}" --clicker uniform --click-seeds "$SEEDS"
iseg-bench run "${COMMON[@]}" --clicker distance --click-seeds "$SEEDS"
iseg-bench run "${COMMON[@]}" --clicker jitter --click-seeds "$HARD_SEEDS"
iseg-bench run "${COMMON[@]}" --clicker boundary --click-seeds "$HARD_SEEDS"
iseg-bench report "$OUT" > /dev/null

mkdir -p reports/strategies
rm -f reports/strategies/*
cp "$OUT"/report/strategies.{md,tex,png} reports/strategies/
for dir in "$OUT"/report/*/; do
  name=$(basename "$dir")
  cp "$dir/table3.md" "reports/strategies/table3-$name.md"
  if [ -f "$dir/robustness.md" ]; then
    cp "$dir/robustness.md" "reports/strategies/robustness-$name.md"
    cp "$dir/robustness.tex" "reports/strategies/robustness-$name.tex"
  fi
done
for clicker in uniform distance; do
  iseg-bench compare "$OUT" grabcut watershed --protocol "neutral-$clicker" --out "reports/strategies/compare-$clicker.md"
done
iseg-bench compare "$OUT" grabcut watershed --protocol neutral --out reports/strategies/compare-robot.md
echo "reports/strategies/ written"

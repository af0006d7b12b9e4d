#!/usr/bin/env bash
# Regenerates every file of reports/efficiency/ and reports/faithfulness/ on this machine (about
# 2 hours on 2 cores; run it on a quiet machine: every timed result records the machine's load).
#
#   bash benchmarks/efficiency_report.sh [DATA_ROOT]      # DATA_ROOT holds GrabCut/ and Berkeley/
#   STAGES="grabcut davis" bash benchmarks/efficiency_report.sh   # only some stages (sam: Segment Anything)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/datasets}
STAGES=${STAGES:-"grabcut davis run paper scripts sam"}
DEEP=emc-hrnet18s,emc-hrnet18,emc-hrnet32,emc-segformer-b0,emc-segformer-b3,ritm-hrnet18s,ritm-hrnet18,ritm-hrnet32,focalclick-hrnet18s-s1,focalclick-hrnet18s-s2,focalclick-hrnet32-s2,focalclick-segformer-b0-s1,focalclick-segformer-b0-s2,focalclick-segformer-b3-s2
OUT=results/efficiency

for stage in $STAGES; do
  case $stage in
    grabcut)  # every method, its published protocol and neutral, both implementations, GrabCut images
      iseg-bench bench --methods $DEEP,grabcut,watershed,disk --protocol published,neutral \
        --implementation engineered,official --size 384 --datasets GrabCut --data-root "$DATA" \
        --limit 3 --clicks 8 --warmup 3 --repeats 10 --rounds 2 --threads 2 --out $OUT/grabcut ;;
    davis)  # every deep method on DAVIS-sized frames under DAVIS input rules, its published protocol
      iseg-bench bench --methods $DEEP \
        --protocol published --implementation engineered,official --size 480x854 --frame 480x854 --rules DAVIS \
        --datasets GrabCut --data-root "$DATA" --limit 3 --clicks 8 --warmup 3 --repeats 10 --rounds 2 --threads 2 \
        --out $OUT/davis-sized ;;
    run)  # Tables 2 and 3: the accuracy run, untrained networks steered by surrogate masks
      iseg-bench run --methods $DEEP,grabcut,watershed,disk --datasets GrabCut --data-root "$DATA" --limit 10 \
        --protocol neutral --untrained-control gt-degraded --threads 2 --out $OUT/grabcut --no-progress ;;
    paper)
      iseg-bench paper-tables $OUT/grabcut --out reports/efficiency --dataset GrabCut
      iseg-bench paper-tables $OUT/davis-sized --out reports/efficiency/davis-sized ;;
    scripts)
      python benchmarks/harness_overhead.py --data-root "$DATA" --out reports/efficiency
      python benchmarks/memory_growth.py --methods emc-hrnet18s --datasets GrabCut,Berkeley --data-root "$DATA" \
        --out reports/efficiency
      python benchmarks/clicker_speed.py --data-root "$DATA" --out reports/efficiency
      python benchmarks/golden_agreement.py --out reports/faithfulness ;;
    sam)  # Segment Anything B/L/H beside EMC-Click's and FocalClick's defaults: GrabCut and DAVIS-sized frames
      SAM=sam-vit-b,sam-vit-l,sam-vit-h,emc-hrnet18s,focalclick-hrnet18s-s2,focalclick-segformer-b0-s2
      iseg-bench bench --methods $SAM --protocol published --size 384 --datasets GrabCut --data-root "$DATA" \
        --limit 3 --clicks 6 --warmup 1 --repeats 2 --rounds 1 --threads 2 --out $OUT/sam/grabcut
      iseg-bench bench --methods $SAM --protocol published --size 480x854 --frame 480x854 --rules DAVIS \
        --datasets GrabCut --data-root "$DATA" --limit 3 --clicks 6 --warmup 1 --repeats 2 --rounds 1 --threads 2 \
        --out $OUT/sam/davis-sized
      python benchmarks/sam_cost.py $OUT/sam/grabcut $OUT/sam/davis-sized --out reports/efficiency ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done

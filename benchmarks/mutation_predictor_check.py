"""The per-mutant check of one deep family's predictor in mutation testing (benchmarks/mutation_testing.py).

Exit 0 when the family's predictor still behaves as committed, 1 otherwise. It is the fastest subset of
the suite's deep checks that reaches both code paths:

- ritm, emc, focalclick: ``iseg-bench regress`` of the committed baseline
  (``reports/baselines/deep-<family>.json``) on the first Synthetic sample, click by click (engineered
  implementation, published protocol), then the engineered and the official-arithmetic implementations
  compared click by click (``adapters/equivalence.py``, as ``tests/test_implementations.py`` does) on a
  small embedded scene at input size 96, 12 clicks (past FocalClick's switch at 10): the official
  branch (``infer_official``) is only exercised there.
- sam: ``tests/test_sam.py``'s tiny reference model reproduced call by call, both implementations, and
  the bit-exact resize against the official code's recorded outputs (../shared/golden/sam), and the
  two implementations compared click by click through the tiny ViT-B configuration.

    python benchmarks/mutation_predictor_check.py ritm
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANT = {"ritm": "ritm-hrnet18s", "emc": "emc-hrnet18s", "focalclick": "focalclick-hrnet18s-s1"}


def regress(family: str) -> bool:
    from click.testing import CliRunner

    from iseg_bench.cli import main

    r = CliRunner().invoke(main, ["regress", "--baseline", str(ROOT / "reports" / "baselines" / f"deep-{family}.json"),
                                  "--datasets", "Synthetic", "--limit", "1"])
    print(r.output)
    return r.exit_code == 0


def equivalent(family: str) -> bool:
    from iseg_bench import presets
    from iseg_bench.adapters import equivalence, load_predictor
    from iseg_bench.datasets import open_dataset

    name = VARIANT[family]
    s = open_dataset("Synthetic").load(3)
    scale = 160 / s.image.shape[1]
    size = (160, int(round(s.image.shape[0] * scale)))
    small = s.resized(size)
    image, gt = small.image, small.gt
    protocol = presets()[family].replace(max_clicks=12, early_stop="never", untrained_control="own", input_size=96)
    agreement = equivalence.compare_implementations(
        lambda implementation: load_predictor(name, weights="calibrated", implementation=implementation),
        image, gt, protocol, "GrabCut", name)
    failures = agreement.failures()
    print("\n".join(failures) or f"{name}: engineered = official over {len(agreement.clicks)} clicks")
    complete = agreement.forked_at is not None or len(agreement.clicks) == 12
    return not failures and complete


def main() -> int:
    family = sys.argv[1]
    if family == "sam":
        return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                               "tests/test_sam.py", "-k",
                               "resize_is_bit_exact or tiny_reference_model or (click_by_click and vit_b)"],
                              cwd=ROOT).returncode
    for name, check in (("regress", regress), ("equivalence", equivalent)):
        if not check(family):
            print(f"FAILED {name}:{VARIANT[family]}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

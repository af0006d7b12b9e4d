"""How closely our re-implemented networks reproduce the official networks' reference outputs.

../shared/golden holds, for RITM hrnet18s, EMC-Click hrnet18s and FocalClick SegFormer-B0 S2, seeded
weights, inputs, the official predictor's sequence of network calls and the tensors the official code
returned. This script loads those weights into our networks, makes the official calls
(``iseg_bench.adapters.golden``, the same module tests/test_nets.py compares through), and reports
for every compared tensor the max absolute error and the max absolute error relative to the
reference's largest magnitude, beside the tolerance the tests enforce.
Exits 1 when a tensor is outside the tolerance; skips (exit 0, nothing written) without the golden folder.

    python benchmarks/golden_agreement.py [--golden ../shared/golden] [--out reports/faithfulness]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from report_files import REPO, write_report

from iseg_bench.adapters import VARIANTS
from iseg_bench.adapters.golden import GOLDEN_MODELS, MAX_ABS_TOLERANCE, golden_outputs, load_golden


def compare(mine: torch.Tensor, reference: torch.Tensor, float64_spread: float | None) -> dict:
    """Max abs error, that error over the reference's max abs value, and whether it is within the tests' tolerance."""
    row = {"shape": list(reference.shape), "our_shape": list(mine.shape),
           "official_float64_maxabs_diff": float64_spread}
    if mine.shape != reference.shape:
        return {**row, "max_abs_error": None, "max_abs_reference": None, "relative_error": None,
                "within_tolerance": False}
    err = (mine - reference).abs().max().item()
    ref = reference.abs().max().item()
    return {**row, "max_abs_error": err, "max_abs_reference": ref, "relative_error": err / max(ref, 1e-12),
            "within_tolerance": err <= MAX_ABS_TOLERANCE}


def agreement(path: Path, stem: str, variant: str) -> dict:
    """Load the golden weights into our network, make the official calls, and compare every recorded output."""
    g, state = load_golden(path)
    net = VARIANTS[variant].build().eval()
    net.load_state_dict(state)
    got = golden_outputs(net, stem, g)
    spread = g["meta"].get("float64_maxabs_diff", {})
    return {"variant": variant, "official_model_class": g["model_class"], "official_torch": g["torch_version"],
            "outputs": {key: compare(got[key], g["outputs"][key], spread.get(key)) for key in got}}


def fmt(x: float | None) -> str:
    """A small float in scientific notation, or n/a."""
    return "n/a" if x is None else f"{x:.2e}"


def markdown(r: dict) -> str:
    """One table row per compared tensor; errors are in each tensor's own units, as the network returns it."""
    rows = []
    for model, m in r["models"].items():
        for key, o in m["outputs"].items():
            shape = "x".join(map(str, o["shape"])) + ("" if o["our_shape"] == o["shape"] else
                                                      f" (ours {'x'.join(map(str, o['our_shape']))})")
            rows.append(f"| {model} | {key} | {shape} | {fmt(o['max_abs_error'])} | {fmt(o['max_abs_reference'])} | "
                        f"{fmt(o['relative_error'])} | {fmt(o['official_float64_maxabs_diff'])} | "
                        f"{'yes' if o['within_tolerance'] else '**no**'} |")
    missing = f"\n\nGolden files not found, not compared: {', '.join(r['missing'])}." if r["missing"] else ""
    return (f"Golden folder: `{r['golden']}`. Errors are absolute differences in each tensor's own units "
            f"(as the network returns it); relative error = max abs error / max abs reference value "
            f"(dimensionless). The test suite allows a max abs error of {r['tolerance_max_abs']:g} "
            f"(tests/test_nets.py through `iseg_bench.adapters.golden`). The float64 column is how far the "
            f"official code's own float32 result is from the same computation in float64, for scale.\n\n"
            f"| golden model | output | shape | max abs error | max abs reference | relative error | "
            f"official float32 vs float64, max abs | within {r['tolerance_max_abs']:g} |\n"
            f"|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            f"{r['within_tolerance']} of {r['compared']} tensors within the tolerance; largest max abs error "
            f"{fmt(r['worst_max_abs_error'])}." + missing)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--golden", default=str(REPO.parent / "shared" / "golden"), help="folder of the *.golden.pt files")
    ap.add_argument("--out", default=str(REPO / "reports" / "faithfulness"),
                    help="folder for golden_agreement.json/.md")
    args = ap.parse_args()
    golden = Path(args.golden)
    if not golden.is_dir():
        print(f"skipped: golden folder {golden} not found (pass --golden DIR); nothing written")
        return
    models, missing = {}, []
    for stem, (variant, _) in GOLDEN_MODELS.items():
        path = golden / f"{stem}.golden.pt"
        if path.is_file():
            models[stem] = agreement(path, stem, variant)
        else:
            missing.append(path.name)
    rows = [o for m in models.values() for o in m["outputs"].values()]
    errors = [o["max_abs_error"] for o in rows if o["max_abs_error"] is not None]
    results = {"golden": str(golden), "tolerance_max_abs": MAX_ABS_TOLERANCE,
               "relative_error_definition": "max abs error / max abs reference value", "models": models,
               "missing": missing, "compared": len(rows), "within_tolerance": sum(o["within_tolerance"] for o in rows),
               "worst_max_abs_error": max(errors, default=None)}
    for stem, m in models.items():
        print(f"{stem} ({m['variant']}):")
        for key, o in m["outputs"].items():
            print(f"  {key:26s} max abs error {fmt(o['max_abs_error'])}, "
                  f"max abs reference {fmt(o['max_abs_reference'])}, "
                  f"relative {fmt(o['relative_error'])}  {'ok' if o['within_tolerance'] else 'OUTSIDE'} "
                  f"(tolerance {MAX_ABS_TOLERANCE:g})")
    for name in missing:
        print(f"not found, not compared: {golden / name}")
    print(f"{results['within_tolerance']} of {results['compared']} tensors within {MAX_ABS_TOLERANCE:g} (max abs)")
    path = write_report(args.out, "golden_agreement", results, markdown(results), sys.argv)
    print(f"wrote {path} and {path.with_suffix('.md')}")
    if results["within_tolerance"] < results["compared"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

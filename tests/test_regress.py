"""The regression gate: baselines, tolerances, refusals, and the project's own committed baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main

BASELINES = Path(__file__).resolve().parents[1] / "reports" / "baselines"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def baseline(tmp_path) -> Path:
    path = tmp_path / "b.json"
    r = invoke("regress", "--baseline", str(path), "--update", "--methods", "watershed,disk",
               "--datasets", "Synthetic", "--limit", "5")
    assert r.exit_code == 0, r.output
    return path


def test_baseline_records_what_was_run(baseline):
    doc = json.loads(baseline.read_text())
    assert set(doc["methods"]) == {"watershed", "disk"} and doc["limit"] == 5
    assert doc["datasets"]["Synthetic"]["fingerprint"] and doc["protocol"]["name"] == "neutral"
    assert doc["environment"]["cpu"] and doc["results"]["disk"]["Synthetic"]["noc"]["90"] == 20.0


def test_unchanged_code_passes_with_zero_tolerance(baseline):
    r = invoke("regress", "--baseline", str(baseline))
    assert r.exit_code == 0 and "no change beyond tolerance" in r.output


def test_a_moved_number_fails_with_a_diff_table(baseline):
    doc = json.loads(baseline.read_text())
    doc["results"]["watershed"]["Synthetic"]["noc"]["85"] += 0.2
    doc["results"]["watershed"]["Synthetic"]["miou"][0] -= 0.001
    baseline.write_text(json.dumps(doc))
    r = invoke("regress", "--baseline", str(baseline))
    assert r.exit_code == 1 and "REGRESSION" in r.output
    assert "NoC@85" in r.output and "mIoU@1" in r.output and "-0.2" in r.output
    noc_line = next(line for line in r.output.splitlines() if "NoC@85" in line)
    assert noc_line.split()[-1] == "clicks" and "IoU (0-1)" in r.output
    assert invoke("regress", "--baseline", str(baseline), "--tolerance", "noc=0.25,miou=0.002").exit_code == 0


def test_a_declared_mask_score_is_gated_and_an_older_baseline_without_it_still_compares(baseline):
    doc = json.loads(baseline.read_text())
    assert len(doc["results"]["watershed"]["Synthetic"]["mbiou"]) == 20  # written from the declaration
    doc["results"]["watershed"]["Synthetic"]["mbiou"][2] += 0.01
    baseline.write_text(json.dumps(doc))
    r = invoke("regress", "--baseline", str(baseline))
    assert r.exit_code == 1 and "mBIoU@3" in r.output and "Boundary IoU (0-1)" in r.output
    assert invoke("regress", "--baseline", str(baseline), "--tolerance", "mbiou=0.02").exit_code == 0
    for per_dataset in doc["results"].values():
        for result in per_dataset.values():
            del result["mbiou"]  # a baseline made before Boundary IoU was declared
    baseline.write_text(json.dumps(doc))
    r = invoke("regress", "--baseline", str(baseline))
    assert r.exit_code == 0 and "mbiou ±0" in r.output, r.output


@pytest.mark.parametrize("field, value, message", [
    ("protocol_hash", "000000000000", "protocol"),
    ("fingerprint", "ffffffffffffffff", "another copy"),
    ("weights", "weight-free:watershed-v0-x", "other weights"),
])
def test_other_experiments_are_refused_not_compared(baseline, field, value, message):
    doc = json.loads(baseline.read_text())
    if field == "protocol_hash":
        doc["protocol_hash"] = value
    elif field == "fingerprint":
        doc["datasets"]["Synthetic"]["fingerprint"] = value
    else:
        doc["methods"]["watershed"]["weights"] = value
    baseline.write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["regress", "--baseline", str(baseline)])
    assert r.exit_code == 5 and message in r.output and "--update" in r.output


def test_bad_tolerance_and_missing_baseline_are_usage_errors(tmp_path, baseline):
    assert CliRunner().invoke(main, ["regress", "--baseline", str(baseline), "--tolerance", "noc"]).exit_code == 2
    r = CliRunner().invoke(main, ["regress", "--baseline", str(tmp_path / "nope.json")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_a_changed_sample_is_named_with_the_click_where_it_changed(baseline):
    doc = json.loads(baseline.read_text())
    assert doc["format"] == 2 and len(doc["traces"]["watershed"]["Synthetic"]) == 5
    sample, t = next(iter(doc["traces"]["watershed"]["Synthetic"].items()))
    t["clicks"][1][1] += 1  # the baseline's second click one pixel to the right
    other, u = list(doc["traces"]["disk"]["Synthetic"].items())[2]
    u["ious"][0] = 0.123  # and another sample's first IoU
    baseline.write_text(json.dumps(doc))
    r = invoke("regress", "--baseline", str(baseline))
    assert r.exit_code == 1 and "2 samples changed; each at its first changed click" in r.output
    rows = {line.split()[2]: line.split() for line in r.output.splitlines() if line.startswith(("watershed", "disk"))
            and "click" in line.split()}
    assert rows[sample][:6] == ["watershed", "Synthetic", sample, "click", "2", "click"]
    assert rows[other][:6] == ["disk", "Synthetic", other, "click", "1", "IoU"] and "0.123" in rows[other]
    # only aggregates are held to a tolerance; the traces are compared at zero tolerance only
    assert invoke("regress", "--baseline", str(baseline), "--tolerance", "miou=0.1").exit_code == 0


def test_a_part_of_a_baseline_is_checked_on_its_own(baseline):
    r = invoke("regress", "--baseline", str(baseline), "--methods", "disk", "--limit", "2")
    assert r.exit_code == 0 and "the clicks and IoUs of 2 samples" in r.output and "method/dataset" not in r.output
    doc = json.loads(baseline.read_text())
    fourth = list(doc["traces"]["watershed"]["Synthetic"])[3]
    doc["traces"]["watershed"]["Synthetic"][fourth]["ious"][0] = 0.5
    baseline.write_text(json.dumps(doc))
    assert invoke("regress", "--baseline", str(baseline), "--limit", "3").exit_code == 0  # sample 4 is not checked
    assert invoke("regress", "--baseline", str(baseline), "--limit", "4").exit_code == 1
    assert invoke("regress", "--baseline", str(baseline), "--methods", "disk").exit_code == 0
    r = CliRunner().invoke(main, ["regress", "--baseline", str(baseline), "--methods", "grabcut"])
    assert r.exit_code == 2 and "holds no results of grabcut" in r.output
    r = CliRunner().invoke(main, ["regress", "--baseline", str(baseline), "--limit", "2", "--tolerance", "noc=1"])
    assert r.exit_code == 2 and "zero tolerance" in r.output


def test_update_with_methods_makes_a_new_baseline_and_without_them_rewrites_the_same(baseline):
    assert invoke("regress", "--baseline", str(baseline), "--update", "--methods", "disk", "--datasets",
                  "Synthetic", "--limit", "3").exit_code == 0
    doc = json.loads(baseline.read_text())
    assert set(doc["methods"]) == {"disk"} and doc["limit"] == 3 and len(doc["traces"]["disk"]["Synthetic"]) == 3
    assert invoke("regress", "--baseline", str(baseline), "--update").exit_code == 0
    again = json.loads(baseline.read_text())
    assert again["traces"] == doc["traces"] and again["results"] == doc["results"]
    r = CliRunner().invoke(main, ["regress", "--baseline", str(baseline), "--update", "--methods", "disk"])
    assert r.exit_code == 2 and "both --methods and --datasets" in r.output


def test_a_format_1_baseline_is_still_checked_whole_but_not_in_part(baseline):
    doc = json.loads(baseline.read_text())
    doc["format"] = 1
    del doc["traces"], doc["weights_spec"]
    baseline.write_text(json.dumps(doc))
    r = invoke("regress", "--baseline", str(baseline))
    assert r.exit_code == 0 and "clicks and IoUs" not in r.output
    r = CliRunner().invoke(main, ["regress", "--baseline", str(baseline), "--limit", "2"])
    assert r.exit_code == 2 and "format 1" in r.output


def test_committed_synthetic_baseline_holds():
    """CI gate: any change to the clicker, metrics, loaders or methods that moves NoC fails here."""
    r = invoke("regress", "--baseline", str(BASELINES / "classical-synthetic.json"), "--workers", "2")
    assert r.exit_code == 0, r.output


def test_committed_real_data_baseline_holds(shared_datasets):
    r = invoke("regress", "--baseline", str(BASELINES / "classical-real.json"), "--data-root", str(shared_datasets),
               "--workers", "2")
    assert r.exit_code == 0 and "the clicks and IoUs of 48 samples" in r.output, r.output

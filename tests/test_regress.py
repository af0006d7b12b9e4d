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


def test_committed_synthetic_baseline_holds():
    """CI gate: any change to the clicker, metrics, loaders or methods that moves NoC fails here."""
    r = invoke("regress", "--baseline", str(BASELINES / "classical-synthetic.json"), "--workers", "2")
    assert r.exit_code == 0, r.output


def test_committed_real_data_baseline_holds(shared_datasets):
    r = invoke("regress", "--baseline", str(BASELINES / "classical-real.json"), "--data-root", str(shared_datasets),
               "--workers", "2")
    assert r.exit_code == 0, r.output

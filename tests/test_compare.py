"""Paired comparison of two methods: bootstrap intervals, sign test, and the `compare` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats as sps

from iseg_bench import stats
from iseg_bench.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- the statistics -------------------------------------------------------------------------------

def test_mean_ci_matches_the_normal_interval_on_a_large_sample():
    x = np.random.default_rng(3).normal(10.0, 2.0, 4000)
    low, high = stats.mean_ci(x, resamples=4000)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert low < x.mean() < high
    assert abs((high - low) / 2 - half) < 0.08 * half


def test_mean_ci_edge_cases_and_determinism():
    assert stats.mean_ci([20, 20, 20, 20]) == (20.0, 20.0)
    assert all(np.isnan(v) for v in stats.mean_ci([7]))
    x = [1, 3, 2, 8, 5, 1, 1, 20, 4, 6]
    assert stats.mean_ci(x) == stats.mean_ci(x)  # seeded
    narrow, wide = stats.mean_ci(x, level=0.8), stats.mean_ci(x, level=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    assert min(x) <= wide[0] and wide[1] <= max(x)


def test_paired_counts_and_sign_test():
    a = [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
    b = [3, 3, 3, 3, 3, 3, 3, 5, 5, 8]  # B better on 7, tied on 2, worse on 1
    r = stats.paired(a, b)
    assert (r.n, r.b_lower, r.ties, r.b_higher) == (10, 7, 2, 1)
    assert r.diff == pytest.approx(np.mean(b) - np.mean(a))
    assert r.sign_p == pytest.approx(sps.binomtest(7, 8, 0.5).pvalue)
    assert stats.paired(a, a).sign_p == 1.0 and stats.paired(a, a).ci_diff == (0.0, 0.0)
    with pytest.raises(ValueError, match="same samples"):
        stats.paired([1, 2], [1, 2, 3])


def test_pairing_narrows_the_interval_when_methods_find_the_same_samples_hard():
    rng = np.random.default_rng(0)
    hardness = rng.integers(1, 20, 60).astype(float)
    a, b = hardness, hardness + rng.choice([-1.0, 0.0, 0.0], 60)
    r = stats.paired(a, b)
    assert r.ci_diff[1] < 0  # B is reliably better by a fraction of a click ...
    assert r.ci_a[0] < r.mean_b < r.ci_a[1]  # ... though its mean lies inside A's own interval


# --- the command ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "res"
    assert invoke("run", "--methods", "watershed", "--limit", "8", "--out", str(out), "--no-progress").exit_code == 0
    assert invoke("run", "--methods", "disk", "--limit", "6", "--out", str(out), "--no-progress").exit_code == 0
    return out


def test_compare_prints_intervals_counts_and_what_was_left_out(synthetic_results, tmp_path):
    csv = tmp_path / "cmp.csv"
    r = invoke("compare", str(synthetic_results), "disk", "watershed", "--out", str(csv))
    assert r.exit_code == 0, r.output
    assert "NoC@90 (clicks)" in r.output and "watershed - disk [95 % CI]" in r.output
    assert "Synthetic: 0 only by disk, 2 only by watershed" in r.output and "protocol 'neutral'" in r.output
    table = pd.read_csv(csv, comment="#")
    assert list(table.metric) == ["NoC@85", "NoC@90", "NoC@95"] and set(table.paired_samples) == {6}
    assert (table.a_mean == 20).all()  # the floor never reaches 85 %
    assert (table.diff_b_minus_a < 0).all() and (table.samples_b_more == 0).all()
    assert (table.diff_ci_low <= table.diff_b_minus_a).all() and (table.diff_b_minus_a <= table.diff_ci_high).all()
    tex = tmp_path / "cmp.tex"
    assert invoke("compare", str(synthetic_results), "disk", "watershed", "--out", str(tex)).exit_code == 0
    text = tex.read_text()
    assert r"\toprule" in text and r"95 \% CI" in text and "textbackslash" not in text


def test_compare_refuses_bad_arguments_naming_them(synthetic_results, tmp_path):
    r = invoke("compare", str(synthetic_results), "disk", "watershd")
    assert r.exit_code == 2 and "did you mean 'watershed'" in r.output
    assert invoke("compare", str(synthetic_results), "disk", "disk").exit_code == 2
    r = invoke("compare", str(synthetic_results), "disk", "watershed", "--protocol", "emc")
    assert r.exit_code == 2 and "--protocol" in r.output
    r = invoke("compare", str(synthetic_results), "disk", "watershed", "--out", str(tmp_path / "x.docx"))
    assert r.exit_code == 2 and "--out" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("compare", str(empty), "disk", "watershed").exit_code == 4


def test_compare_on_real_grabcut(shared_datasets, tmp_path):
    out = tmp_path / "res"
    r = invoke("run", "--methods", "watershed,disk", "--datasets", "GrabCut", "--data-root", str(shared_datasets),
               "--limit", "12", "--out", str(out), "--no-progress", "--no-report")
    assert r.exit_code == 0, r.output
    csv = tmp_path / "cmp.csv"
    assert invoke("compare", str(out), "disk", "watershed", "--out", str(csv)).exit_code == 0
    table = pd.read_csv(csv, comment="#")
    at85 = table[table.metric == "NoC@85"].iloc[0]
    assert at85.paired_samples == 12 and at85.samples_b_fewer >= 10  # watershed beats the floor on most images
    assert at85.diff_ci_high < 0 and at85.sign_test_p < 0.01


"""Click strategies beyond the robot: their rules, their seeding, the protocol hashes, the records
of several seeds, and the robustness tables built from them."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from iseg_bench import presets, robustness
from iseg_bench.cli import main
from iseg_bench.click_strategies import click_rng, make_clicker, region_of
from iseg_bench.clicker import RobotClicker, distance_to_background
from iseg_bench.protocol import Protocol, ProtocolError
from iseg_bench.records import SampleRecord
from iseg_bench.store import ResultStore

SEEDED = ("jitter", "uniform", "distance", "boundary")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """An object of two blobs (a big square and a small one) and a prediction that covers neither."""
    gt = np.zeros((120, 160), np.int32)
    gt[20:100, 20:100] = 1
    gt[40:50, 120:130] = 1
    return gt, np.zeros(gt.shape, bool)


def _clicks(name: str, seed: int, n: int = 1, **params) -> list[tuple[int, int, bool]]:
    gt, pred = _scene()
    clicker = make_clicker(name, gt, click_rng(seed, "d", "s"), **params)
    out = []
    for _ in range(n):
        c = clicker.next_click(pred)
        out.append((c.y, c.x, c.is_positive))
        pred = pred.copy()
        near = (slice(max(0, c.y - 3), c.y + 4), slice(max(0, c.x - 3), c.x + 4))
        pred[near] = gt[near] == 1  # the user's click fixes the pixels around it
    return out


# -- the protocol ---------------------------------------------------------------------------------

def test_the_robot_protocols_keep_their_hashes():
    """The new clicker fields enter the hash only when set: every stored robot result keeps its key."""
    assert Protocol().hash == "7d7d42d43879"
    assert presets()["neutral"].hash == "7d7d42d43879"
    assert Protocol(clicker="uniform").hash != Protocol().hash
    assert Protocol(clicker="distance", click_exponent=2).hash != Protocol(clicker="distance").hash


def test_a_strategy_refuses_parameters_it_does_not_read_and_unknown_names():
    with pytest.raises(ProtocolError, match="does not use click_spread"):
        Protocol(clicker="robot", click_spread=0.5)
    with pytest.raises(ProtocolError, match="does not use click_exponent"):
        Protocol(clicker="uniform", click_exponent=3)
    with pytest.raises(ProtocolError, match="unknown clicker 'unifrom'"):
        Protocol(clicker="unifrom")
    assert "jitter (spread 0.5)" in Protocol(clicker="jitter", click_spread=0.5).summary()


# -- the rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEEDED)
def test_every_strategy_clicks_inside_the_robots_error_region(name):
    gt, pred = _scene()
    robot = RobotClicker(gt).next_click(pred)
    region = gt == 1
    big = np.zeros_like(region)
    big[20:100, 20:100] = True  # the component holding the robot's point (the centre of the big square)
    assert big[robot.y, robot.x]
    for seed in range(20):
        y, x, positive = _clicks(name, seed)[0]
        assert positive and big[y, x], (name, seed, y, x)


@pytest.mark.parametrize("name", SEEDED)
def test_the_same_seed_gives_the_same_clicks_and_another_seed_others(name):
    assert _clicks(name, 7, n=4) == _clicks(name, 7, n=4)
    assert len({tuple(_clicks(name, s, n=2)) for s in range(6)}) > 1


def test_the_rules_differ_as_documented():
    gt, pred = _scene()
    robot = RobotClicker(gt).next_click(pred)
    dist = distance_to_background(gt == 1)
    radius = float(dist[robot.y, robot.x])
    # boundary: within spread x radius of the region's boundary
    for seed in range(20):
        y, x, _ = _clicks("boundary", seed)[0]
        assert dist[y, x] <= max(1.5, 0.25 * radius)
    # jitter with a tiny spread is the robot; distance with a large exponent stays near the centre
    assert all(_clicks("jitter", s, spread=1e-6)[0][:2] == (robot.y, robot.x) for s in range(5))
    near = [_clicks("distance", s, exponent=40)[0] for s in range(20)]
    assert all(dist[y, x] >= 0.8 * radius for y, x, _ in near)
    uniform = [_clicks("uniform", s)[0] for s in range(200)]
    assert np.mean([dist[y, x] for y, x, _ in uniform]) < np.mean([dist[y, x] for y, x, _ in near])


def test_no_strategy_clicks_a_pixel_twice():
    gt, pred = _scene()
    for name in SEEDED:
        clicker = make_clicker(name, gt, click_rng(0, "d", "s"))
        seen = set()
        for _ in range(15):  # the prediction never changes: every click must find a new pixel
            c = clicker.next_click(pred)
            assert (c.y, c.x) not in seen
            seen.add((c.y, c.x))


def test_region_is_the_component_of_the_robots_point():
    gt, pred = _scene()
    clicker = RobotClicker(gt)
    target = clicker._target(clicker.errors(pred))
    region = region_of(target)
    assert region.sum() == 80 * 80  # the big square only, not the small blob


def test_a_seeded_strategy_needs_a_generator():
    with pytest.raises(ValueError, match="seeded generator"):
        make_clicker("uniform", _scene()[0])


# -- records and runs -----------------------------------------------------------------------------

def test_seeds_are_stored_apart_and_only_seeded_records_take_the_new_format(tmp_path):
    out = tmp_path / "r"
    assert invoke("run", "--methods", "grabcut,disk", "--limit", "3", "--out", str(out), "--clicker", "uniform",
                  "--click-seeds", "3", "--no-progress", "--no-report").exit_code == 0
    records = ResultStore(out).load()
    assert len(records) == 2 * 3 * 3 and len({r.key for r in records}) == 18
    assert {r.seed for r in records} == {0, 1, 2}
    assert {r.format for r in records if r.seed} == {3} and {r.format for r in records if not r.seed} == {2}
    grabcut = {(r.sample_id, r.seed): r.clicks for r in records if r.method == "grabcut"}
    assert len({str(grabcut[("synth-000", s)][0]) for s in range(3)}) > 1  # another user per seed
    with pytest.raises(ValueError, match="newer than this iseg-bench reads"):
        SampleRecord.from_dict({**json.loads(records[0].to_json()), "format": 4})


def test_parallel_and_serial_runs_give_the_same_clicks(tmp_path):
    args = ["--methods", "watershed", "--limit", "3", "--clicker", "distance", "--click-seeds", "2", "--no-progress",
            "--no-report"]
    assert invoke("run", *args, "--out", str(tmp_path / "serial")).exit_code == 0
    assert invoke("run", *args, "--workers", "2", "--out", str(tmp_path / "pool")).exit_code == 0

    def traces(folder):
        return {r.key: (r.clicks, r.ious) for r in ResultStore(folder).load()}

    assert traces(tmp_path / "serial") == traces(tmp_path / "pool")


def test_seeds_with_the_robot_are_refused(tmp_path):
    result = invoke("run", "--methods", "disk", "--limit", "1", "--out", str(tmp_path / "r"), "--click-seeds", "3")
    assert result.exit_code == 2 and "draws nothing" in result.output and not (tmp_path / "r").exists()
    result = invoke("run", "--methods", "disk", "--out", str(tmp_path / "r"), "--clicker", "uniform",
                    "--click-exponent", "2")
    assert result.exit_code == 2 and "does not use click_exponent" in result.output


# -- reports --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def strategies(tmp_path_factory):
    out = tmp_path_factory.mktemp("strategies") / "r"
    common = ["--methods", "grabcut,watershed", "--limit", "4", "--out", str(out), "--no-progress", "--no-report"]
    assert invoke("run", *common).exit_code == 0
    assert invoke("run", *common, "--clicker", "uniform", "--click-seeds", "3").exit_code == 0
    result = invoke("report", str(out), "--html", "--views", "1")
    assert result.exit_code == 0, result.output
    return out


def test_robustness_table_matches_the_records(strategies):
    from iseg_bench import load_results

    frame = load_results(strategies, protocol="neutral-uniform")
    folder = next(p for p in (strategies / "report").iterdir() if p.name.startswith("neutral-uniform"))
    table = (folder / "robustness.md").read_text()
    for method in ("grabcut", "watershed"):
        noc = frame[frame.method == method].pivot_table(index="sample_id", columns="seed", values="noc_90")
        line = next(x for x in table.splitlines() if x.startswith(f"| {method}"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2] == "4 x 3"
        assert cells[6].startswith(f"{noc.to_numpy().mean():.2f} [")
        assert cells[7] == f"{noc.to_numpy().std(axis=1).mean():.2f}"
    assert "needs fewer clicks in" in table and "of 3 seeds" in table
    per_sample = pd.read_csv(folder / "robustness_per_sample.csv")
    assert len(per_sample) == 8 and set(per_sample.seeds) == {3}
    for method in ("grabcut", "watershed"):
        line = next(x for x in table.splitlines() if x.startswith(f"| {method}"))
        sd = per_sample[per_sample.method == method].noc_90_sd.mean()
        assert [c.strip() for c in line.strip("|").split("|")][7] == f"{sd:.2f}"
    summary = json.loads((folder / "summary.json").read_text())
    assert {r["seeds"] for r in summary["results"]} == {3} and {r["samples"] for r in summary["results"]} == {4}


def test_strategies_table_and_plot_sit_beside_the_reports(strategies):
    table = (strategies / "report" / "strategies.md").read_text()
    assert "robot NoC@90" in table and "uniform NoC@90" in table
    assert (strategies / "report" / "strategies.png").stat().st_size > 10_000
    assert "Seeds: robot 1, uniform 3" in table


def test_compare_pairs_by_sample_and_seed(strategies):
    result = invoke("compare", str(strategies), "grabcut", "watershed", "--protocol", "neutral-uniform")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "NoC@90" in x)
    assert line.split("|")[3].strip() == "4"  # four samples, each counted once
    assert "paired by sample and click seed" in result.output


def test_the_html_report_says_which_seed_it_shows(strategies):
    folder = next(p for p in (strategies / "report").iterdir() if p.name.startswith("neutral-uniform"))
    assert "under 3 click seeds" in (folder / "index.html").read_text()
    assert 'id="robustness"' in (folder / "index.html").read_text()
    page = next((folder / "samples").rglob("*.html")).read_text()
    assert "shown here: the clicks and masks of seed 0" in page
    assert "matches the record" in page  # the seeded user re-runs exactly


def test_robustness_doctests():
    assert doctest.testmod(robustness).failed == 0


def test_ranking_flips_and_spread_on_known_numbers():
    a = np.array([[1.0, 5.0, 1.0], [2.0, 6.0, 2.0]])
    b = np.array([[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]])
    assert robustness.ranking_flips(a, b) == (2, 1, 0)
    s = robustness.spread(a, np.ones_like(a) * 0.5)
    assert s.noc == pytest.approx(17 / 6) and s.auc_nsr == 0.0
    assert s.ci[0] < s.noc < s.ci[1]
    assert pd.isna(robustness.grid_ci(a[:1])[0])


def test_a_regression_baseline_under_a_seeded_clicker_keeps_its_seeds(tmp_path):
    spec = tmp_path / "users.json"
    spec.write_text(json.dumps({"name": "users", "clicker": "uniform"}))
    baseline = tmp_path / "base.json"
    common = ["regress", "--baseline", str(baseline), "--protocol", str(spec)]
    result = invoke(*common, "--update", "--methods", "disk,watershed", "--datasets", "Synthetic", "--limit", "2",
                    "--click-seeds", "2")
    assert result.exit_code == 0, result.output
    doc = json.loads(baseline.read_text())
    assert doc["click_seeds"] == 2 and doc["results"]["watershed"]["Synthetic"]["seeds"] == 2
    assert invoke(*common).exit_code == 0  # re-runs both seeds and finds no change
    robot = invoke("regress", "--baseline", str(tmp_path / "robot.json"), "--update", "--methods", "disk",
                   "--datasets", "Synthetic", "--limit", "1", "--click-seeds", "2")
    assert robot.exit_code == 2 and "draws nothing" in robot.output

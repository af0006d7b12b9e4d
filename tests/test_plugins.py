"""Methods, families and datasets from outside iseg-bench: an example plugin package installed with
pip (``tests/plugin_example``) runs through the command line end to end, a Predictor named by import
path runs without being registered, and a new family appears in methods, weights, bench and the
paper tables without any edit of iseg-bench."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from iseg_bench import plugins, presets
from iseg_bench.adapters import FAMILIES, METHODS, VARIANTS, load_predictor, register_family, unregister_family
from iseg_bench.adapters.family import Family, Variant, WeightsSpec
from iseg_bench.protocol import Protocol, resolve_protocol
from iseg_bench.registry import UnknownNameError

PLUGIN = Path(__file__).parent / "plugin_example"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """The example plugin pip-installed into a folder of its own (put on PYTHONPATH by the tests)."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PLUGIN, work / "source")  # pip builds in the tree: not in the checkout
    target = work / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--no-build-isolation", "--target", str(target), str(source)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list(target.glob("iseg_bench_example_plugin-*.dist-info/entry_points.txt"))
    return target


def cli(args: list[str], pythonpath: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(pythonpath), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "iseg_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for f in sorted((out / "records").rglob("*.jsonl")) for line in f.read_text().splitlines()]


def test_installed_plugin_is_listed_and_runs_end_to_end(plugin_path, tmp_path):
    listed = cli(["methods"], plugin_path, tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert "plugin iseg-bench-example-plugin 0.1.0" in lines["tiny-small"] and "tiny" in lines["tiny-small"]
    assert "plugin iseg-bench-example-plugin 0.1.0" in lines["colour-distance"]
    assert "tiny-wide" in lines and "plugin" not in lines["emc-hrnet18s"]
    weights = cli(["weights"], plugin_path, tmp_path)
    assert "tiny_small.pth" in weights.stdout and "tiny_wide.pth" in weights.stdout
    assert "Discs" in cli(["datasets"], plugin_path, tmp_path).stdout

    out = tmp_path / "res"
    r = cli(["run", "--methods", "tiny,colour-distance", "--datasets", "Discs", "--protocol", "tiny",
             "--out", str(out), "--no-progress"], plugin_path, tmp_path)
    assert r.returncode == 0, r.stderr
    got = records(out)
    assert {(g["method"], g["dataset"]) for g in got} == {("tiny-small", "Discs"), ("colour-distance", "Discs")}
    assert len(got) == 12 and all(g["status"] == "ok" and g["timed"] for g in got)
    assert all(g["protocol"] == resolve_protocol_hash(plugin_path, tmp_path) for g in got)
    colour = [g for g in got if g["method"] == "colour-distance"]
    assert max(g["ious"][-1] for g in colour) > 0.9  # a real method on real (generated) data
    table = (out / "report" / "results.md").read_text()
    assert "tiny-small (untrained)" in table and "colour-distance" in table and "UNTRAINED" in table


def resolve_protocol_hash(plugin_path: Path, cwd: Path) -> str:
    """The hash of the plugin's own preset, as a fresh process with the plugin installed sees it."""
    code = "import iseg_bench; print(iseg_bench.presets()['tiny'].hash)"
    env = dict(os.environ, PYTHONPATH=str(plugin_path))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd).stdout.strip()


def test_plugin_methods_load_in_pool_workers(plugin_path, tmp_path):
    out = tmp_path / "pool"
    r = cli(["run", "--methods", "tiny-wide,colour-distance", "--datasets", "Discs", "--limit", "2",
             "--workers", "2", "--out", str(out), "--no-progress", "--no-report"], plugin_path, tmp_path)
    assert r.returncode == 0, r.stderr
    got = records(out)
    assert len(got) == 4 and all(g["status"] == "ok" and not g["timed"] for g in got)


def test_a_predictor_by_import_path_runs_without_registration(tmp_path):
    (tmp_path / "my_methods.py").write_text(
        "import numpy as np\n"
        "from iseg_bench import MethodInfo, Predictor\n"
        "class Brighter(Predictor):\n"
        "    '''Pixels brighter than the image mean.'''\n"
        "    name = 'brighter'\n"
        "    def set_image(self, image):\n"
        "        self.grey = image.mean(axis=2)\n"
        "    def predict(self, clicks, prev_mask):\n"
        "        return (self.grey > self.grey.mean()).astype(np.float32)\n"
        "    def describe(self):\n"
        "        return MethodInfo(name=self.name, family='mine', weights='brighter:v1', trained=None)\n")
    for workers in ("1", "2"):
        out = tmp_path / f"res{workers}"
        r = cli(["run", "--methods", "my_methods:Brighter,disk", "--limit", "2", "--workers", workers,
                 "--out", str(out), "--no-progress", "--no-report"], tmp_path, tmp_path)
        assert r.returncode == 0, r.stderr
        assert {g["method"] for g in records(out)} == {"brighter", "disk"} and len(records(out)) == 4
    r = cli(["run", "--methods", "my_methods:Nothing", "--limit", "1", "--out", str(tmp_path / "x")],
            tmp_path, tmp_path)
    assert r.returncode == 2 and "cannot be imported" in r.stderr and "my_methods:Nothing" in r.stderr


def test_a_new_family_appears_in_methods_weights_bench_and_paper_tables(plugin_path, tmp_path):
    out = tmp_path / "res"
    bench = cli(["bench", "--methods", "tiny", "--datasets", "Discs", "--size", "48", "--limit", "1",
                 "--clicks", "2", "--warmup", "0", "--repeats", "1", "--rounds", "1", "--threads", "1",
                 "--out", str(out)], plugin_path, tmp_path)
    assert bench.returncode == 0, bench.stderr
    assert "tiny-small (untrained)" in bench.stdout
    stored = json.loads(next((out / "bench").glob("tiny-small.*.json")).read_text())
    assert stored["protocol"]["name"] == "tiny"  # 'published' is the family's own preset
    assert [p["phase"] for p in stored["phases"]] == ["first", "later"] and stored["phases"][0]["flops"]["gmacs"] > 0
    run = cli(["run", "--methods", "tiny", "--datasets", "Discs", "--limit", "2", "--out", str(out),
               "--no-progress"], plugin_path, tmp_path)
    assert run.returncode == 0, run.stderr
    tables = cli(["paper-tables", str(out), "--out", str(tmp_path / "paper")], plugin_path, tmp_path)
    assert tables.returncode == 0, tables.stderr
    table1 = (tmp_path / "paper" / "table1.md").read_text()
    assert "| (not in the paper's table) | tiny-small (untrained), first click" in table1
    assert "| (not in the paper's table) | tiny-small (untrained), later click" in table1
    assert "| RITM-hrnet18s " in table1  # every paper row stays
    table3 = (tmp_path / "paper" / "table3.md").read_text()
    assert "| (not in the paper's table) | –" in table3 and "tiny-small (untrained)" in table3


def tiny_family(name: str = "tinytest") -> Family:
    variant = Variant(f"{name}-a", "test variant", "iseg_example_plugin.network:TinyNet", (4,),
                      WeightsSpec("a.pth", "nowhere", "1 KB"))
    return Family(name, "a test family", "iseg_example_plugin.predictor:TinyPredictor", f"{name}-a", (variant,),
                  Protocol(name=name, prob_threshold=0.4))


def test_register_family_adds_methods_alias_and_preset_and_unregisters_cleanly(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN))
    register_family(tiny_family())
    try:
        assert METHODS.canonical("tinytest") == "tinytest-a" and "tinytest-a" in VARIANTS
        assert presets()["tinytest"].prob_threshold == 0.4 and resolve_protocol("tinytest").name == "tinytest"
        predictor = load_predictor("tinytest", device="cpu")
        assert predictor.describe().family == "tinytest" and predictor.describe().trained is False
        with pytest.raises(ValueError, match="registered twice"):
            register_family(tiny_family())
    finally:
        unregister_family("tinytest")
    assert "tinytest" not in FAMILIES and "tinytest-a" not in METHODS and "tinytest" not in presets()


def test_a_family_registered_at_run_time_reaches_pool_workers(monkeypatch, tmp_path):
    """Pool workers start fresh: the run carries the family's declaration (plain data) to them."""
    from iseg_bench.runner import RunPlan, run

    monkeypatch.syspath_prepend(str(PLUGIN))  # the network and predictor modules; not installed
    register_family(tiny_family())
    try:
        outcome = run(RunPlan(methods=("tinytest",), datasets=("Synthetic",), protocol=Protocol(max_clicks=3),
                              out=tmp_path, limit=2, executor="process", workers=2))
    finally:
        unregister_family("tinytest")
    assert outcome.counts["ok"] == 2 and not outcome.not_loaded and not outcome.errors


def test_family_declarations_are_checked():
    variant = tiny_family().variants[0]
    with pytest.raises(ValueError, match="default 'x' is not one of its variants"):
        Family("f", "", "m:P", "x", (variant,))
    with pytest.raises(ValueError, match="must be named after it"):
        Family("f", "", "m:P", variant.name, (variant,), Protocol(name="other"))


def test_a_broken_plugin_is_reported_and_skipped(monkeypatch, capsys):
    good = EntryPoint("fine", "iseg_bench.adapters.classical.disk:DiskPredictor", plugins.METHODS_GROUP)
    bad = EntryPoint("broken", "no_such_module:Thing", plugins.METHODS_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [bad, good] if group == plugins.METHODS_GROUP else [])
    loaded = []

    def register(ep):
        ep.load()
        loaded.append(ep.name)

    problems = plugins.load_group(plugins.METHODS_GROUP, register)
    assert loaded == ["fine"] and len(problems) == 1
    assert "plugin 'broken'" in capsys.readouterr().err and "ModuleNotFoundError" in problems[0]


def test_import_paths_name_what_is_wrong():
    with pytest.raises(UnknownNameError, match="cannot be imported"):
        METHODS.entry("iseg_bench.nothing_here:Predictor")
    with pytest.raises(TypeError, match="not a subclass of iseg_bench.Predictor"):
        load_predictor("iseg_bench.protocol:Protocol")
    METHODS.unregister("iseg_bench.protocol:Protocol")

"""End to end through the command line: run, resume, report, errors and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from layouts import write_paired

from iseg_bench.cli import main
from iseg_bench.store import ResultStore


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def results(out: Path) -> list[dict]:
    data = json.loads((out / "report" / "summary.json").read_text())
    return data["results"]


def test_run_writes_records_tables_plots_and_summary(tmp_path):
    out = tmp_path / "res"
    r = invoke("run", "--methods", "disk,watershed", "--limit", "4", "--out", str(out), "--no-progress")
    assert r.exit_code == 0, r.output
    assert "Synthetic NoC@85" in r.output and "protocol 'neutral'" in r.output
    report = out / "report"
    for name in ("table3.md", "table3.tex", "results.md", "results.tex", "results.csv", "per_sample.csv",
                 "summary.json", "miou_Synthetic.png", "noc.png"):
        assert (report / name).stat().st_size > 0, name
    assert len(ResultStore(out).load()) == 8
    rows = results(out)
    assert [r["method"] for r in rows] == ["disk", "watershed"]
    assert all(r["samples"] == 4 and r["status"] == "weight-free" for r in rows)
    tex = (report / "table3.tex").read_text()
    assert r"\multicolumn{3}{c}{Synthetic}" in tex and "protocol 'neutral'" in tex
    detail = (report / "results.tex").read_text()
    assert r"mIoU@1 (\%)" in detail and "textbackslash" not in detail  # escaped once, not twice
    csv = (report / "results.csv").read_text().splitlines()[0]
    assert "noc_90_clicks" in csv and "time_90_s" in csv and "spc_s" in csv
    per_sample = pd.read_csv(report / "per_sample.csv")
    assert len(per_sample) == 8 and set(per_sample.status) == {"ok"}
    means = per_sample.groupby("method").noc_85.mean()
    assert all(means[row["method"]] == row["noc"]["85"] for row in rows)  # the table's NoC is their mean


def test_rerun_skips_finished_samples_and_resume_is_bit_identical(tmp_path):
    full, resumed = tmp_path / "full", tmp_path / "resumed"
    assert invoke("run", "--methods", "watershed", "--limit", "6", "--out", str(full)).exit_code == 0
    assert invoke("run", "--methods", "watershed", "--limit", "2", "--out", str(resumed)).exit_code == 0
    r = invoke("run", "--methods", "watershed", "--limit", "6", "--out", str(resumed))
    assert "4 samples evaluated (0 failed), 2 already in" in r.output
    again = invoke("run", "--methods", "watershed", "--limit", "6", "--out", str(resumed))
    assert "0 samples evaluated (0 failed), 6 already in" in again.output

    def strip(rows):
        return [{k: v for k, v in row.items() if k not in ("spc_s", "first_click_s", "later_click_s", "time_s", "load")}
                for row in rows]

    assert strip(results(full)) == strip(results(resumed))
    assert [r.ious for r in ResultStore(full).load()] == [r.ious for r in ResultStore(resumed).load()]


def test_report_rerenders_from_records(tmp_path):
    out = tmp_path / "res"
    invoke("run", "--methods", "disk", "--limit", "3", "--out", str(out))
    before = (out / "report" / "table3.md").read_text()
    (out / "report" / "table3.md").unlink()
    r = invoke("report", str(out))
    assert r.exit_code == 0 and (out / "report" / "table3.md").read_text() == before


def test_several_protocols_get_separate_reports(tmp_path):
    out = tmp_path / "res"
    invoke("run", "--methods", "disk", "--limit", "2", "--out", str(out))
    invoke("run", "--methods", "disk", "--limit", "2", "--out", str(out), "--protocol", "ritm")
    subdirs = sorted(p.name for p in (out / "report").iterdir() if p.is_dir())
    assert len(subdirs) == 2 and subdirs[1].startswith("ritm-")


@pytest.mark.parametrize("args, hint", [
    (["--methods", "grabcat"], "did you mean 'grabcut'"),
    (["--datasets", "Berkley"], "did you mean 'Berkeley'"),
    (["--datasets", "GrabCut"], "needs a data root"),
    (["--protocol", "emcc"], "did you mean 'emc'"),
    (["--limit", "0"], "--limit"),
])
def test_bad_names_fail_fast_with_exit_code_2(tmp_path, args, hint):
    r = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2 and hint in r.output
    assert not (tmp_path / "o" / "records").exists()


def test_failed_samples_are_recorded_counted_and_exit_3(tmp_path, register_method):
    register_method("raises", "helpers:RaisesAtThirdClick")
    root = write_paired(tmp_path / "data" / "Berkeley", "images", "masks",
                        {"a": (".jpg", ".png"), "b": (".jpg", ".png"), "c": (".jpg", ".png")})
    (root / "images" / "b.jpg").write_bytes(b"garbage")
    out = tmp_path / "res"
    r = invoke("run", "--methods", "raises,disk", "--datasets", "Berkeley", "--data-root",
               str(tmp_path / "data"), "--out", str(out))
    assert r.exit_code == 3
    assert "cannot decode image file" in r.output and "RuntimeError: boom" in r.output
    rows = {row["method"]: row for row in results(out)}
    assert rows["raises"]["data_errors"] == 1 and rows["raises"]["method_errors"] == 2
    assert rows["raises"]["samples"] == 2 and rows["raises"]["noc"]["85"] == 20.0
    assert rows["disk"]["data_errors"] == 1 and rows["disk"]["method_errors"] == 0
    assert "Failed samples: raises on Berkeley: 1 data / 2 method errors" in (out / "report" / "table3.md").read_text()


def test_untrained_methods_are_labelled_everywhere(tmp_path, register_method):
    register_method("untrained-net", "helpers:Untrained")
    out = tmp_path / "res"
    r = invoke("run", "--methods", "untrained-net", "--limit", "2", "--out", str(out))
    assert "UNTRAINED weights" in r.output
    assert "untrained-net (untrained)" in (out / "report" / "table3.md").read_text()
    assert "UNTRAINED" in (out / "report" / "results.tex").read_text()
    assert results(out)[0]["status"] == "UNTRAINED"


def test_list_commands(tmp_path):
    assert "grabcut" in invoke("methods").output
    write_paired(tmp_path / "GrabCut", "data_GT", "boundary_GT", {"x": (".jpg", ".bmp")})
    out = invoke("datasets", "--data-root", str(tmp_path)).output
    assert "found at" in out and "missing:" in out and "embedded" in out


def test_a_killed_run_keeps_finished_samples_and_resumes(tmp_path):
    """SIGKILL mid-run: every finished record survives, and resuming gives the uninterrupted result."""
    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "grabcut", "--limit", "5",
                "--out", str(out), "--no-report", "--no-progress"]

    out = tmp_path / "killed"
    proc = subprocess.Popen(command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    records = out / "records" / "grabcut" / "Synthetic.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not records.exists() or records.read_text().count("\n") < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = ResultStore(out).load()
    assert 2 <= len(kept) < 5
    subprocess.run(command(out), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resumed = ResultStore(out).load()
    assert len(resumed) == 5 and {r.key for r in kept} <= {r.key for r in resumed}
    reference = tmp_path / "reference"
    subprocess.run(command(reference), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    by_key = {r.key: r.ious for r in ResultStore(reference).load()}
    assert {r.key: r.ious for r in resumed} == by_key


def test_real_datasets_end_to_end(tmp_path, shared_datasets):
    out = tmp_path / "res"
    protocol = tmp_path / "short.json"
    protocol.write_text(json.dumps({"max_clicks": 5, "iou_thresholds": [0.85, 0.9]}))
    r = invoke("run", "--methods", "grabcut,watershed,disk", "--datasets", "GrabCut,Berkeley",
               "--data-root", str(shared_datasets), "--limit", "2", "--out", str(out), "--protocol", str(protocol))
    assert r.exit_code == 0, r.output
    assert "protocol 'short'" in r.output and "5 clicks max" in r.output
    rows = results(out)
    assert len(rows) == 6 and all(row["samples"] == 2 for row in rows)
    grabcut = next(row for row in rows if row["method"] == "grabcut" and row["dataset"] == "GrabCut")
    disk = next(row for row in rows if row["method"] == "disk" and row["dataset"] == "GrabCut")
    assert grabcut["noc"]["90"] < disk["noc"]["90"]


def test_package_list_covers_every_subpackage():
    """Non-editable installs only ship the packages pyproject names (folders map into iseg_bench)."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = {v: k for k, v in config["package-dir"].items()}
    found = set()
    for top in mapping:
        for init in (root / top).rglob("__init__.py"):
            rel = init.parent.relative_to(root / top).parts
            found.add(".".join([mapping[top], *rel]))
    assert found == listed



def test_reference_format_text_table(tmp_path):
    """../shared/reference/protocol.md §8 case 16: the header and number formats of the reference logs."""
    out = tmp_path / "res"
    invoke("run", "--methods", "disk", "--limit", "2", "--out", str(out), "--protocol", "ritm")
    lines = (out / "report" / "results_reference_format.txt").read_text().splitlines()
    header = "|  BRS Type   |  Dataset  | NoC@80% | NoC@85% | NoC@90% |>=20@85% |>=20@90% | SPC,s |  Time   |"
    assert header in lines
    row = next(line for line in lines if line.startswith("|    disk"))
    assert row == f"|{'disk':^13}|{'Synthetic':^11}|{20.0:^9.2f}|{20.0:^9.2f}|{20.0:^9.2f}|{2:^9}|{2:^9}" + row[-19:]
    assert len(row) == len(header)


def test_a_method_that_cannot_load_does_not_stop_the_others(tmp_path, register_method):
    register_method("cannot-load", "helpers:CannotLoad")
    out = tmp_path / "res"
    r = invoke("run", "--methods", "cannot-load,disk", "--limit", "2", "--out", str(out))
    assert r.exit_code == 3
    assert "method not loaded: cannot-load: OSError: weights file not found" in r.output
    assert [row["method"] for row in results(out)] == ["disk"]


def test_installed_package_claims_no_generic_top_level_names(tmp_path):
    """`adapters` and `datasets` live inside the iseg_bench namespace, never at the top level."""
    import iseg_bench.adapters
    import iseg_bench.datasets

    root = Path(__file__).resolve().parents[1]
    assert Path(iseg_bench.adapters.__file__).parent == root / "adapters"
    assert Path(iseg_bench.datasets.__file__).parent == root / "datasets"
    probe = ("import importlib.util as u; "
             "print([getattr(u.find_spec(n), 'origin', None) for n in ('adapters', 'datasets')])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert str(root) not in out.stdout, out.stdout  # from outside the checkout, neither name is ours


def test_a_bad_checkpoint_costs_its_method_only(tmp_path):
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"PK\x03\x04 truncated")
    out = tmp_path / "res"
    r = invoke("run", "--methods", "ritm,disk", "--limit", "1", "--out", str(out), "--weights", str(bad))
    assert r.exit_code == 3
    assert "method not loaded: ritm: WeightsError" in r.output and "not a readable PyTorch checkpoint" in r.output
    assert [row["method"] for row in results(out)] == ["disk"]


def test_weights_command_says_whether_a_file_reads_and_fits(tmp_path):
    import torch

    from iseg_bench.adapters import VARIANTS

    state = VARIANTS["ritm-hrnet18s"].build().state_dict()
    torch.save({"state_dict": state}, tmp_path / "ritm-hrnet18s.pth")
    torch.save({"state_dict": state}, tmp_path / "emc-hrnet18s.pth")  # another variant's network
    good = tmp_path / "focalclick-segformer-b0-s1.pth"
    torch.save({"state_dict": VARIANTS["focalclick-segformer-b0-s1"].build().state_dict()}, good)
    truncated = tmp_path / "segformerB0_S2_cclvs.pth"  # found under its official name, but cut short
    truncated.write_bytes(good.read_bytes()[:4000])
    r = invoke("weights", "--weights", str(tmp_path))
    assert r.exit_code == 0, r.output
    lines = {line.split()[0]: line for line in r.output.splitlines() if line.split()}
    assert "user checkpoint (reads, fits" in lines["ritm-hrnet18s"]
    assert "unusable" in lines["emc-hrnet18s"] and "does not fit" in r.output
    assert "unusable" in lines["focalclick-segformer-b0-s2"] and "not a readable" in r.output
    assert "missing" in lines["emc-hrnet32"]


def test_one_checkpoint_file_for_two_deep_methods_is_refused(tmp_path):
    path = tmp_path / "some.pth"
    path.write_bytes(b"x")
    r = invoke("run", "--methods", "emc,ritm,disk", "--weights", str(path), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "one checkpoint file but 2 methods load weights" in r.output
    r = invoke("bench", "--methods", "emc,ritm", "--weights", str(path), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "give a folder" in r.output


def test_both_implementations_are_stored_apart_and_labelled(tmp_path):
    out = tmp_path / "res"
    for implementation in ("official", "engineered"):
        r = invoke("run", "--methods", "focalclick-segformer-b0-s1", "--limit", "1", "--out", str(out),
                   "--implementation", implementation, "--untrained-control", "gt-degraded")
        assert r.exit_code == 0, r.output
    records = list(ResultStore(out).load())
    assert sorted(rec.implementation for rec in records) == ["", "official"]  # the default is stored as ""
    assert len({rec.key for rec in records}) == 2
    table = (out / "report" / "results.md").read_text()
    assert "focalclick-segformer-b0-s1 [official arithmetic] (untrained)" in table
    assert "| focalclick-segformer-b0-s1 (untrained)" in table and "steered by gt-degraded masks" in table
    manifest = json.loads((out / "manifest.json").read_text())
    assert {m["implementation"] for m in manifest["methods"].values()} == {"official", "engineered"}


def test_help_lists_whole_command_descriptions_and_the_exit_codes():
    out = CliRunner().invoke(main, ["--help"]).output
    commands, flat = out.split("Commands:")[1], " ".join(out.split())
    assert "..." not in commands and "(is the difference more than the noise of a small benchmark?)" in flat
    assert "Exit codes: 0 success; 1 regress found a change beyond tolerance" in " ".join(out.split())


def test_report_into_an_unwritable_folder_is_a_store_error(tmp_path):
    out = tmp_path / "res"
    assert CliRunner().invoke(main, ["run", "--methods", "disk", "--limit", "1", "--out", str(out),
                                     "--no-report"]).exit_code == 0
    (out / "report").write_text("a file where the report folder goes")  # unwritable for root too
    r = CliRunner().invoke(main, ["report", str(out)])
    assert r.exit_code == 4 and "cannot write the report into" in r.output and str(out / "report") in r.output


def test_manifest_gets_the_mode_of_the_records(tmp_path):
    import stat

    out = tmp_path / "res"
    assert CliRunner().invoke(main, ["run", "--methods", "disk", "--limit", "1", "--out", str(out),
                                     "--no-report"]).exit_code == 0
    record = next((out / "records").rglob("*.jsonl"))
    assert stat.S_IMODE((out / "manifest.json").stat().st_mode) == stat.S_IMODE(record.stat().st_mode)


def test_every_option_of_every_command_has_help():
    import click

    ctx = click.Context(main)
    commands = {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}
    assert "bench" in commands and "paper-tables" in commands
    bare = [f"{name} {'/'.join(param.opts)}" for name, command in commands.items() if command is not None
            for param in command.params if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert bare == []
    paper = CliRunner().invoke(main, ["paper-tables", "--help"]).output
    assert "[default: RESULTS_DIR/paper]" in " ".join(paper.split())


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path):
    """A log (stderr piped) gets plain lines: the start, then per interval (0 here: every sample) the
    count, share, rate and each method and dataset's count, and the end."""
    import re

    from iseg_bench.cli import PROGRESS_INTERVAL_ENV

    out = tmp_path / "res"
    proc = subprocess.run([sys.executable, "-m", "iseg_bench.cli", "run", "--methods", "disk,watershed", "--limit",
                           "3", "--out", str(out), "--no-report"], capture_output=True, text=True,
                          env=dict(os.environ, **{PROGRESS_INTERVAL_ENV: "0"}))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("progress: ")]
    assert lines[0] == "progress: 6 samples to evaluate (inline)"
    counts = [int(m.group(1)) for m in (re.match(r"progress: (\d)/6 samples \(\d+ %\), [\d.]+ samples/s, ", line)
                                        for line in lines[1:]) if m]
    assert counts == [1, 2, 3, 4, 5, 6] and len(lines) == 7
    assert "disk on Synthetic 3/3 done, watershed on Synthetic 0/3" in lines[3]
    assert lines[-1].startswith("progress: 6/6 samples (100 %)") and "done in " in lines[-1]
    assert lines[-1].endswith("disk on Synthetic 3/3 done, watershed on Synthetic 3/3 done")


def test_progress_log_writes_a_line_per_interval_and_at_the_end():
    from iseg_bench.cli import ProgressLog
    from iseg_bench.records import SampleRecord

    now, lines = [0.0], []
    log = ProgressLog("inline", 10.0, clock=lambda: now[0], write=lines.append)
    log({("a", "D"): 2, ("b", "D"): 2}, None)
    assert lines == ["progress: 4 samples to evaluate (inline)"]
    for t, method in ((4.0, "a"), (12.0, "a"), (15.0, "b"), (40.0, "b")):
        now[0] = t
        log({("a", "D"): 2, ("b", "D"): 2}, SampleRecord(method, "w", "D", "fp", f"{method}{t}", "p"))
    assert lines[1:] == [  # none at 4 s and 15 s (within 10 s of the last line); the last sample always
        "progress: 2/4 samples (50 %), 0.167 samples/s, ~12 s left; a on D 2/2 done, b on D 0/2",
        "progress: 4/4 samples (100 %), 0.1 samples/s, done in 40 s; a on D 2/2 done, b on D 2/2 done"]


def test_progress_is_a_bar_on_a_terminal_and_lines_in_a_log(monkeypatch):
    from iseg_bench import cli

    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setattr(sys, "stderr", Stream(True))
    assert isinstance(cli.show_progress(True, "inline"), cli.ProgressBar)
    assert cli.show_progress(False, "inline") is None
    monkeypatch.setattr(sys, "stderr", Stream(False))
    log = cli.show_progress(True, "inline")
    assert isinstance(log, cli.ProgressLog) and log.interval == cli.PROGRESS_INTERVAL_S
    monkeypatch.setenv(cli.PROGRESS_INTERVAL_ENV, "2.5")
    assert cli.show_progress(True, "inline").interval == 2.5

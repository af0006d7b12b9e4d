"""Mutation testing of the core modules and one predictor per deep family (issue 19), with Cosmic Ray.

Cosmic Ray mutates the source file in place and runs a test command per mutant, so the file it mutates
is the one the editable install imports (``adapters/`` is mapped to ``iseg_bench.adapters`` by
setuptools' package-dir: mutmut's ``mutants/`` copy would not be imported). Every mutated file is
restored by Cosmic Ray after each mutant and, whatever happens, by this script when it ends.

Usage (from the repository root, with the project installed editable)::

    python benchmarks/mutation_testing.py run [TARGET ...]    # init + baseline + exec, then write the results
    python benchmarks/mutation_testing.py resume [TARGET ...] # finish a stopped first run (its pending mutants)
    python benchmarks/mutation_testing.py rerun [TARGET ...]  # re-run only the survivors (after new tests)
    python benchmarks/mutation_testing.py report              # reports/mutation/mutation.md from the results

To reproduce the committed report (``reports/mutation/mutation.md``), from a clean checkout::

    python -m venv .venv && .venv/bin/pip install -e '.[test]' cosmic-ray==8.7.0
    git status --short                  # no modified file under iseg_bench/ or adapters/: Cosmic Ray mutates in place
    .venv/bin/python benchmarks/mutation_testing.py run protocol metrics clicker summary store ritm emc focalclick sam
    .venv/bin/python benchmarks/mutation_testing.py rerun   # the survivors again, the tests added for them first
    git status --short                  # again: every mutated file must be back as committed

``run`` measures each target's unmutated test command first and refuses to start if it fails or if the
target differs from HEAD; a run stopped midway is finished with ``resume`` (the session keeps every result).
The first run here took about an hour on two shared cores (run under ``nice -n 10``); the predictors'
mutants take longest. Timeouts (4 x the unmutated run, at least 30 s) count as killed.

Work files (Cosmic Ray's configs and session databases) go to ``build/mutation/`` (git-ignored); the raw
per-mutant results to ``reports/mutation/results.json`` and the report to ``reports/mutation/mutation.md``,
whose verdict column comes from ``reports/mutation/verdicts.json`` (prose: why a survivor is equivalent, or
the test that kills it). Nothing here is collected by pytest or run by CI.

Operators: Cosmic Ray's core operators, with the binary and comparison replacements limited to the
meaningful ones (each arithmetic operator to its inverse, bitwise to bitwise, comparisons among
themselves, ``is`` <-> ``is not``): replacing ``+`` by ``<<`` or ``==`` by ``is`` yields type errors or
identity quirks, not questions about the tests. Predictors are sampled: their test commands run deep
networks (tens of seconds per mutant), so ``SAMPLE`` mutants per family are drawn deterministically --
the ones with the smallest sha256 of ``path:operator:occurrence``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
OUT = ROOT / "reports" / "mutation"
PYTEST = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -o addopts="
CHECK = f"{sys.executable} benchmarks/mutation_predictor_check.py"

# slow tests left out of the per-mutant commands (each is an end-to-end run that takes 5-60 s)
SLOW_STRATEGIES = ("not robustness_table and not strategies_table and not compare_pairs and not html_report_says "
                   "and not seeds_are_stored and not parallel_and_serial and not regression_baseline")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    tests: tuple[str, ...]  # the suite's test files that exercise the module (the first run)
    added: tuple[str, ...] = ()  # the test files this work added for its survivors (the re-run adds them)
    select: str = ""  # pytest -k expression
    command: str = ""  # a non-pytest command instead of tests
    sample: int | None = None  # mutants drawn per file (None: all)

    def test_command(self, rerun: bool = False) -> str:
        if self.command and rerun and self.added:  # the new tests, then the check (Cosmic Ray runs no shell)
            k = f" -k {shlex.quote(self.select)}" if self.select else ""
            tests = f"{PYTEST} {' '.join(self.added)}{k}"
            return f"bash -c {shlex.quote(f'{tests} && {self.command}')}"
        if self.command:
            return self.command
        files = [*(self.added if rerun else ()), *self.tests]  # the new tests first: -x stops at the first failure
        k = f" -k '{self.select}'" if self.select else ""
        return f"{PYTEST} {' '.join(files)}{k}"


TARGETS = [
    Target("protocol", "iseg_bench/protocol.py", ("tests/test_protocol.py", "tests/test_strategies.py"),
           ("tests/test_protocol_rules.py",), select=SLOW_STRATEGIES),
    Target("metrics", "iseg_bench/metrics.py", ("tests/test_metrics.py", "tests/test_evaluation.py"),
           ("tests/test_metrics_edges.py",)),
    Target("clicker", "iseg_bench/clicker.py", ("tests/test_clicker.py", "tests/test_strategies.py"),
           ("tests/test_clicker_rules.py",), select=SLOW_STRATEGIES),
    # the summary's numbers are checked end to end by the CLI's fast runs (the first run), and by
    # tests/test_summary.py on hand-made records (the re-run; "test_summary" selects that whole file)
    Target("summary", "iseg_bench/summary.py", ("tests/test_cli.py",), ("tests/test_summary.py",),
           select="test_summary or run_writes_records or failed_samples or reference_format or several_protocols"),
    Target("store", "iseg_bench/store.py", ("tests/test_store.py", "tests/test_writer_lock.py"),
           ("tests/test_store_rules.py",),
           select="not two_runs and not pool_workers and not torn_last_line and not wait_waits "
                  "and not readers_take and not killed_process"),
    Target("ritm", "adapters/ritm/predictor.py", (), ("tests/test_predictor_settings.py",), select="ritm",
           command=f"{CHECK} ritm", sample=8),
    Target("emc", "adapters/emc/predictor.py", (), ("tests/test_predictor_settings.py",), select="emc",
           command=f"{CHECK} emc", sample=8),
    Target("focalclick", "adapters/focalclick/predictor.py", (), ("tests/test_predictor_settings.py",),
           select="focalclick", command=f"{CHECK} focalclick", sample=8),
    Target("sam", "adapters/sam/predictor.py", (), ("tests/test_predictor_settings.py",), select="sam",
           command=f"{CHECK} sam", sample=8),
]
BY_NAME = {t.name: t for t in TARGETS}

KEEP_BINARY = {("Add", "Sub"), ("Sub", "Add"), ("Mul", "Div"), ("Div", "Mul"), ("FloorDiv", "Div"),
               ("Div", "FloorDiv"), ("Mod", "FloorDiv"), ("Pow", "Mul"), ("BitAnd", "BitOr"), ("BitOr", "BitAnd"),
               ("BitXor", "BitOr"), ("BitXor", "BitAnd"), ("LShift", "RShift"), ("RShift", "LShift")}
KEEP_UNARY = {("USub", "UAdd"), ("Delete", "Not"), ("Delete", "Invert"), ("Delete", "USub"), ("Invert", "Delete"),
              ("Not", "Delete")}
COMPARISONS = {"Eq", "NotEq", "Lt", "LtE", "Gt", "GtE"}


def operator_kept(op: str) -> bool:
    """Whether Cosmic Ray's operator ``op`` is in the operator set of this run (module docstring)."""
    if m := re.fullmatch(r"core/ReplaceBinaryOperator_([A-Za-z]+?)_([A-Za-z]+)", op):
        return (m[1], m[2]) in KEEP_BINARY
    if m := re.fullmatch(r"core/ReplaceComparisonOperator_([A-Za-z]+?)_([A-Za-z]+)", op):
        if m[1] in ("Is", "IsNot"):
            return {m[1], m[2]} == {"Is", "IsNot"}
        return m[2] in COMPARISONS
    if m := re.fullmatch(r"core/ReplaceUnaryOperator_([A-Za-z]+?)_([A-Za-z]+)", op):
        return (m[1], m[2]) in KEEP_UNARY
    return True


def mutant_id(path: str, op: str, occurrence: int) -> str:
    return f"{path}:{op.removeprefix('core/')}:{occurrence}"


def rank(path: str, op: str, occurrence: int) -> str:
    return hashlib.sha256(mutant_id(path, op, occurrence).encode()).hexdigest()


def cosmic_ray_exe() -> str:
    """The venv's cosmic-ray next to this Python (the venv need not be activated), else the one on PATH."""
    beside = Path(sys.executable).with_name("cosmic-ray")
    return str(beside) if beside.exists() else shutil.which("cosmic-ray") or "cosmic-ray"


def cr(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([cosmic_ray_exe(), *args], cwd=ROOT, check=check, text=True, capture_output=True)


def ensure_tool() -> None:
    try:
        import cosmic_ray  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "cosmic-ray==8.7.0"], check=True)


def write_config(t: Target, timeout: float, rerun: bool) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    cfg = WORK / f"{t.name}.toml"
    cmd = t.test_command(rerun).replace("\\", "\\\\").replace('"', '\\"')
    cfg.write_text(f'[cosmic-ray]\nmodule-path = "{t.path}"\ntimeout = {timeout}\nexcluded-modules = []\n'
                   f'test-command = "{cmd}"\n\n[cosmic-ray.distributor]\nname = "local"\n')
    return cfg


def skip_items(db: Path, t: Target) -> tuple[int, int]:
    """Mark as skipped the mutants outside the operator set, then those not drawn by the sample."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT job_id, operator_name, occurrence FROM mutation_specs").fetchall()
    kept = [(rank(t.path, op, occ), job) for job, op, occ in rows if operator_kept(op)]
    drawn = {job for _, job in sorted(kept)[:t.sample]} if t.sample else {job for _, job in kept}
    for job, op, _ in rows:
        if job not in drawn:
            why = "operator not in the run's set" if not operator_kept(op) else "not drawn by the sample"
            con.execute("INSERT INTO work_results (worker_outcome, output, test_outcome, diff, job_id) "
                        "VALUES ('SKIPPED', ?, NULL, NULL, ?)", (why, job))
    con.commit()
    con.close()
    return len(kept), len(drawn)


class Restore:
    """Put the mutated file back as it was, whatever ends this script (Cosmic Ray restores it after every
    mutant; this covers a run killed in the middle of one)."""

    def __init__(self, path: Path) -> None:
        self.path, self.text = path, path.read_bytes()

    def __enter__(self) -> Restore:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path.read_bytes() != self.text:
            self.path.write_bytes(self.text)
            print(f"restored {self.path}", file=sys.stderr)


def git_clean(path: str) -> bool:
    return subprocess.run(["git", "diff", "--quiet", "HEAD", "--", path], cwd=ROOT).returncode == 0


def timed_baseline(t: Target, rerun: bool) -> float:
    start = time.monotonic()
    r = subprocess.run(f"nice -n 10 {t.test_command(rerun)}", shell=True, cwd=ROOT, capture_output=True, text=True)
    took = time.monotonic() - start
    if r.returncode != 0:
        raise SystemExit(f"{t.name}: the unmutated test command fails (exit {r.returncode}):\n{t.test_command(rerun)}\n"
                         f"{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return took


def execute(t: Target, rerun: bool = False, resume: bool = False) -> None:
    if not git_clean(t.path):
        raise SystemExit(f"{t.path} differs from HEAD: commit or stash it before mutating it")
    db = WORK / f"{t.name}.sqlite"
    if resume and not db.exists():
        raise SystemExit(f"{t.name}: no session in {db} to resume")
    with Restore(ROOT / t.path):
        took = timed_baseline(t, rerun)
        cfg = WORK / f"{t.name}.toml"
        if resume:  # the stopped run's config and session as they are: Cosmic Ray runs the pending mutants only
            timeout = float(re.search(r"^timeout = ([0-9.]+)$", cfg.read_text(), re.MULTILINE)[1])
            print(f"{t.name}: resuming; baseline {took:.1f} s, timeout {timeout} s", flush=True)
        else:
            timeout = round(max(30.0, 4 * took), 1)
            cfg = write_config(t, timeout, rerun)
        if resume:
            pass
        elif rerun:
            con = sqlite3.connect(db)
            survivors = [j for (j,) in con.execute("SELECT job_id FROM work_results WHERE test_outcome='SURVIVED'")]
            con.execute(f"DELETE FROM work_results WHERE job_id IN ({','.join('?' * len(survivors))})", survivors)
            con.commit()
            con.close()
            print(f"{t.name}: re-running {len(survivors)} survivors", flush=True)
        else:
            cr("init", "--force", str(cfg), str(db))
            kept, drawn = skip_items(db, t)
            print(f"{t.name}: {kept} mutants in the operator set, {drawn} to run; baseline {took:.1f} s, "
                  f"timeout {timeout} s", flush=True)
        start = time.monotonic()
        subprocess.run(["nice", "-n", "10", cosmic_ray_exe(), "exec", str(cfg), str(db)],
                       cwd=ROOT, check=True)
        elapsed = time.monotonic() - start
    if not git_clean(t.path):
        raise SystemExit(f"{t.path} is not back to HEAD after the run")
    collect(t, db, took, timeout, elapsed, rerun, resume)


def changed_line(diff: str) -> str:
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return f"{' / '.join(minus)} => {' / '.join(plus)}"


def outcome(worker: str | None, test: str | None, output: str | None) -> str:
    if worker == "SKIPPED":
        return "skipped"
    if worker == "NO_TEST":
        return "no-test"
    if test == "KILLED":
        return "timeout" if output == "timeout" else "killed"
    return {"SURVIVED": "survived", "INCOMPETENT": "incompetent"}.get(test or "", "pending")


def failed_tests(output: str) -> list[str]:
    """The tests (or checks) that failed, as pytest's summary or the predictor check names them."""
    return re.findall(r"^FAILED (\S+)", output, re.MULTILINE)


def collect(t: Target, db: Path, baseline_s: float, timeout: float, elapsed: float, rerun: bool,
            resumed: bool = False) -> None:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT m.operator_name, m.occurrence, m.start_pos_row, m.start_pos_col, r.worker_outcome, r.test_outcome, "
        "r.output, r.diff FROM mutation_specs m LEFT JOIN work_results r ON m.job_id = r.job_id").fetchall()
    con.close()
    path = OUT / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else {"tool": "", "targets": {}}
    doc["tool"] = f"cosmic-ray {cr('--version').stdout.strip().split()[-1]}"
    prev = doc["targets"].get(t.name, {})
    first = {m["id"]: m.get("first_run", m["outcome"]) for m in prev.get("mutants", [])}
    mutants = []
    for op, occ, line, col, worker, test, output, diff in sorted(rows, key=lambda r: (r[2], r[3], r[0], r[1])):
        state = outcome(worker, test, output)
        if state == "skipped":
            continue
        mid = mutant_id(t.path, op, occ)
        entry = {"id": mid, "line": line, "col": col, "operator": op.removeprefix("core/"), "occurrence": occ,
                 "mutation": changed_line(diff or ""), "outcome": state,
                 "first_run": first.get(mid, state) if rerun else state}
        if state == "killed":
            entry["killed_by"] = failed_tests(output or "")
        mutants.append(entry)
    counts = {k: sum(m["outcome"] == k for m in mutants)
              for k in ("killed", "timeout", "survived", "incompetent", "no-test")}
    # the command Cosmic Ray ran, as its config says
    command = re.search(r'^test-command = "(.*)"$', (WORK / f"{t.name}.toml").read_text(), re.MULTILINE)[1]
    run = {"command": command.replace('\\"', '"').replace("\\\\", "\\"), "baseline_s": round(baseline_s, 1),
           "timeout_s": timeout, "elapsed_s": round(elapsed, 1)}
    if resumed:  # the elapsed time is the resumed part's only
        run["resumed"] = True
    entry = {"path": t.path, "sample": t.sample, "mutants": mutants, "counts": counts,
             "first_run": prev.get("first_run", {"counts": counts, **run}) if rerun else {"counts": counts, **run}}
    if rerun:
        entry["rerun"] = run
    doc["targets"][t.name] = entry
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{t.name}: {counts}", flush=True)


def score(c: dict) -> str:
    total = sum(c.values())
    dead = c["killed"] + c["timeout"]
    return f"{dead}/{total} ({100 * dead / total:.1f} %)" if total else "-"


def resolution(m: dict, verdicts: dict[str, str]) -> str:
    """"killed by <test>" from the re-run's own output, else the argument written in verdicts.json."""
    if m["outcome"] in ("killed", "timeout") and m.get("killed_by"):
        return "killed by " + ", ".join(f"`{t}`" for t in m["killed_by"])
    if m["outcome"] == "timeout":
        return "killed (timeout)"
    return verdicts.get(m["id"], "**no verdict yet**")


def report() -> None:
    doc = json.loads((OUT / "results.json").read_text())
    verdicts_path = OUT / "verdicts.json"
    verdicts = json.loads(verdicts_path.read_text()) if verdicts_path.exists() else {}
    lines = ["# Mutation testing", "",
             f"Generated by `python benchmarks/mutation_testing.py report` from `results.json` ({doc['tool']}); the "
             "resolution of a mutant still alive is the argument in `verdicts.json`, that of a killed one the failing "
             "test named in the tool's output. Score = (killed + timeouts) / mutants run (incompetent mutants count "
             "as not killed). *First run*: the suite before this work; *now*: after the tests it added (the first "
             "run's survivors run again).", "",
             "| file | mutants run | first run: killed | timeouts | survived | incompetent | score | "
             "now: killed | timeouts | survived | score |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for t in doc["targets"].values():
        f, c = t["first_run"]["counts"], t["counts"]
        sample = f" (sample of {t['sample']})" if t["sample"] else ""
        lines.append(f"| `{t['path']}`{sample} | {sum(c.values())} | {f['killed']} | {f['timeout']} | "
                     f"{f['survived']} | {f['incompetent']} | {score(f)} | {c['killed']} | {c['timeout']} | "
                     f"{c['survived']} | {score(c)} |")
    lines += ["", "| file | test command (per mutant) | unmutated run (s) | timeout (s) | first run (s) | re-run (s) |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for t in doc["targets"].values():
        run, again = t["first_run"], t.get("rerun", {})
        command = (again or run)["command"].replace(sys.executable, "python").replace("|", "\\|")
        first_s = f"{run['elapsed_s']} (resumed part)" if run.get("resumed") else run["elapsed_s"]
        lines.append(f"| `{t['path']}` | `{command}` | {run['baseline_s']} | {run['timeout_s']} | "
                     f"{first_s} | {again.get('elapsed_s', '-')} |")
    lines += ["", "## Every mutant that survived the first run", "",
              "| file:line | mutation | operator | now | resolution |", "| --- | --- | --- | --- | --- |"]
    for t in doc["targets"].values():
        for m in t["mutants"]:
            if m.get("first_run") != "survived":
                continue
            mutation = m["mutation"].replace("|", "\\|")
            lines.append(f"| `{t['path']}:{m['line']}` | `{mutation}` | {m['operator']}#{m['occurrence']} | "
                         f"{m['outcome']} | {resolution(m, verdicts)} |")
    incompetent = [(t, m) for t in doc["targets"].values() for m in t["mutants"] if m["outcome"] == "incompetent"]
    if incompetent:
        lines += ["", "## Incompetent mutants (the mutated module cannot run at all)", ""]
        lines += [f"- `{t['path']}:{m['line']}` {m['operator']}#{m['occurrence']}: "
                  f"{verdicts.get(m['id'], 'no note')}" for t, m in incompetent]
    (OUT / "mutation.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT / 'mutation.md'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["run", "resume", "rerun", "report"])
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(BY_NAME)} [default: all]")
    args = parser.parse_args()
    if unknown := [n for n in args.targets if n not in BY_NAME]:
        parser.error(f"unknown target(s) {unknown}")
    os.chdir(ROOT)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # a stale .pyc must never stand in for a mutant
    if args.action == "report":
        report()
        return
    ensure_tool()
    for name in args.targets or list(BY_NAME):
        execute(BY_NAME[name], rerun=args.action == "rerun", resume=args.action == "resume")
    report()


if __name__ == "__main__":
    main()

"""The README's Python example runs as written (documentation that cannot drift from the code)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def marked_block(marker: str) -> str:
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README.md has no python block after <!-- {marker} -->"
    return match.group(1)


def test_python_api_example_runs():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(marked_block("test: python api"), "README.md", "exec"), {})
    clicks, _, ious = out.getvalue().partition("clicks; IoU after each:")
    assert 1 <= int(clicks) <= 20 and ious.strip().startswith("[")


def test_load_results_example_runs(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from iseg_bench.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "--methods", "disk,grabcut", "--limit", "4", "--no-progress",
                                       "--no-report"])
    assert result.exit_code == 0, result.output
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(marked_block("test: load results"), "README.md", "exec"), {})
    lines = out.getvalue().strip().splitlines()
    assert "noc_90" in lines[0] and len(lines) == 1 + 6  # header, the 3 hardest samples of each method


def readme_files_and_commands() -> tuple[dict[str, str], list[str]]:
    """The README's example files (``<!-- test: file NAME -->``) and commands (``<!-- test: command -->``)."""
    text = README.read_text()
    files = dict(re.findall(r"<!-- test: file (\S+) -->\s*```python\n(.*?)```", text, re.S))
    commands = [c.strip() for c in re.findall(r"<!-- test: command -->\s*```bash\n(.*?)```", text, re.S)]
    return files, commands


def test_add_a_method_and_add_a_dataset_examples_run(tmp_path):
    """The README's own method and dataset files, run by the README's own commands."""
    import json
    import os
    import shlex
    import subprocess
    import sys

    files, commands = readme_files_and_commands()
    assert set(files) == {"my_method.py", "my_dataset.py"} and len(commands) == 2
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "iseg-bench"
        proc = subprocess.run([sys.executable, "-m", "iseg_bench.cli", *args[1:], "--no-progress"],
                              capture_output=True, text=True, cwd=tmp_path, env=env)
        assert proc.returncode == 0, f"{command}: {proc.stderr}"
    records = [json.loads(line) for f in (tmp_path / "results-mine" / "records").rglob("*.jsonl")
               for line in f.read_text().splitlines()]
    by = {(r["method"], r["dataset"]) for r in records}
    assert {("colour-seeds", "Synthetic"), ("watershed", "Synthetic"), ("grabcut", "MyDiscs"),
            ("disk", "MyDiscs")} == by
    mine = [r for r in records if r["method"] == "colour-seeds"]
    assert len(mine) == 5 and all(r["status"] == "ok" for r in mine)
    discs = [r for r in records if r["dataset"] == "MyDiscs" and r["method"] == "grabcut"]
    assert len(discs) == 8 and max(r["ious"][-1] for r in discs) > 0.85


def readme_commands() -> list[list[str]]:
    """Every ``iseg-bench`` command line of the README's bash blocks, continuation lines joined,
    comments dropped, split into words."""
    import shlex

    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words[:1] == ["iseg-bench"]:
                    commands.append(words[1:])
    return commands


def test_every_readme_command_names_a_real_command_and_real_options():
    import click

    from iseg_bench.cli import main

    commands = readme_commands()
    assert len(commands) > 25 and {c[0] for c in commands} >= {"run", "report", "regress", "bench", "compare"}
    ctx = click.Context(main)
    for words in commands:
        command = main.get_command(ctx, words[0])
        assert command is not None, f"README: `iseg-bench {' '.join(words)}`: no command {words[0]!r}"
        known = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
        used = {w.split("=")[0] for w in words[1:] if w.startswith("--")}
        assert used <= known, f"README: `iseg-bench {' '.join(words)}`: unknown {sorted(used - known)}"


def test_the_readme_commands_parse_as_written(tmp_path):
    """Each README command, given to the real command with its callback replaced, parses: choices,
    types and argument counts as written (only the paths it names are not checked for existence)."""
    import click

    from iseg_bench.cli import main

    ctx = click.Context(main)
    for words in readme_commands():
        command = main.get_command(ctx, words[0])
        params = [p for p in command.params if not (isinstance(p.type, click.Path) and p.type.exists)]
        for p in command.params:
            if isinstance(p.type, click.Path) and p.type.exists:
                params.append(click.Argument(p.opts, nargs=p.nargs) if isinstance(p, click.Argument)
                              else click.Option(p.opts, multiple=p.multiple))
        probe = click.Command(words[0], params=params, callback=lambda **kwargs: None)
        try:
            probe.main(words[1:], standalone_mode=False)
        except click.UsageError as exc:
            raise AssertionError(f"README: `iseg-bench {' '.join(words)}`: {exc.format_message()}") from None

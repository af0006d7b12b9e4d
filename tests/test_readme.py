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

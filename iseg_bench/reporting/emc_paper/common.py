"""What the paper's bench-based tables share: the protocol setting of a result and indexes of results."""

from __future__ import annotations

from collections.abc import Sequence

from iseg_bench.bench_results import phase_rows


def setting(result: dict) -> str:
    """``published`` when a method ran under its own family's preset, else the protocol's name."""
    name = result["protocol"]["name"]
    return "published" if name == result["info"]["family"] else name


def phase(result: dict, which: str) -> dict:
    """The phase row (``first`` or ``later``) of a bench result."""
    return next(r for r in phase_rows(result) if r["phase"] == which)


def index_results(results: Sequence[dict], wanted_setting: str | None = None) -> dict[tuple[str, str], dict]:
    """(method, implementation) -> result, preferring ``wanted_setting`` when several protocols ran."""
    out: dict[tuple[str, str], dict] = {}
    for res in results:
        key = (res["method"], res["info"].get("implementation", ""))
        if key not in out or setting(res) == wanted_setting:
            out[key] = res
    return out

"""Which registered variant is measured against which row of the paper's tables.

Each variant declares its rows (``PaperRow`` in its family's folder); this module reads those
declarations, so a new family's variants land under the paper's rows they name, and variants that
name none are listed as "(not in the paper's table)".
"""

from __future__ import annotations

from . import published

NOT_IN_PAPER = "(not in the paper's table)"


def _variants():
    from iseg_bench.adapters import VARIANTS

    return VARIANTS.values()


def measured(table: int, row: str, train: str = "C+L") -> list[tuple[str, str]]:
    """(variant, phase) pairs declared against one row of a table, in registration order."""
    return [(v.name, r.phase) for v in _variants() for r in v.paper
            if r.table == table and r.row == row and (table != 3 or r.train == train)]


def declared(table: int) -> set[str]:
    """Variants that declare a row of ``table``."""
    return {v.name for v in _variants() for r in v.paper if r.table == table}


def undeclared_rows() -> list[str]:
    """Declared rows the paper does not have (a misspelt declaration), as readable lines."""
    rows: dict[int, set] = {1: {r.row for r in published.TABLE1}, 2: set(published.TABLE2),
                             3: {(r.row, r.train) for r in published.TABLE3}}
    bad = []
    for v in _variants():
        for r in v.paper:
            key = (r.row, r.train) if r.table == 3 else r.row
            if key not in rows.get(r.table, set()) or (r.table == 1 and r.phase not in ("first", "later")):
                bad.append(f"{v.name}: {r}")
    return bad

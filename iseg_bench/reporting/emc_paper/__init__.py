"""The EMC-Click paper's Tables 1-3, every row, ours beside the paper's, from stored results.

``published`` holds the paper's numbers, ``mapping`` which registered variant is measured against
which row (declared by the variants), ``table1`` (cost, from ``bench``), ``ratios`` (the headline
later-click ratios), ``table2`` and ``table3`` (NoC from ``run``), and ``render`` writes them all.
"""

from .render import render_paper_tables

__all__ = ["render_paper_tables"]

"""The browsable HTML report (``iseg-bench report --html``): tables, figures, per-dataset galleries
and per-sample views with the masks after chosen clicks. ``page`` writes it; ``selection`` picks
samples and clicks, ``replay`` finds masks, ``drawing`` and ``figures`` make the pictures."""

from .page import HtmlOptions, write_html, write_index_of_reports

__all__ = ["HtmlOptions", "write_html", "write_index_of_reports"]

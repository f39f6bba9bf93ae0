"""`amiscen report`: a run (or a plan) as an HTML page with figures, from what was measured."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from amiscen.errors import writing
from amiscen.report.data import ReportData, from_plan, from_run
from amiscen.report.page import text, write

__all__ = ["Written", "from_plan", "from_run", "write_report"]

NO_PLOT = "matplotlib is not installed, so there are no figures: pip install 'amiscen[plot]' to draw them"


@dataclass
class Written:
    page: Path
    figures: list[Path] = field(default_factory=list)
    text: str = ""
    note: str | None = None


def write_report(data: ReportData, out: Path) -> Written:
    """index.html, report.txt and the PNG figures in ``out``; without matplotlib, the page without figures."""
    from amiscen.report.figures import draw_all

    with writing(out, "the report"):
        out.mkdir(parents=True, exist_ok=True)
    try:
        figures = draw_all(data, out)
    except ImportError:  # matplotlib is imported when the first figure is drawn
        return Written(write(data, out, []), [], text(data), NO_PLOT)
    return Written(write(data, out, figures), figures, text(data))

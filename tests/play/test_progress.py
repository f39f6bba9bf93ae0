"""Progress as a person sees it (issue #19): plain lines where output is not a terminal, one live line no wider
than the terminal where it is, with the share done, wall time and time left."""

from __future__ import annotations

import io

import pytest

from amiscen.play.observe import Metrics, ProgressLine
from amiscen.runner.events import Progress


def test_where_output_is_not_a_terminal_progress_comes_as_plain_lines() -> None:
    stream = io.StringIO()  # not a terminal, as in CI or a pipe
    progress = ProgressLine(Metrics(), 25, stream, window=(0.0, 3600.0), plain_every=0.0)
    assert not progress.live
    for t in (900.0, 1800.0):
        progress(Progress(t, t))
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith(" 25% 1970-01-01 00:15") and "0/25 meters" in lines[0]
    assert lines[1].startswith(" 50% 1970-01-01 00:30") and " left" in lines[1]


def test_on_a_terminal_the_line_is_redrawn_within_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    stream = io.StringIO()
    progress = ProgressLine(Metrics(), 25_000, stream, every=0.0, window=(0.0, 86400.0), live=True)
    progress(Progress(43200.0, 43200.0))
    progress(Progress(43260.0, 43260.0))
    drawn = stream.getvalue().split("\r")[1:]
    assert len(drawn) == 2 and all(len(d) <= 59 for d in drawn) and "\n" not in stream.getvalue()
    assert drawn[0].startswith("[########........]  50% 1970-01-01 12:00")  # a bar on the live line

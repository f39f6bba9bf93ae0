"""Run directories are never shared by accident: two runs started in the same second get one each, and a
directory a live run holds is refused to another run or a --resume (issue #17)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.errors import UsageError
from amiscen.play import session
from amiscen.play.session import RunOptions


class _Frozen(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _Frozen:  # type: ignore[override]
        return cls(2026, 12, 1, 16, 0, 0)


def test_two_runs_in_the_same_second_get_a_directory_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(session.dt, "datetime", _Frozen)
    options = RunOptions(pace=Pace(None))
    first, second, third = (session._run_dir(options, "campus day/2") for _ in range(3))
    assert [p.name for p in (first, second, third)] == [  # named after the scenario, made safe for a path
        "campus_day_2-20261201-160000",
        "campus_day_2-20261201-160000-2",
        "campus_day_2-20261201-160000-3",
    ]


def test_a_directory_held_by_a_live_run_is_refused(tmp_path: Path) -> None:
    claim = session._hold(tmp_path)
    assert claim is not None
    with pytest.raises(UsageError, match="in use by another amiscen run"):
        session._hold(tmp_path)
    claim.close()
    again = session._hold(tmp_path)  # free once the run ends
    assert again is not None
    again.close()

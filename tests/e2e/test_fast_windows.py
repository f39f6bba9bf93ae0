"""Fast pace against the embedded head-end runs the meters a window at a time, each answered at its own time
(issue #16: meters start at their own phases, so one moment at a time ran one request at a time). What every meter
says and hears must be exactly what it says and hears one moment at a time: same requests, same bodies, same
answers, same order, same simulated times, and the head-end must store the same."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from amiscen.clock import Pace
from amiscen.play import session
from amiscen.play.session import RunOptions, play
from amiscen.runner.fleet import Fleet
from amiscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
WINDOW = session.FAST_WINDOW_S


def _exchanges(record: Path) -> dict[str, list[tuple[Any, ...]]]:
    by_meter: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for line in record.read_text(encoding="utf-8").splitlines():
        x = json.loads(line)
        url = urlsplit(x["url"])  # each run's head-end on a port of its own
        path = url.path + (f"?{url.query}" if url.query else "")
        by_meter[x["meter"]].append((x["time"], x["method"], path, x["status"], x["request"], x["response"]))
    return dict(by_meter)


def _stored(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What the head-end holds, row ids of responses aside (numbered as they arrive, across meters)."""
    queries = {
        "end_device": "SELECT id, lfdi, sfdi, meter_id, changed_time, last_contact FROM end_device ORDER BY id",
        "mirror_usage_point": "SELECT * FROM mirror_usage_point ORDER BY id",
        "mirror_meter_reading": "SELECT * FROM mirror_meter_reading ORDER BY id",
        "reading": "SELECT * FROM reading ORDER BY mmr_id, start",
        "response": "SELECT set_id, lfdi, subject, status, created, received FROM response "
        "ORDER BY lfdi, received, status",
        "der_resource": "SELECT * FROM der_resource ORDER BY edev_id, kind",
    }
    with sqlite3.connect(db) as c:
        return {table: c.execute(sql).fetchall() for table, sql in queries.items()}


def _run(tmp_path: Path, name: str, window: float, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    monkeypatch.setattr(session, "FAST_WINDOW_S", window)
    loaded = load_scenario(ROOT / "examples" / "demand_response.yaml")
    options = RunOptions(
        pace=Pace(None),
        run_dir=tmp_path / name,
        certs_dir=tmp_path / "certs",
        duration=dt.timedelta(hours=2, minutes=45),  # both DR events, the cancellation and the DER control
        record=tmp_path / f"{name}.jsonl",
    )
    return play(loaded, options), tmp_path / name


def test_a_window_at_a_time_says_and_hears_what_one_moment_at_a_time_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = []
    run_window = Fleet._run_window

    def counted(self: Fleet, index: int, job: Any, until: float) -> Any:
        windows.append((index, len(job)))
        return run_window(self, index, job, until)

    monkeypatch.setattr(Fleet, "_run_window", counted)
    stepped, stepped_dir = _run(tmp_path, "stepped", 0.0, monkeypatch)
    assert windows == []
    windowed, windowed_dir = _run(tmp_path, "windowed", WINDOW, monkeypatch)
    assert any(n > 1 for _, n in windows)  # it did run several tasks of a meter at once

    assert stepped.ok and windowed.ok
    assert windowed.metrics.requests == stepped.metrics.requests > 0
    a, b = _exchanges(tmp_path / "stepped.jsonl"), _exchanges(tmp_path / "windowed.jsonl")
    assert sorted(a) == sorted(b)
    for meter in a:
        assert b[meter] == a[meter], meter
    assert _stored(windowed_dir / "headend.db") == _stored(stepped_dir / "headend.db")
    assert [(c.name, c.ok, c.detail) for c in windowed.checks] == [(c.name, c.ok, c.detail) for c in stepped.checks]

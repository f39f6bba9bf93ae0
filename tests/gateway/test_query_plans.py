"""No statement the head-end runs while meters play scans a table that grows with the fleet (issue #16: a device's
mirrors were counted by scanning every device's, and each MirrorMeterReading declared scanned every other
device's, so a fleet's boot grew with the square of its size). Every statement of a dry run of the campus is
explained by SQLite; a full scan is allowed only of the tables listed, which stay small or are read once."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.gateway import store as store_module
from amiscen.play.session import RunOptions, play
from amiscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SMALL = {  # tables a scan may read: their size does not follow the fleet's (or the statement runs once, at the end)
    "fsa",  # function set assignments: one per program
    "event",  # the utility's events
    "der_curve",  # curves per program
    "aggregator",  # read once, at start
    "client_access",  # read once, at start
    "reading",  # counted once, for the summary
}


def test_statements_of_a_run_use_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    statements: dict[str, str] = {}
    opened = store_module.Store.__init__

    def traced(self: store_module.Store, *args: object, **kwargs: object) -> None:
        opened(self, *args, **kwargs)  # type: ignore[arg-type]
        self._db.set_trace_callback(lambda sql: statements.setdefault(re.sub(r"'[^']*'|\b\d+\b", "?", sql), sql))

    monkeypatch.setattr(store_module.Store, "__init__", traced)
    options = RunOptions(
        pace=Pace(None),
        run_dir=tmp_path / "run",
        certs_dir=tmp_path / "certs",
        dry_run=True,
        duration=dt.timedelta(hours=2),
    )
    outcome = play(load_scenario(ROOT / "scenarios" / "campus_utcc.yaml"), options)
    assert outcome.metrics.delivered > 0
    db = sqlite3.connect(outcome.run_dir / "headend.db")
    scans = []
    for sql in statements.values():
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            continue
        for row in db.execute("EXPLAIN QUERY PLAN " + sql):
            detail = str(row[3])
            if detail.startswith("SCAN ") and detail.split()[1] not in SMALL:
                scans.append(f"{detail}: {sql[:200]}")
    assert len(statements) > 30  # the run went through the head-end's routes
    assert scans == []

"""issue #18: a recurring DR event, played end to end against the embedded head-end over mutual TLS: the utility
publishes each occurrence as its own EndDeviceControl, every meter answers each one received -> started ->
completed, and an expectation that names the recurrence is judged for every occurrence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ..cli.test_validate import amiscen

pytestmark = pytest.mark.e2e

SCENARIO = """\
schema_version: 1
name: recurring
time: {start: 2026-03-02T13:00, duration: 3h, reading_interval: 60s}
function_sets: {mirror_usage_point: {post_rate: 300s}, demand_response: {polling_rate: 60s}}
buildings:
  - {name: hall, type: academic, count: 2}
events:
  - {type: demand_response, id: HOURLY, start: 2026-03-02T13:20, duration: 20m, target_reduction: {percent: 20},
     repeat: {every: 1h, count: 3}}
expect:
  dr_responses_complete: true
  min_dr_reduction_kw: {HOURLY: 1}
"""


def test_each_occurrence_is_published_and_answered(tmp_path: Path) -> None:
    path = tmp_path / "recurring.yaml"
    path.write_text(SCENARIO)
    run = tmp_path / "run"
    result = amiscen("run", str(path), "--run-dir", str(run), "--certs", str(tmp_path / "certs"))
    assert result.returncode == 0, result.stdout + result.stderr
    ids = ["HOURLY_20260302T1320", "HOURLY_20260302T1420", "HOURLY_20260302T1520"]
    for event_id in ids:
        assert f"[ok] min_dr_reduction_kw[{event_id}]: measured" in result.stdout, result.stdout
    assert "[ok] dr_responses_complete: every targeted meter of 3 event(s) answered 1 -> 2 -> 3" in result.stdout
    with sqlite3.connect(run / "headend.db") as db:
        published = db.execute("SELECT event_id, start, duration FROM event ORDER BY start").fetchall()
        statuses = db.execute("SELECT status, count(*) FROM response GROUP BY status ORDER BY status").fetchall()
    assert [p[0] for p in published] == ids
    assert [p[1] - published[0][1] for p in published] == [0, 3600, 7200] and {p[2] for p in published} == {1200}
    assert statuses == [(1, 6), (2, 6), (3, 6)]  # 2 meters x 3 occurrences, each status once

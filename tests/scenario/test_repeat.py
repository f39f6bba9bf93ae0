"""issue #18: recurring events. "Every weekday at 14:00" becomes one event per weekday, each with its own id and
start, at 14:00 on the site's clock on both sides of a daylight-saving change; a recurrence is checked as its
occurrences (overlaps, the window, the ids they make)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amiscen.errors import ScenarioError
from amiscen.play.schedule import utility_events
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters
from amiscen.scenario.summary import one_line

BERLIN = """\
schema_version: 1
site: {latitude: 48.25, longitude: 11.65, timezone: Europe/Berlin, weather: {daily_swing_c: 8}}
calendar: {holidays: [], terms: []}
time: {start: 2026-10-19T00:00, duration: 14d, reading_interval: 300s}
function_sets: {mirror_usage_point: {post_rate: 3600s}}
buildings:
  - {name: hall, type: academic, count: 2}
events:
"""


def _load(tmp_path: Path, events: str):
    path = tmp_path / "s.yaml"
    path.write_text(BERLIN + events)
    return load_scenario(path)


def test_every_weekday_at_the_same_local_time(tmp_path: Path) -> None:
    s = _load(
        tmp_path,
        "  - {type: demand_response, id: PEAK, start: 2026-10-19T14:00, duration: 2h, target_reduction: {kw: 10},\n"
        "     repeat: {every: weekday, until: 2026-10-28}}\n",
    ).scenario
    dr = s.demand_response_events()
    assert [e.id for e in dr] == [
        "PEAK_20261019", "PEAK_20261020", "PEAK_20261021", "PEAK_20261022", "PEAK_20261023",
        "PEAK_20261026", "PEAK_20261027", "PEAK_20261028",
    ]  # fmt: skip
    starts = [s.at(e.start).isoformat() for e in dr]
    assert starts[4] == "2026-10-23T14:00:00+02:00" and starts[5] == "2026-10-26T14:00:00+01:00"  # the change
    assert all(e.repeat is None and e.duration.total_seconds() == 7200 for e in dr)
    published = utility_events(s, meters(s))
    assert [u.event_id for u in published] == [e.id for e in dr]
    assert published[5].start - published[4].start == 3 * 86400 + 3600  # Friday 14:00 CEST -> Monday 14:00 CET
    assert "8 events (8 DR, 0 DER control, 0 flow reservation)" in one_line(s)


@pytest.mark.parametrize(
    ("repeat", "ids"),
    [
        ("{every: day, count: 3}", ["X_20261019", "X_20261020", "X_20261021"]),
        ("{every: weekend, count: 3}", ["X_20261024", "X_20261025", "X_20261031"]),
        ("{every: week}", ["X_20261019", "X_20261026"]),
        ("{every: 8h, count: 4}", ["X_20261019T0800", "X_20261019T1600", "X_20261020T0000", "X_20261020T0800"]),
    ],
)
def test_how_often(tmp_path: Path, repeat: str, ids: list[str]) -> None:
    events = (
        "  - {type: der_control, id: X, start: 2026-10-19T08:00, duration: 30m, control: {type: curtail, "
        f"max_w_percent: 50}}, repeat: {repeat}}}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(BERLIN.replace("count: 2}", "count: 2, pv: {kwp: 10}}") + events)
    assert [e.id for e in load_scenario(path).scenario.der_control_events()] == ids


def test_what_a_recurrence_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(
            tmp_path,
            "  - {type: demand_response, id: LONG, start: 2026-10-19T14:00, duration: 30h, target_reduction: {kw: 5},\n"
            "     repeat: {every: day}}\n"
            "  - {type: demand_response, id: CUT, start: 2026-10-20T10:00, duration: 1h, target_reduction: {kw: 5},\n"
            "     cancel_at: 2026-10-20T10:30, allow_overlap: true, repeat: {every: day, until: 2026-10-01}}\n"
            "  - {type: demand_response, id: A_VERY_LONG_EVENT_IDENTIFIER_THAT_LEAVES_NO_ROOM_FOR_DATES, "
            "start: 2026-10-21T03:00, duration: 1h, target_reduction: {kw: 5}, allow_overlap: true, "
            "repeat: {every: 1d}}\n",
        )
    text = str(caught.value)
    assert "DR event 'LONG_20261020' overlaps 'LONG_20261019' on meter" in text
    assert "a repeated event cannot be cancelled as a whole" in text
    assert "repeat.until: 2026-10-01 is before the first occurrence (2026-10-20)" in text
    assert "a repeated event's id may have at most 50 characters" in text
    with pytest.raises(ScenarioError, match="an event may recur at most once a minute"):
        _load(
            tmp_path,
            "  - {type: demand_response, id: X, start: 2026-10-21T03:00, duration: 1h, target_reduction: {kw: 5}, "
            "repeat: {every: 1s}}\n",
        )


def test_expectations_name_a_recurrence_and_hold_for_each_occurrence(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "  - {type: demand_response, id: PEAK, start: 2026-10-26T14:00, duration: 1h, target_reduction: {kw: 5},\n"
        "     repeat: {every: weekday}}\n"
        "  - {type: demand_response, id: LATE, start: 2026-11-02T14:00, duration: 1h, target_reduction: {kw: 5},\n"
        "     repeat: {every: weekday}}\n"
        "expect: {min_dr_reduction_kw: {PEAK: 2}}\n",
    )
    s = loaded.scenario
    assert [e.id for e in s.occurrences_of("PEAK")] == [f"PEAK_202610{d}" for d in (26, 27, 28, 29, 30)]
    assert s.occurrences_of("LATE") == []
    warnings = [w.format() for w in loaded.warnings]
    assert any(
        "event 'LATE' recurs every weekday from 2026-11-02, but no occurrence falls in the run" in w for w in warnings
    ), warnings

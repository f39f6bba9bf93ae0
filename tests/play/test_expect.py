"""Figures that agree (issue #19): a cancelled DR event's reduction is measured over the span it was in force,
as the report measures it, not over its whole scheduled hour."""

from __future__ import annotations

from pathlib import Path

from amiscen.play.expect import dr_window
from amiscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_a_cancelled_event_is_measured_until_its_cancellation() -> None:
    s = load_scenario(ROOT / "examples" / "demand_response.yaml").scenario
    events = {e.id: e for e in s.demand_response_events()}
    start, end = dr_window(s, events["DR_HALLS_KW"])  # 1 h from +2h, cancelled at +2h30m
    assert end - start == 1800
    start, end = dr_window(s, events["DR_OFFICES_PERCENT"])  # not cancelled: its hour
    assert end - start == 3600


def test_the_run_says_why_its_consumption_differs_from_the_plan() -> None:
    """issue #19: `plan` said 68,680 kWh where the run said 68,213 kWh with no note why."""
    from amiscen.play.observe import Metrics
    from amiscen.play.summary import _shed_note

    metrics = Metrics()
    metrics.energy_wh.update({"planned_load": 68_680_000.0, "load": 68_213_000.0})
    assert _shed_note(metrics) == " (68,680 planned, 467 shed by DR and controls)"
    metrics.energy_wh["load"] = 68_680_000.0
    assert _shed_note(metrics) == ""  # nothing shed: nothing to explain

"""`amiscen plan`'s expected DR reduction starts each meter's physics shortly before the event (issue #16: a year's
plan no longer replays every interval before each event): the figures are exactly those of a replay from the
start."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from amiscen.compile.plan import SiteModel
from amiscen.play.plan import _dr_controls, plan
from amiscen.runner.baseline import Baseline
from amiscen.runner.physics import MeterPhysics
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

ROOT = Path(__file__).resolve().parents[2]


def test_a_late_event_expects_what_a_replay_from_the_start_does(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "campus_utcc.yaml").read_text(encoding="utf-8")
    text = text.replace("duration: 1d", "duration: 3d", 1).replace("start: +14h", "start: +62h", 1)
    path = tmp_path / "late.yaml"
    path.write_text(text, encoding="utf-8")
    s = load_scenario(path).scenario
    site = SiteModel(s)
    fleet = meters(s)
    assert site.grid.count == 3 * 5760
    times = site.grid.starts
    replayed = np.zeros(len(times))
    for meter in fleet:
        for event_id, control in _dr_controls(s, fleet).get(meter.id, []):
            assert event_id == "DR_EVENT_001"
            played = MeterPhysics(Baseline.of(site.meter_plan(meter)), site).intervals_until(control.end, [control])
            assert len(played) > 2 * 5760  # from the first interval
            replayed[: len(played)] += np.array([x.baseline_net_w - x.net_w for x in played])
    start = s.at(s.demand_response_events()[0].start).timestamp()
    during = (times >= start) & (times < start + 3600)
    precooling = (times >= start - 3600) & (times < start)
    assert replayed[precooling].min() < 0  # the lead is in play: the buildings pre-cool (draw more) before it
    expected = float(replayed[during].mean()) / 1000
    assert plan(s, site=site).dr_expected_kw == {"DR_EVENT_001": expected}

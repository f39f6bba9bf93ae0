"""What a building type can shed for DR is declared with its load profile, not hard-coded (issue #18)."""

from __future__ import annotations

from pathlib import Path

from amiscen.compile.plan import SiteModel
from amiscen.runner.baseline import Baseline
from amiscen.runner.physics import MeterPhysics
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

CUSTOM = """\
schema_version: 1
time: {start: 2026-03-02T00:00:00+07:00, duration: 2h, reading_interval: 60s}
load_profiles:
  data_centre:
    peak_kw: 500
    hourly: [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9,
             0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    SHED
buildings:
  - {name: dc, type: data_centre, count: 1}
events:
  - {type: demand_response, id: DR1, start: +30m, duration: 30m, target_reduction: {percent: 50}}
"""


def _load(tmp_path: Path, shed: str) -> tuple[list[str], float]:
    path = tmp_path / "custom.yaml"
    path.write_text(CUSTOM.replace("SHED", shed))
    loaded = load_scenario(path)
    site = SiteModel(loaded.scenario)
    (meter,) = meters(loaded.scenario)
    physics = MeterPhysics(Baseline.of(site.meter_plan(meter)), site)
    return [w.message for w in loaded.warnings], physics.curtailable


def test_a_custom_type_says_what_it_can_shed(tmp_path: Path) -> None:
    warnings, share = _load(tmp_path, "dr_shed_share: 0.05")
    assert share == 0.05 and not any("dr_shed_share" in w for w in warnings)


def test_a_custom_type_that_does_not_say_is_warned(tmp_path: Path) -> None:
    warnings, share = _load(tmp_path, "noise: 0.04")
    assert share == 0.2
    assert any(
        "does not say what share of its demand it can shed (dr_shed_share): 0.2 is assumed" in w for w in warnings
    )

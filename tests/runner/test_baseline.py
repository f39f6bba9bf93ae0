"""The runner's baseline holds a series that never changes (no PV, no battery) as one value (issue #16: memory per
meter), read exactly like the whole series."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from amiscen.compile.plan import SiteModel
from amiscen.runner.physics import Baseline
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

ROOT = Path(__file__).resolve().parents[2]


def test_constant_series_are_held_once_and_read_the_same() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario
    site = SiteModel(scenario)
    fleet = meters(scenario)
    plain = next(m for m in fleet if m.pv is None and m.battery is None)
    storing = next(m for m in fleet if m.battery is not None)
    for meter in (plain, storing):
        plan = site.meter_plan(meter)
        baseline = Baseline.of(plan)
        r = plan.registers
        for name in ("load_w", "pv_w", "battery_w", "soc", "voltage_v"):
            held, full = getattr(baseline, name), getattr(r, name).astype(np.float32)
            assert len(held) == len(full)
            assert all(  # element by element, as the physics reads them
                float(held[i]) == float(full[i]) or (math.isnan(float(held[i])) and math.isnan(float(full[i])))
                for i in range(0, len(full), 97)
            )
    n = site.grid.count
    assert (
        Baseline.of(site.meter_plan(plain)).nbytes == 2 * 4 * n + 3 * 4
    )  # load and voltage; PV, battery, SoC: one value
    assert Baseline.of(site.meter_plan(storing)).nbytes >= 4 * 4 * n

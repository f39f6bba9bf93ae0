"""The compiled plan is physical (energy balance, night, SoC window, monotone registers) and reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from amiscen.compile.plan import SiteModel, compile_scenario
from amiscen.scenario import load_scenario, meters

ROOT = Path(__file__).resolve().parents[2]
CAMPUS = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario


def test_energy_balance_holds_exactly_per_interval() -> None:
    for plan in compile_scenario(CAMPUS):
        r = plan.registers
        hours = CAMPUS.time.reading_interval.total_seconds() / 3600
        load_wh = r.load_w * hours
        rhs = r.import_wh - r.export_wh + (r.pv_w + r.battery_w) * hours
        assert np.allclose(load_wh, rhs, rtol=0, atol=1e-6), plan.meter.id


def test_registers_never_decrease_pv_is_zero_at_night_soc_in_window() -> None:
    site = SiteModel(CAMPUS)
    night = site.sun.zenith > 90
    for plan in compile_scenario(CAMPUS):
        r = plan.registers
        assert np.all(np.diff(r.import_total_wh) >= 0) and np.all(np.diff(r.export_total_wh) >= 0)
        assert np.all(r.pv_w[night] == 0)
        b = plan.meter.battery
        if b is not None:
            assert np.nanmin(r.soc) >= b.soc_min - 1e-12 and np.nanmax(r.soc) <= b.soc_max + 1e-12


def test_same_seed_same_bytes_and_other_meters_do_not_matter() -> None:
    site = SiteModel(CAMPUS)
    fleet = meters(CAMPUS)
    alone = SiteModel(CAMPUS.model_copy(update={"buildings": CAMPUS.buildings[:1]}))
    a = site.meter_plan(fleet[0]).registers
    b = alone.meter_plan(fleet[0]).registers
    for name in ("load_w", "pv_w", "battery_w", "import_wh", "voltage_v"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    reseeded = SiteModel(CAMPUS.model_copy(update={"time": CAMPUS.time.model_copy(update={"seed": 1})}))
    assert reseeded.meter_plan(fleet[0]).registers.load_w.tobytes() != a.load_w.tobytes()

"""The compiled plan is physical (energy balance, night, SoC window, monotone registers) and reproducible."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

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


@pytest.mark.parametrize("longer", [timedelta(days=3), timedelta(days=9, hours=5)])
def test_a_longer_window_repeats_the_start_of_a_shorter_one(longer: timedelta) -> None:
    """issue #18: the first 6 h of a 6 h compile and of a 3-day compile differed by up to 36.5 kW, so `run
    --duration 6h` did not replay the start of a longer `plan`. Random streams no longer depend on the length."""
    s = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario

    def compiled(duration: timedelta) -> SiteModel:
        return SiteModel(s.model_copy(update={"time": s.time.model_copy(update={"duration": duration})}))

    short, long = compiled(timedelta(hours=6)), compiled(longer)
    n = len(short.grid.starts)
    for meter in meters(s):
        a, b = short.meter_plan(meter).registers, long.meter_plan(meter).registers
        for quantity in ("load_w", "pv_w", "battery_w", "soc", "import_wh", "export_wh", "voltage_v"):
            assert np.array_equal(getattr(a, quantity), getattr(b, quantity)[:n], equal_nan=True), (meter.id, quantity)


def test_the_sun_computed_in_blocks_is_the_sun_computed_at_once() -> None:
    """sun_position works a block at a time (issue #16: a year at 15 s in 0.8 s, not 2.1): every step is
    elementwise, so the values are bit for bit those of the whole array at once."""
    from amiscen.compile import solar
    from amiscen.compile.blocks import BLOCK

    epoch = 1767200000.0 + np.arange(2 * BLOCK + 1234) * 15.0 + 7.5
    blocked, whole = solar.sun_position(epoch, 13.8, 100.5), solar._sun_position(epoch, 13.8, 100.5)
    for name in ("zenith", "azimuth", "dni_extra"):
        assert getattr(blocked, name).tobytes() == getattr(whole, name).tobytes(), name


def test_a_demand_held_throughout_is_one_value() -> None:
    """The site model keeps each building type's demand for the whole window: its constant parts (the base, and
    heating where the type has none) are held once, as a read-only view (a year's campus: 200 MB less)."""
    site = SiteModel(load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario)
    meter = meters(site.scenario)[0]
    site.load_w(meter)
    (demand,) = site._demand.values()
    assert demand.base.strides == (0,) and len(demand.base) == site.grid.count
    assert site.scenario.profile(meter.building_type).heating_share == 0 and demand.heating.strides == (0,)
    assert (demand.heating == 0).all()

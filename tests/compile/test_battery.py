"""The battery: what each mode asks, and the state of charge it reaches (compiled plan and run-time stepping)."""

from __future__ import annotations

import numpy as np
import pytest

from amiscen.compile.battery import FLOAT_CHARGE_SHARE, Battery, requested_power, simulate
from amiscen.scenario.fleet import Battery as BatterySpec
from amiscen.scenario.fleet import BatteryMode

STEP = 900.0
DAY = int(86400 / STEP)


def _series(days: int, load_kw: float, pv_kw: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = days * DAY
    hours = (np.arange(n) * STEP / 3600) % 24
    return np.full(n, load_kw * 1000), np.full(n, pv_kw * 1000), hours, np.ones(n, dtype=bool)


def test_a_backup_battery_is_kept_full_from_the_grid_when_there_is_no_surplus_pv() -> None:
    """issue #18: a backup battery only soaked up surplus PV, so under a building that uses all its PV it lost its
    standby loss every day and never recharged (50 % -> 10 % over a year)."""
    spec = BatterySpec(kwh=20, kw=5, mode=BatteryMode.backup, initial_soc=0.5)
    load, pv, hours, weekday = _series(365, load_kw=8, pv_kw=3)
    request = requested_power(spec, load, pv, hours, weekday)
    assert np.all(request == -FLOAT_CHARGE_SHARE * 5000)
    power, soc = simulate(spec, request, STEP)
    full = np.argmax(soc >= spec.soc_max - 1e-9)
    # 45 % of 20 kWh at 0.5 kW with one-way efficiency sqrt(0.9): 9 kWh / (0.5 kW * 0.9487) = 19 h
    assert full * STEP / 3600 == pytest.approx(9 / (0.5 * 0.9**0.5), abs=0.25)
    assert soc[full:].min() >= spec.soc_max - 0.001  # held full for the rest of the year
    assert np.all(power[full + 1 :] <= 0) and power[full + 1 :].sum() > -5000  # little taken once full


def test_a_backup_battery_takes_surplus_pv_first() -> None:
    spec = BatterySpec(kwh=20, kw=5, mode=BatteryMode.backup)
    load, pv, hours, weekday = _series(1, load_kw=2, pv_kw=6)
    assert np.all(requested_power(spec, load, pv, hours, weekday) == -4000)


@pytest.mark.parametrize("mode", list(BatteryMode))
def test_the_plan_and_the_run_time_battery_agree(mode: BatteryMode) -> None:
    """``simulate`` (the compiled plan, vectorised) and ``Battery`` (stepped at run time) give the same state of
    charge for the same requests."""
    spec = BatterySpec(kwh=13.5, kw=5, mode=mode, standby_loss_per_day=0.0, peak_threshold_kw=4)
    rng = np.random.default_rng(3)
    load = rng.uniform(0, 12_000, 3 * DAY)
    pv = rng.uniform(0, 8_000, 3 * DAY)
    hours = (np.arange(3 * DAY) * STEP / 3600) % 24
    request = requested_power(spec, load, pv, hours, np.ones(3 * DAY, dtype=bool))
    power, soc = simulate(spec, request, STEP)
    stepped = Battery(spec, STEP)
    for i in range(3 * DAY):
        assert stepped.dispatch(load[i], pv[i], hours[i], True) == pytest.approx(power[i], abs=1e-6)
        assert stepped.state.soc == pytest.approx(soc[i], abs=1e-9)


def test_the_tariffs_peak_window_is_declared_not_thai_by_force() -> None:
    """issue #18: the on-peak window was the Thai TOU tariff's 09:00-22:00 for every site; a battery declares its
    tariff's (here an evening peak, 17:00-21:00)."""
    spec = BatterySpec(kwh=20, kw=5, mode=BatteryMode.time_of_use, peak_hours=(17, 21))
    load, pv, hours, weekday = _series(1, load_kw=3, pv_kw=0)
    request = requested_power(spec, load, pv, hours, weekday)
    evening = (hours >= 17) & (hours < 21)
    assert np.all(request[evening] == 3000)  # discharges to cover the load on peak
    assert np.all(request[~evening] == -2500)  # charges off peak
    assert BatterySpec(kwh=20, kw=5).peak_hours == (9.0, 22.0)  # the default stays the Thai tariff's
    with pytest.raises(ValueError, match="peak_hours must be"):
        BatterySpec(kwh=20, kw=5, peak_hours=(21, 17))

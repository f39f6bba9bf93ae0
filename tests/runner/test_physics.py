"""Controls in the physics: a CSIP-AUS dynamic operating envelope holds at the connection point, met by the battery
first and by curtailing PV after; a disconnect stops PV and battery; no control reproduces the plan."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from amiscen.compile.plan import SiteModel
from amiscen.compile.registers import NOMINAL_VOLTAGE, grid_frequency
from amiscen.runner.baseline import Baseline
from amiscen.runner.physics import (
    RECONNECT_S,
    VAR_SHARE,
    Control,
    MeterPhysics,
    on_curve,
)
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

SUNNY_PROSUMER = """\
schema_version: 1
name: physics
time: {start: 2026-03-02T11:00:00+07:00, duration: 2h, reading_interval: 60s, seed: 3}
buildings:
  - name: roof
    type: support
    peak_kw: 10
    meters:
      - {id: PV_ONLY, pv: {kwp: 60}}
      - {id: PV_AND_BATTERY, pv: {kwp: 60}, battery: {kwh: 200, kw: 20, initial_soc: 0.3}}
"""
START = 1_772_424_000  # 2026-03-02T11:00:00+07:00


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SiteModel:
    path: Path = tmp_path_factory.mktemp("physics") / "physics.yaml"
    path.write_text(SUNNY_PROSUMER)
    return SiteModel(load_scenario(path).scenario)


def _play(site: SiteModel, meter_id: str, controls: list[Control]) -> list:  # type: ignore[type-arg]
    (spec,) = [m for m in meters(site.scenario) if m.id == meter_id]
    physics = MeterPhysics(Baseline.of(site.meter_plan(spec)), site)
    return physics.intervals_until(START + 7200, controls)


def _export_w(x) -> float:  # type: ignore[no-untyped-def]
    return x.export_wh / (x.duration / 3600)


def test_export_limit_curtails_pv_on_a_meter_without_battery(site: SiteModel) -> None:
    free = _play(site, "PV_ONLY", [])
    assert max(_export_w(x) for x in free) > 20_000  # the sun would push out well over the limit
    limited = _play(site, "PV_ONLY", [Control(START, START + 7200, export_limit_w=5000)])
    assert max(_export_w(x) for x in limited) == pytest.approx(5000, abs=1)
    assert all(x.pv_w <= f.pv_w + 1e-6 for x, f in zip(limited, free, strict=True))


def test_export_limit_charges_the_battery_before_curtailing(site: SiteModel) -> None:
    limited = _play(site, "PV_AND_BATTERY", [Control(START, START + 7200, export_limit_w=0)])
    assert max(_export_w(x) for x in limited) == pytest.approx(0, abs=1)
    charging = [x for x in limited if x.battery_w < -1]
    assert charging and min(x.battery_w for x in charging) == pytest.approx(-20_000, abs=1)  # full charge rate
    # what the battery could not absorb was curtailed: PV is exactly load + charge
    assert all(x.pv_w == pytest.approx(x.load_w - x.battery_w, abs=1) for x in limited if x.pv_w > 0)


def test_generation_limit_caps_pv(site: SiteModel) -> None:
    limited = _play(site, "PV_ONLY", [Control(START, START + 7200, generation_limit_w=7000)])
    assert max(x.pv_w for x in limited) == pytest.approx(7000, abs=1)


def test_a_default_control_yields_to_an_active_one(site: SiteModel) -> None:
    default = Control(0, 2**62, export_limit_w=1000, default=True)
    event = Control(START + 3600, START + 7200, export_limit_w=8000)
    played = _play(site, "PV_ONLY", [default, event])
    first, second = played[:60], played[60:]
    assert max(_export_w(x) for x in first) == pytest.approx(1000, abs=1)
    assert max(_export_w(x) for x in second) == pytest.approx(8000, abs=1)


def test_disconnect_stops_pv_and_battery(site: SiteModel) -> None:
    off = _play(site, "PV_AND_BATTERY", [Control(START, START + 7200, pv_connected=False)])
    assert all(x.pv_w == 0 and x.battery_w == 0 for x in off)


def test_no_control_is_the_plan(site: SiteModel) -> None:
    (spec,) = [m for m in meters(site.scenario) if m.id == "PV_AND_BATTERY"]
    plan = site.meter_plan(spec)
    played = _play(site, "PV_AND_BATTERY", [])
    # the run keeps the plan in float32 (Baseline): the same to its precision
    assert [x.battery_w for x in played] == pytest.approx(list(plan.registers.battery_w), rel=1e-6, abs=1e-3)


def test_a_default_control_that_limits_nothing_is_the_plan(site: SiteModel) -> None:
    """The embedded head-end's DefaultDERControl says "connected, up to 100 %": the readings stay the plan's."""
    (spec,) = [m for m in meters(site.scenario) if m.id == "PV_AND_BATTERY"]
    plan = site.meter_plan(spec)
    default = Control(0, 2**62, max_w_share=1.0, pv_connected=True, default=True)
    played = _play(site, "PV_AND_BATTERY", [default])
    # the run keeps the plan in float32 (Baseline): the same to its precision
    assert [x.battery_w for x in played] == pytest.approx(list(plan.registers.battery_w), rel=1e-6, abs=1e-3)


# -- Rule 21 (CSIP): reactive power and the curve modes ------------------------------------------------------------
def _rated(site: SiteModel, meter_id: str) -> float:
    (spec,) = [m for m in meters(site.scenario) if m.id == meter_id]
    return MeterPhysics(Baseline.of(site.meter_plan(spec)), site).rated_w


def test_a_fixed_power_factor_absorbs_var_in_proportion_to_output(site: SiteModel) -> None:
    out = _play(site, "PV_ONLY", [Control(START, START + 7200, pf_inject=(0.9, True))])
    generating = [x for x in out if x.pv_w > 1000]
    assert generating
    for x in generating:
        assert x.reactive_var == pytest.approx(-x.pv_w * math.tan(math.acos(0.9)), rel=1e-9)


def test_reactive_power_stays_within_the_var_capability(site: SiteModel) -> None:
    rated = _rated(site, "PV_ONLY")
    out = _play(site, "PV_ONLY", [Control(START, START + 7200, var_share=-1.0, target_var=None)])
    assert {round(x.reactive_var) for x in out} == {round(-VAR_SHARE * rated)}
    # a power factor of 0.5 would ask 1.73 var per watt: held to the capability
    out = _play(site, "PV_ONLY", [Control(START, START + 7200, pf_inject=(0.5, False))])
    assert max(x.reactive_var for x in out) <= VAR_SHARE * rated + 1e-6


def test_volt_var_follows_its_curve(site: SiteModel) -> None:
    curve = ((90.0, 0.44), (110.0, -0.44))  # no deadband: every voltage gets some var
    plain = _play(site, "PV_ONLY", [])
    out = _play(site, "PV_ONLY", [Control(START, START + 7200, volt_var=curve)])
    rated = _rated(site, "PV_ONLY")
    for before, x in zip(plain, out, strict=True):
        expected = on_curve(curve, 100 * before.voltage_v / NOMINAL_VOLTAGE) * VAR_SHARE * rated
        assert x.reactive_var == pytest.approx(expected, abs=1e-6)
        assert (x.voltage_v - before.voltage_v) * expected >= 0  # injecting var raises the voltage, absorbing lowers it


def test_frequency_watt_caps_output_and_the_frequency_is_the_grids(site: SiteModel) -> None:
    curve = ((49.0, 0.25), (51.0, 0.25))  # a flat cap of 25 % of setMaxW at any frequency
    out = _play(site, "PV_AND_BATTERY", [Control(START, START + 7200, freq_watt=curve)])
    rated = _rated(site, "PV_AND_BATTERY")
    assert max(x.pv_w + max(x.battery_w, 0.0) for x in out) <= 0.25 * rated + 1e-6
    assert all(49.9 < x.frequency_hz < 50.1 for x in out)
    assert [x.frequency_hz for x in out] == [grid_frequency(x.start) for x in out]  # the same at every meter


def test_volt_watt_caps_output_by_voltage(site: SiteModel) -> None:
    curve = ((0.0, 0.1), (200.0, 0.1))
    out = _play(site, "PV_ONLY", [Control(START, START + 7200, volt_watt=curve)])
    assert max(x.pv_w for x in out) <= 0.1 * _rated(site, "PV_ONLY") + 1e-6


def test_on_curve_is_linear_between_points_and_flat_beyond() -> None:
    curve = ((92.0, 0.3), (98.0, 0.0), (102.0, 0.0), (108.0, -0.3))
    assert [on_curve(curve, v) for v in (80, 92, 95, 100, 105, 108, 120)] == pytest.approx(
        [0.3, 0.3, 0.15, 0.0, -0.15, -0.3, -0.3]
    )


def test_a_60_hz_240_v_site_reports_around_its_own_nominal(site: SiteModel, tmp_path: Path) -> None:
    """A North American site (site.grid): frequency around 60 Hz, voltages scaled to 240 V, and a volt-var curve
    read against 240 V."""
    path = tmp_path / "us.yaml"
    grid = "site: {grid: {voltage_v: 240, frequency_hz: 60}}"
    path.write_text(SUNNY_PROSUMER.replace("name: physics", "name: physics\n" + grid))
    us = SiteModel(load_scenario(path).scenario)
    here, there = _play(site, "PV_ONLY", []), _play(us, "PV_ONLY", [])
    ratios = [x.voltage_v / y.voltage_v for x, y in zip(there, here, strict=True)]
    assert ratios == pytest.approx([240 / 230] * len(here), rel=1e-6)  # the baseline is kept in single precision
    assert all(59.9 < x.frequency_hz < 60.1 for x in there)
    curve = ((90.0, 0.44), (110.0, -0.44))
    out = _play(us, "PV_ONLY", [Control(START, START + 7200, volt_var=curve)])
    rated = _rated(us, "PV_ONLY")
    for before, x in zip(there, out, strict=True):
        assert x.reactive_var == pytest.approx(on_curve(curve, 100 * before.voltage_v / 240) * VAR_SHARE * rated)


def test_a_must_trip_setting_trips_the_der_and_it_comes_back_after_the_grid_is_normal(site: SiteModel) -> None:
    always = ("HV", ((1.0, 50.0),), True)  # above 50 % of nominal for a second: always beyond
    out = _play(site, "PV_ONLY", [Control(START, START + 1200, trips=(always,))])
    assert all(x.pv_w == 0 and x.reactive_var == 0 for x in out if x.start < START + 1200 + RECONNECT_S)
    assert all(x.pv_w > 0 for x in out if x.start >= START + 1200 + RECONNECT_S + 60)  # back after setESDelay
    never = ("HV", ((1.0, 150.0),), True)
    assert _play(site, "PV_ONLY", [Control(START, START + 7200, trips=(never,))]) == _play(site, "PV_ONLY", [])


def test_momentary_cessation_only_while_beyond(site: SiteModel) -> None:
    cease = ("HF", ((1.0, 0.0),), False)  # any frequency is above 0 Hz: no output while in force
    out = _play(site, "PV_ONLY", [Control(START, START + 1200, trips=(cease,))])
    assert all(x.pv_w == 0 for x in out if x.start < START + 1200)
    assert all(x.pv_w > 0 for x in out if x.start >= START + 1200)


def test_over_frequency_droop_lowers_output_beyond_the_dead_band(site: SiteModel) -> None:
    plain = _play(site, "PV_ONLY", [])
    out = _play(site, "PV_ONLY", [Control(START, START + 7200, droop=(0.0, 0.0, 0.05, 0.05))])
    rated = _rated(site, "PV_ONLY")
    for before, x in zip(plain, out, strict=True):
        rise = x.frequency_hz - 50.0
        expected = before.pv_w if rise <= 0 else max(0.0, before.pv_w - rated * (rise / 50.0) / 0.05)
        assert x.pv_w == pytest.approx(min(before.pv_w, expected), abs=1e-6)
    assert any(x.pv_w < y.pv_w for x, y in zip(out, plain, strict=True))


def test_a_ramp_time_moves_output_to_the_setting_in_a_straight_line(site: SiteModel) -> None:
    """rampTms 600 s to 0 %: a tenth of the way down each minute, from the output before the control began."""
    begin = START + 1800
    plain = _play(site, "PV_ONLY", [])
    out = _play(site, "PV_ONLY", [Control(begin, begin + 3600, max_w_share=0.0, ramp_s=600.0)])
    before = next(x for x in out if x.start == begin - 60).pv_w
    ramp = [x for x in out if begin <= x.start < begin + 600]
    assert len(ramp) == 10
    for k, x in enumerate(ramp):
        available = next(y.pv_w for y in plain if y.start == x.start)
        assert x.pv_w == pytest.approx(min(available, before * (1 - (k + 1) / 10)), abs=1e-6)
    assert all(x.pv_w == 0 for x in out if begin + 600 <= x.start < begin + 3600)
    no_ramp = _play(site, "PV_ONLY", [Control(begin, begin + 3600, max_w_share=0.0)])
    assert next(x for x in no_ramp if x.start == begin).pv_w == 0  # at once without one


def test_max_limit_is_a_share_of_set_max_w_on_pv_and_battery_together(site: SiteModel) -> None:
    """opModMaxLimW is a share of setMaxW, which the meter advertises as its PV and battery inverters together
    (issue #18: it was applied to the PV inverter alone, and the battery was left unlimited)."""
    (spec,) = [m for m in meters(site.scenario) if m.id == "PV_AND_BATTERY"]
    assert spec.pv is not None and spec.battery is not None
    set_max_w = (spec.pv.ac_kw + spec.battery.kw) * 1000
    limited = _play(site, "PV_AND_BATTERY", [Control(START, START + 7200, max_w_share=0.3)])
    output = [x.pv_w + max(x.battery_w, 0.0) for x in limited]
    assert max(output) == pytest.approx(0.3 * set_max_w, abs=1)  # the sun gives more: held at the limit
    assert all(o <= 0.3 * set_max_w + 1e-6 for o in output)
    night = _play(site, "PV_AND_BATTERY", [Control(START, START + 7200, max_w_share=0.0)])
    assert all(x.pv_w == 0 and x.battery_w <= 0 for x in night)  # 0 %: nothing out, the battery may still charge


def test_a_dr_event_sheds_the_types_declared_share_and_the_load_comes_back_after(site: SiteModel) -> None:
    """issue #18: the shed was a flat step with no rebound, its share hard-coded. The support type declares 0.2 of
    demand; after the event 0.3 of the shed energy is paid back, decaying with a 30-minute time constant."""
    profile = site.scenario.profile("support")
    assert (profile.dr_shed_share, profile.dr_rebound_share, profile.dr_rebound_minutes) == (0.2, 0.3, 30.0)
    free = _play(site, "PV_ONLY", [])
    event = _play(site, "PV_ONLY", [Control(START, START + 1800, reduce_share=0.9)])
    during, after = slice(0, 30), slice(30, 120)  # one-minute intervals
    shed_wh = sum(f.load_w - e.load_w for f, e in zip(free[during], event[during], strict=True)) / 60
    assert all(e.load_w == pytest.approx(0.8 * f.load_w) for f, e in zip(free[during], event[during], strict=True))
    paid = [(e.load_w - f.load_w) / 60 for f, e in zip(free[after], event[after], strict=True)]
    assert all(p > 0 for p in paid[:60]) and paid[0] > paid[30] > paid[59]  # decaying
    first_hour = sum(paid[:60])
    assert first_hour == pytest.approx(0.3 * shed_wh * (1 - math.exp(-2)), rel=1e-6)


def test_the_hour_before_a_dr_event_pre_cools(site: SiteModel) -> None:
    """issue #18: no pre-cooling. In the dr_precool_minutes (60) before an event the meter has taken, the building
    draws dr_precool_share (0.25) of what it will shed; without an event, or once it has started, nothing extra."""
    profile = site.scenario.profile("support")
    assert (profile.dr_precool_share, profile.dr_precool_minutes) == (0.25, 60.0)
    free = _play(site, "PV_ONLY", [])
    event = _play(site, "PV_ONLY", [Control(START + 3600, START + 5400, reduce_share=0.9)])
    before, during = slice(0, 60), slice(60, 90)
    will_shed = [0.2 * f.load_w for f in free[before]]  # the type sheds at most 0.2 of its demand
    for f, e, shed in zip(free[before], event[before], will_shed, strict=True):
        assert e.load_w == pytest.approx(f.load_w + 0.25 * shed)
    assert all(e.load_w == pytest.approx(0.8 * f.load_w) for f, e in zip(free[during], event[during], strict=True))
    later = _play(site, "PV_ONLY", [Control(START + 5400, START + 7200, reduce_share=0.9)])
    assert all(e.load_w == f.load_w for f, e in zip(free[:30], later[:30], strict=True))  # 90 min ahead: not yet

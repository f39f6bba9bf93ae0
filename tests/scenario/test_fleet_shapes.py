"""issue #18: a group of meters described by shares and a size distribution instead of hand-split groups, and
meters that only measure generation."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from amiscen.compile.plan import SiteModel
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

SITE = """\
schema_version: 1
time: {start: 2026-03-02T00:00, duration: 1d, reading_interval: 300s, seed: 11}
function_sets: {mirror_usage_point: {post_rate: 3600s}}
buildings:
"""


def _fleet(tmp_path: Path, buildings: str, seed: int = 11):
    path = tmp_path / "s.yaml"
    path.write_text(SITE.replace("seed: 11", f"seed: {seed}") + buildings)
    loaded = load_scenario(path)
    return loaded, meters(loaded.scenario)


def test_shares_pick_that_many_meters_by_the_seed(tmp_path: Path) -> None:
    buildings = (
        "  - {name: dorms, type: residential, count: 300, pv: {kwp: 6, share: 0.5},\n"
        "     battery: {kwh: 10, kw: 5, share: 0.3}}\n"
    )
    _, fleet = _fleet(tmp_path, buildings)
    with_pv = {m.id for m in fleet if m.pv}
    with_battery = {m.id for m in fleet if m.battery}
    assert len(with_pv) == 150 and len(with_battery) == 90
    assert 0 < len(with_pv & with_battery) < 90  # drawn apart: some meters have both
    numbers = sorted(int(i[-3:]) for i in with_pv)
    assert numbers[0] < 30 and numbers[-1] > 270  # spread over the building, not its first half
    _, again = _fleet(tmp_path, buildings)
    assert {m.id for m in again if m.pv} == with_pv  # same seed, same meters
    _, other = _fleet(tmp_path, buildings, seed=12)
    assert {m.id for m in other if m.pv} != with_pv


def test_a_size_spread_scales_each_meter_its_pv_and_battery_together(tmp_path: Path) -> None:
    _, fleet = _fleet(
        tmp_path,
        "  - {name: offices, type: administrative, count: 400, peak_kw: 100, size_spread: 0.3,\n"
        "     pv: {kwp: 50}, battery: {kwh: 100, kw: 40, mode: peak_shaving, peak_threshold_kw: 80}}\n",
    )
    peaks = [m.peak_kw for m in fleet]
    assert statistics.mean(peaks) == pytest.approx(100, rel=0.05)
    assert statistics.stdev(peaks) / statistics.mean(peaks) == pytest.approx(0.3, rel=0.15)
    assert min(peaks) >= 20 and max(peaks) <= 500
    for m in fleet:
        assert m.pv is not None and m.battery is not None
        factor = m.peak_kw / 100
        assert m.pv.kwp == pytest.approx(50 * factor)
        assert (m.battery.kwh, m.battery.kw, m.battery.peak_threshold_kw) == pytest.approx(
            (100 * factor, 40 * factor, 80 * factor)
        )


def test_shares_and_spread_on_listed_meters_are_told(tmp_path: Path) -> None:
    loaded, _ = _fleet(
        tmp_path,
        "  - {name: a, type: academic, size_spread: 0.2, pv: {kwp: 10, share: 0.5}, meters: [{id: M1}]}\n"
        "  - {name: b, type: academic, count: 3, battery: {kwh: 10, kw: 5, share: 0.1}}\n",
    )
    messages = [w.message for w in loaded.warnings]
    assert "applies to generated meters (count); a listed meter that inherits it always has it" in messages
    assert "0.1 of 3 meters is none of them" in messages
    assert any(m.startswith("applies to generated meters (count); give each listed meter") for m in messages)


def test_a_pv_plant_meter_exports_by_day_and_draws_its_own_load_at_night(tmp_path: Path) -> None:
    loaded, fleet = _fleet(tmp_path, "  - {name: carport, type: pv_plant, count: 1, pv: {kwp: 100}}\n")
    site = SiteModel(loaded.scenario)
    plan = site.meter_plan(fleet[0])
    load = site.load_w(fleet[0])
    assert 400 < load.mean() < 600 and load.max() < 700  # the plant's own 0.5 kW
    pv = site.pv_w(fleet[0])
    assert pv.max() > 50_000
    net = load - pv
    assert net.min() < -50_000 and (net[pv == 0] > 0).all()
    assert plan.registers is not None


def test_batteries_follow_the_sites_tariff_unless_they_say_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "tariff.yaml"
    path.write_text(
        SITE.replace("buildings:\n", "site: {tariff: {peak_hours: [16, 21]}}\nbuildings:\n")
        + "  - {name: a, type: academic, count: 2, battery: {kwh: 50, kw: 20, mode: time_of_use}}\n"
        "  - {name: b, type: academic, count: 1, battery: {kwh: 50, kw: 20, mode: time_of_use, peak_hours: [9, 22]}}\n"
    )
    fleet = meters(load_scenario(path).scenario)
    assert [m.battery.peak_hours for m in fleet if m.battery] == [(16, 21), (16, 21), (9, 22)]

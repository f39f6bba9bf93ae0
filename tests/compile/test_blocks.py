"""A meter's plan is computed a block of intervals at a time (issue #16): every series that runs on (AR(1) noise,
cumulative totals, appliance steps, the battery's charge) carries across blocks, so the blocks joined are the
whole window computed at once, bit for bit, wherever the blocks are cut."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from amiscen.compile import blocks as blocks_module
from amiscen.compile.battery import CHUNK, Simulation, requested_power
from amiscen.compile.blocks import CumulativeSum
from amiscen.compile.load import MeterLoad
from amiscen.compile.plan import SiteModel
from amiscen.compile.registers import Registers
from amiscen.compile.weather import Ar1, Recurrence
from amiscen.scenario import load_scenario, meters
from amiscen.scenario.fleet import Battery as BatterySpec
from amiscen.scenario.fleet import BatteryMode

ROOT = Path(__file__).resolve().parents[2]
CAMPUS = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario


def _cuts(n: int, seed: int, most: int) -> list[int]:
    """Random block lengths adding up to n (some of length 1)."""
    rng = np.random.default_rng(seed)
    lengths = []
    while sum(lengths) < n:
        lengths.append(int(min(rng.integers(1, most), n - sum(lengths))))
    return lengths


@pytest.mark.parametrize("phi", [0.3, 0.99, 0.99995])
def test_a_recurrence_given_in_blocks_is_the_whole_series(phi: float) -> None:
    shocks = np.random.default_rng(1).standard_normal(200_000)
    whole = Recurrence(phi, 0.4).next(shocks)
    blocks, at = Recurrence(phi, 0.4), 0
    parts = []
    for length in _cuts(len(shocks), 2, 30_000):
        parts.append(blocks.next(shocks[at : at + length]))
        at += length
    assert Recurrence(phi, 0.4).length < len(shocks)  # chunks are cut by blocks, not only at their ends
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    naive = np.empty(len(shocks))
    value = 0.4
    for k, x in enumerate(shocks[:2000]):  # and it is the recurrence it claims to be
        value = naive[k] = phi * value + x
    np.testing.assert_allclose(whole[:2000], naive[:2000], rtol=1e-9, atol=1e-9)


def test_an_ar1_stream_and_a_cumulative_sum_given_in_blocks_are_the_whole() -> None:
    def ar1() -> Ar1:
        return Ar1(np.random.default_rng(7), 15.0, 1800.0)

    whole = ar1().next(100_000)
    series = ar1()
    np.testing.assert_array_equal(np.concatenate([series.next(k) for k in _cuts(100_000, 3, 9000)]), whole)
    x = np.abs(whole) * 1.7
    total, at, parts = CumulativeSum(5.5), 0, []
    for length in _cuts(len(x), 4, 9000):
        parts.append(total.next(x[at : at + length]))
        at += length
    np.testing.assert_array_equal(np.concatenate(parts), 5.5 + np.cumsum(x))


def test_a_battery_simulated_in_whole_chunks_is_the_whole_series() -> None:
    spec = BatterySpec(kwh=30, kw=10, mode=BatteryMode.self_consumption, standby_loss_per_day=0.01)
    n, chunk = 96 * 40, 96
    hours = (np.arange(n) * 0.25) % 24
    request = requested_power(
        spec,
        8000 + 3000 * np.sin(hours / 3),
        12000 * np.clip(np.sin((hours - 6) / 12 * np.pi), 0, 1),
        hours,
        np.ones(n, dtype=bool),
    )
    whole = Simulation(spec, 900.0, chunk).next(request)
    assert whole[1].min() <= spec.soc_min + 1e-9 and whole[1].max() >= spec.soc_max - 1e-9  # both bounds hit
    blocks, at, parts = Simulation(spec, 900.0, chunk), 0, []
    for days in (1, 7, 3, 29):
        parts.append(blocks.next(request[at : at + days * chunk]))
        at += days * chunk
    for i in (0, 1):
        np.testing.assert_array_equal(np.concatenate([p[i] for p in parts]), whole[i])
    odd = Simulation(spec, 900.0, chunk)
    odd.next(request[:150])
    with pytest.raises(ValueError, match="whole number of chunks"):
        odd.next(request[150:300])


def test_a_meters_load_given_in_blocks_is_the_whole_window() -> None:
    site = SiteModel(CAMPUS)
    meter = meters(CAMPUS)[0]
    whole = site.load_w(meter)
    load = site._load(meter)
    np.testing.assert_array_equal(np.concatenate([load.next(k) for k in _cuts(len(whole), 5, 40)]), whole)
    assert isinstance(load, MeterLoad)


def test_meter_plans_are_the_same_whatever_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three days of every campus meter (PV, batteries of each kind, steps), computed in blocks of one battery
    chunk and in one block: the same registers, bit for bit."""
    s = CAMPUS.model_copy(
        update={
            "time": CAMPUS.time.model_copy(
                update={
                    "start": dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
                    "duration": dt.timedelta(days=3, hours=5),
                }
            )
        }
    )
    fleet = meters(s)
    assert any(m.battery for m in fleet) and any(m.pv for m in fleet)
    one_block = {m.id: SiteModel(s).meter_plan(m).registers for m in fleet}
    monkeypatch.setattr(blocks_module, "BLOCK", CHUNK)
    site = SiteModel(s)
    assert site.grid.count > 3 * blocks_module.BLOCK
    for m in fleet:
        blocked = site.meter_plan(m).registers
        for name in Registers.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(blocked, name), getattr(one_block[m.id], name), err_msg=name)


def test_clouds_held_to_days_a_few_days_at_a_time_are_those_of_all_days_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The per-day bisection runs over a few days' sunlit intervals at a time: the same cover, bit for bit."""
    from amiscen.compile import weather as weather_module

    s = CAMPUS.model_copy(update={"time": CAMPUS.time.model_copy(update={"duration": dt.timedelta(days=20, hours=7)})})
    covers = []
    for days in (1, 3, 8, 10_000):
        monkeypatch.setattr(weather_module, "DAYS_AT_A_TIME", days)
        covers.append(SiteModel(s).weather.clear_sky_index)
    assert 0.2 < 1 - covers[0][covers[0] < 1].mean() < 0.95  # clouds, not a constant
    for cover in covers[1:]:
        np.testing.assert_array_equal(cover, covers[0])

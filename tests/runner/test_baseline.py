"""The runner's baseline (issue #16: memory per meter, flat in the simulated length): a series that never changes
(no PV, no battery) is held as one value; a run keeps the rest on disk and a window in memory; both read exactly
like the compiled plan in single precision."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from amiscen.compile.plan import SiteModel
from amiscen.runner.baseline import SERIES, WINDOW, Baseline, BaselineFile
from amiscen.scenario import load_scenario
from amiscen.scenario.model import Scenario, meters

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def campus() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _rows(site: SiteModel, meter_id: str) -> np.ndarray:
    (spec,) = [m for m in meters(site.scenario) if m.id == meter_id]
    r = site.meter_plan(spec).registers
    return np.stack([getattr(r, name).astype(np.float32) for name in SERIES], axis=1)


@pytest.mark.parametrize("kind", ["plain", "pv", "battery"])
def test_held_and_spilled_read_like_the_plan(campus: Scenario, tmp_path: Path, kind: str) -> None:
    site = SiteModel(campus)
    fleet = meters(campus)
    spec = {
        "plain": next(m for m in fleet if m.pv is None and m.battery is None),
        "pv": next(m for m in fleet if m.pv is not None and m.battery is None),
        "battery": next(m for m in fleet if m.battery is not None),
    }[kind]
    full = _rows(site, spec.id)
    spill = BaselineFile(tmp_path)
    other = spill.keep(site.meter_plan(fleet[0]))  # another meter before it in the file
    held, spilled = Baseline.of(site.meter_plan(spec)), spill.keep(site.meter_plan(spec))
    assert len(held) == len(spilled) == len(full)
    # in order as a run reads, across every window's edge, then a jump back (a resumed meter starts mid-plan)
    for i in [*range(len(full)), 5, WINDOW - 1, WINDOW, len(full) - 1]:
        for baseline in (held, spilled):
            assert all(_same(a, float(b)) for a, b in zip(baseline.at(i), full[i], strict=True)), (kind, i)
    assert other.at(0) == Baseline.of(site.meter_plan(fleet[0])).at(0)
    with pytest.raises(IndexError):
        spilled.at(len(full))
    spill.close()
    assert list(tmp_path.iterdir()) == []  # the file was never visible


def test_constant_series_are_held_as_one_value(campus: Scenario) -> None:
    site = SiteModel(campus)
    fleet = meters(campus)
    n = site.grid.count
    plain = next(m for m in fleet if m.pv is None and m.battery is None)
    storing = next(m for m in fleet if m.battery is not None)
    assert Baseline.of(site.meter_plan(plain)).nbytes == 2 * 4 * n + 3 * 4  # load, voltage; PV, battery, SoC: one
    assert Baseline.of(site.meter_plan(storing)).nbytes >= 4 * 4 * n


def test_a_spilled_baseline_costs_the_same_memory_for_a_day_and_a_week(campus: Scenario, tmp_path: Path) -> None:
    spill = BaselineFile(tmp_path)
    used, kept = {}, 0
    for days in (1, 7):
        s = campus.model_copy(update={"time": campus.time.model_copy(update={"duration": dt.timedelta(days=days)})})
        site = SiteModel(s)
        fleet = meters(s)
        baselines = [spill.keep(site.meter_plan(m)) for m in fleet]
        for b in baselines:
            b.at(len(b) - 1)  # each holds its last window
        used[days] = sum(b.nbytes for b in baselines)
        kept += sum(len(b) * len(b.varying) * 4 for b in baselines)
        assert used[days] <= len(fleet) * WINDOW * 4 * len(SERIES)
    assert used[7] == used[1]
    assert spill.size == kept  # every value is on disk, once
    spill.close()

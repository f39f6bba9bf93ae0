"""The campus year against published figures for Bangkok and Thai university buildings.

- PV: SolarGIS gives 1,300-1,500 kWh/kWp a year for crystalline rooftop arrays around Bangkok (Peerapong &
  Limmeechokchai, Energy Procedia 79 (2015) 39-46).
- Load: Thai university and office buildings use about 100-250 kWh/m2 a year (DEDE building energy code
  benchmarks for educational and office buildings); laboratories and data centres more.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from amiscen.compile.plan import SiteModel
from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_campus_year_is_believable() -> None:
    s = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    s = s.model_copy(update={"time": s.time.model_copy(update={"start": start, "duration": dt.timedelta(days=365)})})
    site = SiteModel(s)
    hours = 15 / 3600
    by_type: dict[str, list[float]] = {}
    pv_kwh = kwp = 0.0
    for meter in meters(s):
        r = site.meter_plan(meter).registers
        t = by_type.setdefault(meter.building_type, [0.0, 0.0])
        t[0] += float(r.load_w.sum()) * hours / 1000
        t[1] += meter.floor_area_m2 or 0.0
        if meter.pv is not None:
            pv_kwh += float(r.pv_w.sum()) * hours / 1000
            kwp += meter.pv.kwp
    assert 1300 <= pv_kwh / kwp <= 1500, pv_kwh / kwp
    intensity = {k: kwh / area for k, (kwh, area) in by_type.items()}
    for kind in ("academic", "administrative", "residential", "support", "athletic"):
        assert 100 <= intensity[kind] <= 250, (kind, intensity[kind])
    assert 150 <= intensity["research"] <= 400  # labs and a data centre
    total = sum(kwh for kwh, _ in by_type.values())
    assert 100 <= total / sum(a for _, a in by_type.values()) <= 250

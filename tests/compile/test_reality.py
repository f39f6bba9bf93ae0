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


# climates as a scenario gives them: (site, weather, UTC offset in January)
CLIMATES = {
    "tropical (Bangkok, the defaults)": ("{name: UTCC, latitude: 13.78, longitude: 100.56, timezone: Asia/Bangkok}", 7),
    "temperate with DST (Garching)": (
        "{name: Garching, latitude: 48.265, longitude: 11.671, timezone: Europe/Berlin, weather: {"
        "monthly_mean_c: [0.6, 1.8, 5.5, 9.7, 13.9, 17.3, 19.1, 18.7, 14.6, 10.0, 5.0, 1.6], daily_swing_c: 9, "
        "day_to_day_c: 3.5, spell_days: 4, "
        "cloudiness: [0.64, 0.56, 0.48, 0.42, 0.42, 0.38, 0.36, 0.36, 0.40, 0.52, 0.64, 0.68]}}",
        1,
    ),
    "hot-arid (Phoenix)": (
        "{name: Phoenix, latitude: 33.45, longitude: -112.07, timezone: America/Phoenix, weather: {"
        "monthly_mean_c: [13.5, 15.3, 18.7, 22.6, 27.8, 32.9, 35.3, 34.6, 31.4, 24.9, 17.9, 12.8], daily_swing_c: 14, "
        "day_to_day_c: 2.0, cloudiness: [0.25, 0.22, 0.18, 0.12, 0.08, 0.06, 0.16, 0.17, 0.10, 0.10, 0.15, 0.24]}}",
        -7,
    ),
}


def _year(tmp_path: Path, site: str, offset: int, seed: int) -> SiteModel:
    path = tmp_path / "climate.yaml"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=offset))).isoformat()
    path.write_text(
        f"schema_version: 1\nsite: {site}\ncalendar: {{holidays: [], terms: []}}\n"
        f"time: {{start: '{start}', duration: 365d, reading_interval: 15m, seed: {seed}}}\n"
        "function_sets: {mirror_usage_point: {post_rate: 15m}}\n"
        "buildings: [{name: roof, type: support, meters: [{id: PV, pv: {kwp: 10, tilt_deg: 20}}]}]\n"
    )
    return SiteModel(load_scenario(path).scenario)


@pytest.mark.parametrize("climate", list(CLIMATES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_weather_is_the_climate_it_was_given(climate: str, seed: int, tmp_path: Path) -> None:
    """issue #18: realised cloudiness fell short of the asked (0.376 for 0.458), and every site got Bangkok's
    weather. A year's cloudiness (clear-sky irradiance lost, weighted as the sun gives it) is within 2 % of the
    asked mean; a month within 0.05 (a real month is that far from its normal); temperatures follow the given
    monthly means, their day-to-day spread and their daily swing."""
    import numpy as np

    site_text, offset = CLIMATES[climate]
    site = _year(tmp_path, site_text, offset, seed)
    weather = site.scenario.site.weather
    clear, ghi = site.clear.ghi, site.sky.ghi
    month = np.array([dt.datetime.fromtimestamp(float(t), dt.timezone.utc).month for t in site.grid.mids]) - 1
    clear_by_month = np.bincount(month, weights=clear, minlength=12)
    realised = 1 - np.bincount(month, weights=ghi, minlength=12) / clear_by_month
    asked_year = float(np.dot(weather.cloudiness, clear_by_month) / clear_by_month.sum())
    assert abs((1 - ghi.sum() / clear.sum()) - asked_year) <= 0.02 * asked_year
    assert np.abs(realised - np.array(weather.cloudiness)).max() <= 0.05
    temperature = site.weather.temperature_c
    monthly = np.bincount(month, weights=temperature, minlength=12) / np.bincount(month, minlength=12)
    spread_of_a_month = weather.day_to_day_c * 0.75 + 0.3  # a month's mean wanders with the spells
    assert np.abs(monthly - np.array(weather.monthly_mean_c)).max() <= 2.5 * spread_of_a_month
    assert abs(temperature.mean() - np.mean(weather.monthly_mean_c)) <= weather.day_to_day_c * 0.6 + 0.2
    days, index = site.grid.local_days()
    whole = [d for d in range(len(days)) if np.count_nonzero(index == d) >= 90]  # days the year covers
    highs = np.array([temperature[index == d].max() for d in whole])
    lows = np.array([temperature[index == d].min() for d in whole])
    assert np.median(highs - lows) == pytest.approx(weather.daily_swing_c, rel=0.25)
    if climate.startswith("temperate"):  # grey days: 8 % of days were overcast in Central Europe (issue #18)
        lost = 1 - np.bincount(index, weights=ghi) / np.maximum(np.bincount(index, weights=clear), 1e-9)
        overcast = float(np.mean(lost[whole] > 0.7))
        assert 0.15 <= overcast <= 0.4, overcast


def test_a_temperate_year_has_its_cold_snaps_and_heat() -> None:
    """Garching's year ran -6.8 to 25.9 degC with Bangkok's 1 degC day-to-day spread (real: about -12 to +34)."""
    import numpy as np

    site_text, offset = CLIMATES["temperate with DST (Garching)"]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        temperature = _year(Path(tmp), site_text, offset, 7).weather.temperature_c
    assert np.min(temperature) < -9 and np.max(temperature) > 28


def test_load_follows_the_weather_loosely(tmp_path: Path) -> None:
    """issue #18: a meter's weekday energy followed the day's temperature almost exactly (r 0.99: cooling was a
    function of the air alone). With the building's thermal mass, its day-to-day activity and its own
    air-conditioning's variation, r is 0.7-0.95 (published daily load-temperature fits of cooled commercial
    buildings: r-squared 0.5-0.9), and meters of one type no longer move in step."""
    import numpy as np

    path = tmp_path / "cooling.yaml"
    path.write_text(
        "schema_version: 1\n"
        "site: {weather: {day_to_day_c: 1.5}}\n"
        "calendar: {holidays: [], terms: [{start: 2026-01-01, end: 2026-12-31}]}\n"
        "time: {start: 2026-04-01T00:00, duration: 91d, reading_interval: 15m, seed: 5}\n"
        "function_sets: {mirror_usage_point: {post_rate: 15m}}\n"
        "buildings: [{name: a, type: academic, count: 4}, {name: o, type: administrative, count: 4}]\n"
    )
    s = load_scenario(path).scenario
    site = SiteModel(s)
    weekday = ~site.days[0][:91]
    air = site.weather.temperature_c.reshape(91, -1).mean(axis=1)[weekday]
    daily = {m.id: site.load_w(m).reshape(91, -1).mean(axis=1)[weekday] for m in meters(s)}
    r = [float(np.corrcoef(energy, air)[0, 1]) for energy in daily.values()]
    assert all(0.7 <= x <= 0.95 for x in r), r
    first, second = daily["AMI_METER_a_001"], daily["AMI_METER_a_002"]
    assert np.corrcoef(first / first.mean(), second / second.mean())[0, 1] < 0.95  # each meter its own days


def test_thermal_mass_delays_cooling() -> None:
    """A step in the outdoor air reaches the cooling load through the building's time constant."""
    import numpy as np

    from amiscen.compile.load import lagged

    step = np.concatenate([np.full(10, 25.0), np.full(400, 35.0)])
    felt = lagged(step, 60.0, 3 * 3600)
    assert felt[9] == pytest.approx(25.0)
    assert felt[10 + 179] == pytest.approx(25 + 10 * (1 - np.exp(-1)), abs=0.01)  # 180 minutes: one time constant

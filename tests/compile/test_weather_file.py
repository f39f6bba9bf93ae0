"""Weather from a file (EnergyPlus EPW, NREL TMY3): read as pvlib reads it, placed on the right hours, carried
through the compiler with each day's light the file's, and PV from it against pvlib's chain on the same file."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from amiscen.compile.plan import SiteModel
from amiscen.compile.weather import from_file
from amiscen.scenario.load import validate_source
from amiscen.scenario.model import meters
from amiscen.scenario.source import parse
from amiscen.scenario.weatherfile import HOUR, WeatherFileError, read_weather_file

from .epw import epw_text, pvlib_tmy3, tmy3_to_epw, year_of_rows
from .test_solar_vs_pvlib import pvlib_chain_ac

pvlib = pytest.importorskip("pvlib")
pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_EPW = ROOT / "examples" / "weather" / "greensboro_tmy3_july.epw"
GREENSBORO = dict(latitude=36.069, longitude=-79.81, timezone="America/New_York")


def _scenario(tmp_path: Path, weather_file: Path | str, start: str, duration: str, interval: str = "60s", pv: str = ""):
    text = f"""
schema_version: 1
site:
  latitude: {GREENSBORO["latitude"]}
  longitude: {GREENSBORO["longitude"]}
  elevation_m: 270
  timezone: {GREENSBORO["timezone"]}
  weather: {{file: {weather_file}}}
calendar: {{holidays: [], terms: []}}
time: {{start: {start}, duration: {duration}, reading_interval: {interval}}}
function_sets: {{mirror_usage_point: {{post_rate: 3600s}}}}
buildings: [{{name: a, type: academic, count: 1{pv}}}]
"""
    (tmp_path / "s.yaml").write_text(text)
    return validate_source(parse(text, str(tmp_path / "s.yaml"))).scenario


def test_tmy3_read_as_pvlib_reads_it() -> None:
    ours = read_weather_file(pvlib_tmy3())
    ref, meta = pvlib.iotools.read_tmy3(pvlib_tmy3(), map_variables=True, coerce_year=2026)
    assert ours.full_year and len(ours.hour_end) == len(ref) == 8760
    assert (ours.latitude, ours.longitude, ours.utc_offset_h) == (meta["latitude"], meta["longitude"], meta["TZ"])
    for name, column in (("temperature_c", "temp_air"), ("ghi", "ghi"), ("dhi", "dhi"), ("wind_m_s", "wind_speed")):
        np.testing.assert_array_equal(getattr(ours, name), ref[column].to_numpy(dtype=float), err_msg=name)
    # each row's hour, as pvlib places it (hour-ending labels, local standard time)
    hour_of_year = (ref.index - pd.Timestamp("2026-01-01", tz=ref.index.tz)).total_seconds().to_numpy()
    np.testing.assert_array_equal(ours.hour_end, hour_of_year)


def test_epw_read_as_pvlib_reads_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    values = {
        "temperature_c": np.round(rng.normal(12, 8, 8760), 1),
        "ghi": np.round(rng.uniform(0, 900, 8760)),
        "dhi": np.round(rng.uniform(0, 300, 8760)),
        "wind_m_s": np.round(rng.uniform(0, 12, 8760), 1),
    }
    values["temperature_c"][100] = 99.9  # missing: filled from its neighbours
    path = tmp_path / "synthetic.epw"
    path.write_text(
        epw_text(("Here", "-", "XX", "test", "000000"), 48.2, 11.6, 1.0, 480.0, year_of_rows(values), "made by a test")
    )
    ours = read_weather_file(path)
    ref, _ = pvlib.iotools.read_epw(path)
    assert (ours.latitude, ours.longitude, ours.utc_offset_h, ours.elevation_m) == (48.2, 11.6, 1.0, 480.0)
    assert ours.full_year
    for name, column in (("ghi", "ghi"), ("dhi", "dhi"), ("wind_m_s", "wind_speed")):
        np.testing.assert_array_equal(getattr(ours, name), ref[column].to_numpy(dtype=float), err_msg=name)
    temperature = ref["temp_air"].to_numpy(dtype=float)
    assert ours.temperature_c[100] == pytest.approx((temperature[99] + temperature[101]) / 2)
    np.testing.assert_array_equal(np.delete(ours.temperature_c, 100), np.delete(temperature, 100))


def test_the_example_weather_is_nrels_tmy3_converted() -> None:
    """The shipped EPW is what tests/compile/epw.py makes from NREL's TMY3 (as pvlib ships it), byte for byte."""
    assert EXAMPLE_EPW.read_bytes() == tmy3_to_epw(pvlib_tmy3(), date(2026, 7, 1), 14).encode()
    epw = read_weather_file(EXAMPLE_EPW)
    tmy3 = read_weather_file(pvlib_tmy3())
    july = (tmy3.hour_end > 181 * 86400) & (tmy3.hour_end <= 195 * 86400)
    np.testing.assert_array_equal(epw.hour_end, tmy3.hour_end[july])
    np.testing.assert_array_equal(epw.ghi, tmy3.ghi[july])


def test_the_hours_land_where_the_file_puts_them() -> None:
    """Temperature and wind at an hour's end are the file's; the file's standard time (UTC-5) is not the site's
    summer time, and 29 February takes the 28th's weather."""
    tmy3 = read_weather_file(pvlib_tmy3())
    new_year = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp() + 5 * HOUR  # 00:00 EST
    ends = new_year + tmy3.hour_end
    clear = np.full(len(ends), 500.0)
    at_ends = from_file(tmy3, ends, clear)
    np.testing.assert_allclose(at_ends.temperature_c, tmy3.temperature_c)
    np.testing.assert_allclose(at_ends.wind_m_s, tmy3.wind_m_s)
    # 14:00 EDT on 8 July is 13:00 EST: the row labelled 8 July, hour 13
    row = int(np.flatnonzero(tmy3.hour_end == (188 * 24 + 13) * HOUR)[0])
    instant = datetime(2026, 7, 8, 18, tzinfo=timezone.utc).timestamp()
    assert from_file(tmy3, np.array([instant]), clear).temperature_c[0] == tmy3.temperature_c[row]
    leap = datetime(2028, 2, 29, 17, tzinfo=timezone.utc).timestamp()  # 12:00 EST
    before = datetime(2028, 2, 28, 17, tzinfo=timezone.utc).timestamp()
    assert tmy3.positions(np.array([leap]))[0] == tmy3.positions(np.array([before]))[0]
    march = datetime(2028, 3, 1, 17, tzinfo=timezone.utc).timestamp()
    assert tmy3.positions(np.array([march]))[0] == (59 * 24 + 12) * HOUR


def test_each_day_gets_the_files_light_and_temperature(tmp_path: Path) -> None:
    """Over the example's fortnight, each day's global irradiance (the sum the compiler's sky gives) is the
    file's within 2 %, and the air's range is the file's."""
    # 01:00 EDT on 1 July is 00:00 EST: the file's first hour starts there
    s = _scenario(tmp_path, EXAMPLE_EPW, "2026-07-01T01:00:00-04:00", "14d")
    site = SiteModel(s)
    hourly = s.site.weather.hourly()
    assert hourly is not None
    ghi_wh = site.sky.ghi.reshape(14, -1).sum(axis=1) * site.grid.step / 3600
    file_wh = hourly.ghi.reshape(14, 24).sum(axis=1)
    np.testing.assert_allclose(ghi_wh, file_wh, rtol=0.02)
    t = site.weather.temperature_c
    assert hourly.temperature_c.min() - 0.01 <= t.min() < hourly.temperature_c.min() + 1
    assert hourly.temperature_c.max() - 1 < t.max() <= hourly.temperature_c.max() + 0.01
    # diffuse light is the file's share of it
    day = site.sky.ghi > 50
    assert site.sky.dhi[day].sum() / site.sky.ghi[day].sum() == pytest.approx(
        hourly.dhi.sum() / hourly.ghi.sum(), rel=0.05
    )


def test_the_same_hours_whatever_the_window(tmp_path: Path) -> None:
    long = SiteModel(_scenario(tmp_path, EXAMPLE_EPW, "2026-07-03T00:00:00-04:00", "5d"))
    short = SiteModel(_scenario(tmp_path, EXAMPLE_EPW, "2026-07-03T00:00:00-04:00", "7h"))
    n = short.grid.count
    np.testing.assert_array_equal(short.weather.temperature_c, long.weather.temperature_c[:n])
    np.testing.assert_array_equal(short.sky.ghi, long.sky.ghi[:n])


def test_a_year_wraps_round_new_year(tmp_path: Path) -> None:
    s = _scenario(tmp_path, pvlib_tmy3(), "2026-12-31T12:00:00-05:00", "1d", "300s")
    t = SiteModel(s).weather.temperature_c
    hourly = read_weather_file(pvlib_tmy3())
    assert np.max(np.abs(np.diff(t))) <= np.max(np.abs(np.diff(hourly.temperature_c)))  # no jump at midnight
    # 00:30 EST on 1 January lies between the file's last hour's end (24:00 on 31 December) and its first
    half_past = datetime(2027, 1, 1, 5, 30, tzinfo=timezone.utc).timestamp()
    wrapped = from_file(hourly, np.array([half_past]), np.full(8760, 500.0)).temperature_c[0]
    assert wrapped == pytest.approx((hourly.temperature_c[-1] + hourly.temperature_c[0]) / 2)


def test_pv_from_the_file_against_pvlib(tmp_path: Path) -> None:
    """A year of a 100 kWp, 30 degree south array on Greensboro's TMY3: amiscen's energy within 3 % of pvlib's
    chain (same transposition, IAM, cell temperature, PVWatts DC and inverter) fed the file's hours."""
    s = _scenario(
        tmp_path,
        pvlib_tmy3(),
        "2026-01-01T00:00:00-05:00",
        "365d",
        "300s",
        pv=", pv: {kwp: 100, tilt_deg: 30, azimuth_deg: 180}",
    )
    site = SiteModel(s)
    meter = meters(s)[0]
    ours = site.pv_w(meter).sum() * 300 / 3600 / 1000
    assert meter.pv is not None
    data, _ = pvlib.iotools.read_tmy3(pvlib_tmy3(), map_variables=True, coerce_year=2026)
    centres = data.index - pd.Timedelta("30min")
    loc = pvlib.location.Location(GREENSBORO["latitude"], GREENSBORO["longitude"], altitude=270)
    solpos = loc.get_solarposition(centres)
    chain = pvlib_chain_ac(
        meter.pv,
        solpos,
        data.dni.to_numpy(),
        data.ghi.to_numpy(),
        data.dhi.to_numpy(),
        data.temp_air.to_numpy(),
        data.wind_speed.to_numpy(),
    )
    ac = chain.clip(lower=0).fillna(0)
    ref = float(ac.sum()) / 1000
    print(f"PV kWh a year: amiscen {ours:,.0f}, pvlib {ref:,.0f}")
    assert ours == pytest.approx(ref, rel=0.03), (ours, ref)
    assert 1200 < ref / 100 < 1600  # kWh/kWp in North Carolina


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("hello\n", "line 1 is neither an EPW LOCATION line nor a TMY3 header"),
        ("LOCATION,a,b,c,d,e,36,-80,-5,270\nDATA PERIODS,1,4,Data,Monday,1/1,1/1\n", "4 records an hour"),
        (
            "LOCATION,a,b,c,d,e,36,-80,-5,270\nDATA PERIODS,1,1,Data,Monday,1/1,1/1\n2026,1,1,1,60,x,abc\n",
            "line 3: 7 fields",
        ),
        ("LOCATION,a,b,c,d,e,north,-80,-5,270\n", "line 1: latitude 'north' is not a number"),
        (
            "LOCATION,a,b,c,d,e,36,-80,-5,270\nDATA PERIODS,1,1,Data,Monday,1/1,1/1\n"
            + "2026,2,30,1,60,x"
            + ",0" * 29
            + "\n",
            "line 3: 02-30 is not a date",
        ),
        (
            "LOCATION,a,b,c,d,e,36,-80,-5,270\nDATA PERIODS,1,1,Data,Monday,1/1,1/1\n"
            + ("2026,1,1,1,60,x" + ",0" * 29 + "\n") * 2,
            "line 4: 01-01 hour 1 is also on line 3",
        ),
    ],
)
def test_a_bad_file_says_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.epw"
    path.write_text(text)
    with pytest.raises(WeatherFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_weather_file(path)

"""issue #18: a site far from Bangkok that leaves out weather or calendar is told it gets Bangkok's climate and
Thai holidays, instead of getting them silently."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amiscen.errors import ScenarioError
from amiscen.scenario import load_scenario

FAR = """\
schema_version: 1
site: {name: Garching, latitude: 48.25, longitude: 11.65, timezone: Europe/Berlin}
time: {start: 2026-10-24T00:00:00+02:00, duration: 1h}
buildings:
  - {name: hall, type: academic, count: 1}
"""


def test_a_far_site_without_weather_or_calendar_is_warned(tmp_path: Path) -> None:
    path = tmp_path / "far.yaml"
    path.write_text(FAR)
    messages = [w.message for w in load_scenario(path).warnings]
    assert any("no `weather:` is given: temperatures and clouds are Bangkok's" in m for m in messages)
    assert any("no calendar holidays and terms are given: Thai public holidays" in m for m in messages)
    given = FAR.replace(
        "timezone: Europe/Berlin}",
        "timezone: Europe/Berlin, weather: {daily_swing_c: 8}}\ncalendar: {holidays: [2026-10-03], terms: []}",
    )
    path.write_text(given)
    assert [w.message for w in load_scenario(path).warnings if "Bangkok" in w.message] == []


def test_the_campus_in_bangkok_is_not_warned() -> None:
    root = Path(__file__).resolve().parents[2]
    assert not any("Bangkok" in w.message for w in load_scenario(root / "scenarios" / "campus_utcc.yaml").warnings)


def test_the_network_is_named_after_the_scenario_unless_given(tmp_path: Path) -> None:
    """issue #18: network.id defaulted to UTCC_CAMPUS_001 for every site."""
    path = tmp_path / "far.yaml"
    path.write_text("name: Garching campus (TUM)\n" + FAR)
    assert load_scenario(path).scenario.network.id == "Garching_campus_TUM"
    path.write_text(FAR)
    assert load_scenario(path).scenario.network.id == "scenario"  # no name either
    path.write_text("name: Garching\nnetwork: {id: TUM_GARCHING_01}\n" + FAR)
    assert load_scenario(path).scenario.network.id == "TUM_GARCHING_01"
    assert load_scenario(path, environ={"AMI_NETWORK_ID": "FROM_ENV"}).scenario.network.id == "FROM_ENV"


def test_holidays_by_country_and_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue #18: holidays by country and region from the `holidays` package, not typed out by hand."""
    import datetime as dt

    from amiscen.compile.calendar import day_types
    from amiscen.errors import ScenarioError

    path = tmp_path / "far.yaml"
    text = FAR.replace("time:", "calendar: {country: DE, subdivision: BY, holidays: [2026-07-03], terms: []}\ntime:")
    path.write_text(text)
    loaded = load_scenario(path)
    assert not any("calendar" in w.message for w in loaded.warnings)
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    _, holiday, _ = day_types(loaded.scenario.calendar, days)
    got = {d for d, h in zip(days, holiday, strict=True) if h}
    assert {dt.date(2026, 1, 6), dt.date(2026, 6, 4), dt.date(2026, 10, 3)} <= got  # Epiphany, Corpus Christi (BY)
    assert dt.date(2026, 7, 3) in got  # the site's own day, added
    path.write_text(text.replace("subdivision: BY", "subdivision: XX"))
    with pytest.raises(ScenarioError, match="DE has no subdivision 'XX'"):
        load_scenario(path)
    path.write_text(text.replace("country: DE", "country: QQ"))
    with pytest.raises(ScenarioError, match="knows no country 'QQ'"):
        load_scenario(path)
    monkeypatch.setitem(__import__("sys").modules, "holidays", None)  # as where the extra is not installed
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"pip install 'amiscen\[holidays\]'"):
        load_scenario(path)


EXAMPLE_EPW = Path(__file__).resolve().parents[2] / "examples" / "weather" / "greensboro_tmy3_july.epw"


def _with_weather_file(tmp_path: Path, weather: str, start: str = "2026-07-08T00:00:00-04:00", where: str = "") -> Path:
    (tmp_path / "weather").mkdir(exist_ok=True)
    (tmp_path / "weather" / "july.epw").write_bytes(EXAMPLE_EPW.read_bytes())
    path = tmp_path / "site.yaml"
    path.write_text(
        "schema_version: 1\n"
        f"site: {{latitude: {where or '36.07, longitude: -79.81'}, timezone: America/New_York, weather: {weather}}}\n"
        "calendar: {holidays: [], terms: []}\n"
        f"time: {{start: {start}, duration: 2d}}\n"
        "buildings: [{name: hall, type: academic, count: 1}]\n"
    )
    return path


def test_a_weather_file_is_found_beside_the_scenario_and_read_once(tmp_path: Path) -> None:
    loaded = load_scenario(_with_weather_file(tmp_path, "{file: weather/july.epw}"))
    assert loaded.warnings == []
    weather = loaded.scenario.site.weather
    assert weather.file == str((tmp_path / "weather" / "july.epw").resolve())  # absolute: a run's copy finds it
    hourly = weather.hourly()
    assert hourly is not None and hourly.place.startswith("GREENSBORO") and len(hourly.hour_end) == 14 * 24


def test_a_weather_file_that_misses_the_window_or_the_site_is_told(tmp_path: Path) -> None:
    path = _with_weather_file(tmp_path, "{file: weather/july.epw}", start="2026-07-13T12:00:00-04:00")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert f"{path}:2:" in message
    assert "site.weather.file: has no hours for 07-15 (it covers 07-01 to 07-14, in its standard time UTC-5)" in message
    path = _with_weather_file(
        tmp_path, "{file: weather/july.epw, cloudiness: [0,0,0,0,0,0,0,0,0,0,0,0]}", where="34.05, longitude: -118.24"
    )
    messages = [w.message for w in load_scenario(path).warnings]
    assert any("is for GREENSBORO PIEDMONT TRIAD INT, NC, USA (36.1, -79.95), 3,4" in m for m in messages), messages
    assert "is unused: the weather comes from weather.file (leave it out, or the file)" in messages


def test_a_weather_file_that_cannot_be_read_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = _with_weather_file(tmp_path, "{file: weather/missing.epw}")
    with pytest.raises(ScenarioError, match=r"site\.weather\.file: .*weather/missing\.epw: no such file"):
        load_scenario(path)
    (tmp_path / "weather" / "july.epw").write_text("LOCATION,a,b,c,d,e,36,-80,-5,270\nDATA PERIODS,1,1,Data\n1,2,3\n")
    path = _with_weather_file(tmp_path, "{file: weather/july.epw}")
    (tmp_path / "weather" / "july.epw").write_text("LOCATION,a,b,c,d,e,36,-80,-5,270\nDATA PERIODS,1,1,Data\n1,2,3\n")
    with pytest.raises(ScenarioError, match=r"july\.epw: line 3: 3 fields; an EPW data line has 35"):
        load_scenario(path)


def test_times_without_an_offset_are_the_sites_clock(tmp_path: Path) -> None:
    """issue #18: 14:00 means 14:00 at the site, in summer or winter time as the date has it; the resolved
    scenario (what a run saves) carries the offsets."""
    path = tmp_path / "local.yaml"
    path.write_text(
        FAR.replace("start: 2026-10-24T00:00:00+02:00, duration: 1h", "start: 2026-10-24T22:00, duration: 1d")
        + "events:\n"
        "  - {type: demand_response, id: BEFORE, start: 2026-10-24T23:00, duration: 1h, target_reduction: {kw: 5}}\n"
        "  - {type: demand_response, id: AFTER, start: 2026-10-25 14:00, duration: 1h, target_reduction: {kw: 5}}\n"
    )
    s = load_scenario(path).scenario
    assert s.time.start.isoformat() == "2026-10-24T22:00:00+02:00"
    assert [s.at(e.start).isoformat() for e in s.events] == ["2026-10-24T23:00:00+02:00", "2026-10-25T14:00:00+01:00"]
    dumped = s.model_dump(mode="json")
    assert dumped["time"]["start"] == "2026-10-24T22:00:00+02:00"
    assert dumped["events"][1]["start"] == "2026-10-25T14:00:00+01:00"
    bangkok = tmp_path / "bangkok.yaml"  # no site: the default site's zone
    bangkok.write_text(
        "schema_version: 1\ntime: {start: 2026-03-02T08:00}\nbuildings: [{name: a, type: academic, count: 1}]\n"
    )
    assert load_scenario(bangkok).scenario.time.start.isoformat() == "2026-03-02T08:00:00+07:00"


@pytest.mark.parametrize(
    ("start", "duration", "hours"),
    [
        ("2026-10-25T00:00", "1d", 25),  # the clocks go back: the local day has 25 hours
        ("2026-10-25T00:00", "P1D", 25),
        ("2026-10-25T00:00", "24h", 24),  # hours are elapsed time
        ("2026-03-29T00:00", "1d", 23),  # the clocks go forward
        ("2026-03-23T12:00", "1w", 7 * 24 - 1),
        ("2026-10-24T00:00", "1d", 24),
    ],
)
def test_whole_days_are_days_on_the_sites_calendar(tmp_path: Path, start: str, duration: str, hours: int) -> None:
    """issue #18: `1d` from midnight runs to the next midnight on the site's clock."""
    path = tmp_path / "days.yaml"
    path.write_text(
        FAR.replace("start: 2026-10-24T00:00:00+02:00, duration: 1h", f"start: {start}, duration: {duration}")
    )
    window = load_scenario(path).scenario.time
    assert window.duration.total_seconds() == hours * 3600
    if not duration.endswith("h"):  # the same time on the clock, the days later
        assert window.end.astimezone(ZoneInfo("Europe/Berlin")).time().isoformat() == start[11:] + ":00"

"""issue #18: a site far from Bangkok that leaves out weather or calendar is told it gets Bangkok's climate and
Thai holidays, instead of getting them silently."""

from __future__ import annotations

from pathlib import Path

import pytest

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

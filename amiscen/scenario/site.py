"""The site (where the sun and weather come from) and the simulated time window."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, ValidationInfo, field_validator, model_validator

from amiscen.diagnostics import did_you_mean
from amiscen.scenario.fleet import check_peak_hours
from amiscen.scenario.types import Duration, Model, Time
from amiscen.scenario.weatherfile import HourlyWeather, read_weather_file

# Bangkok monthly mean air temperature, degC (Thai Meteorological Department 1991-2020 normals, Bangkok Metropolis).
BANGKOK_MONTHLY_MEAN_C = (27.0, 28.6, 29.8, 30.8, 30.3, 29.7, 29.3, 29.0, 28.6, 28.3, 27.8, 26.6)
# Linke turbidity at UTCC per month (the SoDa/Meteotest climatology, as pvlib's lookup_linke_turbidity gives it)
BANGKOK_LINKE_TURBIDITY = (3.77, 4.29, 4.75, 4.95, 5.15, 5.10, 5.30, 4.95, 4.56, 4.00, 3.75, 3.55)
# share of clear-sky irradiance lost to cloud per month: dry, clear Dec-Feb; monsoon May-Oct. Calibrated so a
# south-facing 10 degree c-Si array yields ~1,350 kWh/kWp a year, within the 1,300-1,500 SolarGIS gives for
# Bangkok-area rooftops (Peerapong & Limmeechokchai, Energy Procedia 79, 2015). Recalibrated (0.80 of the first
# calibration's shares) when the compiler began to realise the asked cloudiness exactly (it fell 0.01 short) and
# to count the module glass's reflection losses (2-3 % of the year): about 1,340 kWh/kWp again.
BANGKOK_CLOUDINESS = (0.132, 0.144, 0.156, 0.168, 0.216, 0.24, 0.24, 0.252, 0.264, 0.228, 0.168, 0.132)


DEFAULT_ZONE = "Asia/Bangkok"


class Weather(Model):
    """Climate the compiler draws temperature and cloud cover from (defaults: Bangkok)."""

    monthly_mean_c: list[float] = Field(
        default_factory=lambda: list(BANGKOK_MONTHLY_MEAN_C),
        min_length=12,
        max_length=12,
        description="Mean air temperature per month, January first, degC.",
    )
    daily_swing_c: float = Field(7.0, ge=0, le=30, description="Typical daily max minus min temperature, degC.")
    day_to_day_c: float = Field(
        1.0,
        ge=0,
        le=15,
        description="Std. dev. of a day's temperature around its month's mean, degC (Bangkok about 1; central "
        "Europe 3-4, which gives its cold snaps and heat waves).",
    )
    spell_days: float = Field(
        3.0, gt=0, le=60, description="How long a warm or cold spell lasts: the day-to-day correlation time, days."
    )
    cloudiness: list[float] = Field(
        default_factory=lambda: list(BANGKOK_CLOUDINESS),
        min_length=12,
        max_length=12,
        description="Mean share of clear-sky irradiance lost to cloud per month, January first (0 clear, 1 overcast).",
    )
    cloud_persistence: Duration = Field(
        timedelta(minutes=40), description="Correlation time of cloud cover within a day: how long a spell lasts."
    )
    cloud_transit: Duration = Field(
        timedelta(minutes=2),
        description="How long a cloud edge takes to cross the site: each PV meter sees the passing clouds up to "
        "this much later than another (a 1 km campus in an 8 m/s wind: about 2 minutes), so a fleet's output is "
        "smoother than one roof's. 0: every roof at once.",
    )
    linke_turbidity: list[float] = Field(
        default_factory=lambda: list(BANGKOK_LINKE_TURBIDITY),
        min_length=12,
        max_length=12,
        description="Linke turbidity per month, January first (haze; Bangkok 3.5-5.3).",
    )
    albedo: float = Field(0.2, ge=0, le=1, description="Ground reflectance seen by tilted panels.")
    wind_speed: float = Field(1.0, ge=0, le=40, description="Typical wind speed at roof level, m/s (module cooling).")
    file: str | None = Field(
        None,
        description="An hourly weather file, EnergyPlus EPW or NREL TMY3 CSV, relative to the scenario file: air "
        "temperature, irradiance (global and diffuse) and wind come from it by month, day and hour, as a typical "
        "year that serves any simulated year. The climate parameters above are then unused, save "
        "linke_turbidity, which shapes the clear sky within each hour (and cloud_transit: an hourly file has no "
        "passing clouds to shift).",
    )

    @field_validator("file")
    @classmethod
    def _readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        """The file is read when the scenario is (every problem in it reported then, with its line); the path
        is kept absolute, so a run's saved scenario finds it again."""
        if value is None:
            return None
        path = Path(value).expanduser()
        base = (info.context or {}).get("base_dir")
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        read_weather_file(path)
        return os.fspath(path.resolve())

    def hourly(self) -> HourlyWeather | None:
        """The weather file's hours, when one is named."""
        return None if self.file is None else read_weather_file(self.file)

    @field_validator("cloudiness")
    @classmethod
    def _shares(cls, values: list[float]) -> list[float]:
        if any(not 0 <= v <= 1 for v in values):
            raise ValueError("each month's cloudiness must be between 0 and 1")
        return values

    @field_validator("linke_turbidity")
    @classmethod
    def _turbidity(cls, values: list[float]) -> list[float]:
        if any(not 1 <= v <= 10 for v in values):
            raise ValueError("each month's Linke turbidity must be between 1 and 10")
        return values


class Grid(Model):
    """The distribution grid at the meters: what voltage and frequency are nominal."""

    voltage_v: float = Field(
        230.0,
        ge=100,
        le=480,
        description="Nominal voltage at the meters, V: 230 (IEC, Thailand, Europe, Australia), 240 (North American "
        "split phase), 120, 277.",
    )
    frequency_hz: Literal[50, 60] = Field(50, description="Nominal frequency, Hz: 50, or 60 (the Americas, ...).")


class Tariff(Model):
    """The site's time-of-use tariff, as far as its meters' batteries act on it."""

    peak_hours: tuple[float, float] = Field(
        (9.0, 22.0),
        description="The on-peak window on weekdays, local hours [from, to) (default: the Thai TOU tariff's "
        "09:00-22:00); every battery without peak_hours of its own follows it.",
    )

    @model_validator(mode="after")
    def _window(self) -> Tariff:
        check_peak_hours(self.peak_hours)
        return self


class Site(Model):
    """The site: name, position, time zone and grid."""

    name: str = Field("University of the Thai Chamber of Commerce", description="Site name, for reports.")
    latitude: float = Field(13.7797, ge=-90, le=90, description="Latitude, degrees north.")
    longitude: float = Field(100.5606, ge=-180, le=180, description="Longitude, degrees east.")
    elevation_m: float = Field(5.0, ge=-500, le=9000, description="Elevation above sea level, metres.")
    timezone: str = Field(DEFAULT_ZONE, description="IANA time zone of the site, e.g. Asia/Bangkok.")
    weather: Weather = Field(default_factory=Weather, description="Climate parameters.")
    grid: Grid = Field(default_factory=Grid, description="Nominal voltage and frequency at the meters.")
    tariff: Tariff = Field(default_factory=Tariff, description="The time-of-use tariff the batteries follow.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}{did_you_mean(value, available_timezones())}") from None
        return value


def _whole_days(value: object) -> int:
    """How many calendar days a duration written in whole days or weeks (1d, 2w, 1w2d, P3D, P1W) gives; 0 for
    any other duration (elapsed time: 24h is 24 hours, always)."""
    if not isinstance(value, str):
        return 0
    text = value.strip().replace(" ", "")
    short = re.fullmatch(r"(?:(\d+)w)?(?:(\d+)d)?", text)
    iso = re.fullmatch(r"P(?:(\d+)W)?(?:(\d+)D)?", text)
    match = short or iso
    if match is None or not any(match.groups()):
        return 0
    weeks, days = (int(g) if g else 0 for g in match.groups())
    return weeks * 7 + days


class TimeWindow(Model):
    """The simulated period."""

    start: Time = Field(
        description="Start of the simulation, ISO 8601: with an offset, or without one for the site's wall clock "
        "(2026-03-02T00:00 is midnight at the site); or `now` (the second the scenario is loaded), for a realtime "
        "run against a head-end on its own clock."
    )
    duration: Duration = Field(timedelta(days=1), description="Length of the simulation, e.g. 1d.")
    reading_interval: Duration = Field(
        timedelta(seconds=15),
        description="Meter measurement interval (one reading per quantity per interval).",
    )
    seed: int = Field(0, ge=0, lt=2**63, description="Seed for every random draw; same seed, same data.")
    ramp_up: Duration | None = Field(
        None,
        description="Meters boot spread over this long (each at a phase fixed by its id); default: one post period. "
        "Large fleets boot over minutes, as real ones do after an outage.",
    )

    @field_validator("start", mode="before")
    @classmethod
    def _now(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "now":
            return datetime.now(timezone.utc).replace(microsecond=0)
        return value

    @field_validator("ramp_up")
    @classmethod
    def _sane_ramp(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and not timedelta(0) <= value <= timedelta(days=1):
            raise ValueError("must be between 0s and 1d")
        return value

    @field_validator("duration")
    @classmethod
    def _positive_duration(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        if value > timedelta(days=3660):
            raise ValueError("must be at most 3660d (10 years)")
        return value

    @field_validator("reading_interval")
    @classmethod
    def _sane_interval(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1) or value > timedelta(hours=1):
            raise ValueError(f"must be between 1s and 1h (got {value.total_seconds():g}s)")
        if value.total_seconds() != int(value.total_seconds()):
            raise ValueError("must be a whole number of seconds")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _calendar_days(cls, data: Any, handler: Any, info: ValidationInfo) -> TimeWindow:
        """A duration of whole days (1d, 2w, P3D) counts days on the site's calendar: 1d from midnight runs to
        the next midnight, 25 h on the night the clocks go back. The window is then kept as the elapsed time."""
        window: TimeWindow = handler(data)
        zone_name = (info.context or {}).get("timezone")
        days = _whole_days(data.get("duration")) if isinstance(data, dict) else 0
        if not days or zone_name is None:
            return window
        zone = ZoneInfo(zone_name)
        local = window.start.astimezone(zone)
        end = datetime.combine(local.date() + timedelta(days=days), local.time(), zone)
        end = end.astimezone(timezone.utc).astimezone(zone)  # a time the clocks skip moves on by the hour skipped
        return window.model_copy(update={"duration": end - window.start})

    @property
    def end(self) -> datetime:
        return self.start + self.duration


class Term(Model):
    """An academic term: teaching days between start and end, inclusive."""

    start: date = Field(description="First day of the term.")
    end: date = Field(description="Last day of the term.")

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Term:
        if self.end < self.start:
            raise ValueError(f"the term ends ({self.end}) before it starts ({self.start})")
        return self


def _holidays_package(country: str, subdivision: str | None) -> Any:
    """The `holidays` package, after checking it knows the country and region; ValueError when it is not
    installed or does not know them."""
    try:
        import holidays
    except ImportError:
        raise ValueError(
            "calendar.country needs the holidays package: pip install 'amiscen[holidays]' (or list the days under "
            "calendar.holidays)"
        ) from None
    known = holidays.list_supported_countries()
    if country not in known:
        raise ValueError(f"the holidays package knows no country {country!r}{did_you_mean(country, sorted(known))}")
    if subdivision is not None and subdivision not in known[country]:
        raise ValueError(
            f"{country} has no subdivision {subdivision!r}; it has " + ", ".join(sorted(known[country])[:40])
        )
    return holidays


def country_holidays(country: str, subdivision: str | None, years: range) -> set[date]:
    """Public holidays of a country (and region) from the `holidays` package, for ``years``."""
    package = _holidays_package(country, subdivision)
    return set(package.country_holidays(country, subdiv=subdivision, years=list(years)))


class Calendar(Model):
    """Which days are holidays and which are in term; absent lists take amiscen's Thai defaults."""

    country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 country code whose public holidays apply (the `holidays` package: pip install "
        "'amiscen[holidays]'), e.g. DE; `holidays` adds days of the site's own.",
    )
    subdivision: str | None = Field(
        None, max_length=10, description="Region of the country (ISO 3166-2 without the country), e.g. BY."
    )
    holidays: list[date] | None = Field(
        None,
        description="Public holidays (with country: added to the country's); absent: the country's, else built-in "
        "Thai public holidays for the simulated years.",
    )
    terms: list[Term] | None = Field(
        None,
        description="Academic terms; absent: a Thai semester calendar (mid-June to October, November to March).",
    )

    @model_validator(mode="after")
    def _country_known(self) -> Calendar:
        if self.subdivision is not None and self.country is None:
            raise ValueError("subdivision needs country")
        if self.country is not None:
            _holidays_package(self.country, self.subdivision)  # refuses what it does not know
        return self

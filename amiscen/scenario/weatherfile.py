"""Hourly weather files a scenario may name: EnergyPlus EPW and NREL TMY3 CSV.

Both hold a year (or part of one) of hourly values in local standard time (no daylight saving), each row labelled
with the hour that ends it (hour 1 is 00:00-01:00). Irradiance is the hour's mean (its energy in Wh/m2); air
temperature and wind are the values at the hour's end. A file is read as a typical year: a row is placed by its
month, day and hour, whatever its year, and 29 February is left out (a leap year's 29 February takes the 28th's
weather), so one file serves any simulated year.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

HOUR = 3600.0
DAY = 86400.0
YEAR = 365 * DAY
MONTH_STARTS = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])  # days before each month, 365-day year
MAX_BYTES = 50 * 1024 * 1024

# EPW data fields (EnergyPlus Auxiliary Programs, "Weather Converter Program"): 0-based columns and missing codes
EPW_FIELDS = {"temperature_c": (6, 99.9), "ghi": (13, 9999.0), "dhi": (15, 9999.0), "wind_m_s": (21, 999.0)}
TMY3_COLUMNS = {"temperature_c": "Dry-bulb (C)", "ghi": "GHI (W/m^2)", "dhi": "DHI (W/m^2)", "wind_m_s": "Wspd (m/s)"}


class WeatherFileError(ValueError):
    """The file cannot be read as hourly weather; the message says where (line numbers are 1-based)."""


@dataclass(frozen=True)
class HourlyWeather:
    """A weather file's hours on a typical 365-day year, in local standard time."""

    kind: str  # "EPW" or "TMY3"
    place: str
    latitude: float
    longitude: float
    elevation_m: float
    utc_offset_h: float  # the file's standard time, hours east of UTC
    hour_end: np.ndarray  # seconds from 1 January 00:00 (standard time) to the end of each hour, ascending
    temperature_c: np.ndarray
    ghi: np.ndarray  # W/m2, the hour's mean
    dhi: np.ndarray  # W/m2, the hour's mean
    wind_m_s: np.ndarray
    digest: str = ""  # sha256 of the file's bytes: a run resumes only on the weather it started with

    @property
    def full_year(self) -> bool:
        return len(self.hour_end) == 8760

    def positions(self, epoch: np.ndarray) -> np.ndarray:
        """Where instants (epoch seconds) fall on the file's typical year: seconds from 1 January 00:00 standard
        time, 29 February folded onto the 28th."""
        local = np.asarray(epoch, dtype=np.float64) + self.utc_offset_h * HOUR
        days = np.floor(local / DAY)
        seconds = local - days * DAY
        dates = days.astype("int64").astype("datetime64[D]")
        years = dates.astype("datetime64[Y]")
        doy = (dates - years).astype("int64")  # 0-based
        year = years.astype("int64") + 1970
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        doy = np.where(leap & (doy >= 59), np.maximum(doy - 1, 58), doy)  # 29 Feb (doy 59) -> 28 Feb
        return doy * DAY + seconds

    def missing_days(self, start: float, end: float) -> list[str]:
        """The days (MM-DD) between two instants that the file has no hours of, in order."""
        if self.full_year:
            return []
        have = set(np.floor((self.hour_end - 1) / DAY).astype(int).tolist())
        instants = np.append(np.arange(start, end, DAY), end - 1)  # a point in every day the window touches
        days = np.floor(self.positions(instants) / DAY).astype(int).tolist()
        needed = [d for d in dict.fromkeys(days) if d not in have]
        return [_month_day(d) for d in needed]

    def span(self) -> str:
        """The days the file covers, for messages (e.g. 07-01 to 07-14)."""
        days = np.floor((self.hour_end - 1) / DAY).astype(int)
        return f"{_month_day(int(days[0]))} to {_month_day(int(days[-1]))}"


def _month_day(doy: int) -> str:
    month = int(np.searchsorted(MONTH_STARTS, doy, side="right"))
    return f"{month:02d}-{doy - MONTH_STARTS[month - 1] + 1:02d}"


def read_weather_file(path: Path | str) -> HourlyWeather:
    """Parse an EPW or TMY3 file (the format is told by its first line). Cached by path, size and modification
    time: a scenario's file is read once however often the scenario is validated or compiled."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise WeatherFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise WeatherFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if path.is_dir():
        raise WeatherFileError(f"{path}: is a directory, not a weather file")
    if stat.st_size > MAX_BYTES:
        raise WeatherFileError(f"{path}: is {stat.st_size / 1e6:.0f} MB; a weather file may be at most 50 MB")
    return _read(os.fspath(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _read(path: str, size: int, mtime_ns: int) -> HourlyWeather:
    del size, mtime_ns  # in the cache key only
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise WeatherFileError(f"{path}: cannot be read ({exc.strerror})") from None
    lines = raw.decode("utf-8-sig", errors="replace").splitlines()
    if not lines:
        raise WeatherFileError(f"{path}: is empty")
    digest = hashlib.sha256(raw).hexdigest()
    if lines[0].upper().startswith("LOCATION,"):
        return replace(_epw(path, lines), digest=digest)
    if len(lines) > 1 and "Dry-bulb (C)" in lines[1] and "GHI (W/m^2)" in lines[1]:
        return replace(_tmy3(path, lines), digest=digest)
    raise WeatherFileError(
        f"{path}: line 1 is neither an EPW LOCATION line nor a TMY3 header; amiscen reads EnergyPlus EPW and NREL "
        "TMY3 CSV files"
    )


def _number(path: str, line: int, what: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise WeatherFileError(f"{path}: line {line}: {what} {text.strip()!r} is not a number") from None
    if not np.isfinite(value):
        raise WeatherFileError(f"{path}: line {line}: {what} {text.strip()!r} is not a number")
    return value


def _rows(path: str, lines: list[str], first: int) -> list[tuple[int, list[str]]]:
    """(1-based line number, fields) of each non-blank line from ``first`` (0-based)."""
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    return [(first + i + 1, fields) for i, fields in enumerate(reader) if fields and any(f.strip() for f in fields)]


def _epw(path: str, lines: list[str]) -> HourlyWeather:
    head = next(csv.reader([lines[0]]))
    if len(head) < 10:
        raise WeatherFileError(f"{path}: line 1: LOCATION has {len(head)} fields; EPW gives 10")
    latitude = _number(path, 1, "latitude", head[6])
    longitude = _number(path, 1, "longitude", head[7])
    offset = _number(path, 1, "time zone", head[8])
    elevation = _number(path, 1, "elevation", head[9])
    periods = next((i for i, line in enumerate(lines[:20]) if line.upper().startswith("DATA PERIODS")), None)
    if periods is None:
        raise WeatherFileError(f"{path}: no DATA PERIODS line among the first 20 (an EPW has 8 header lines)")
    fields = next(csv.reader([lines[periods]]))
    per_hour = fields[2].strip() if len(fields) > 2 else "1"
    if per_hour != "1":
        raise WeatherFileError(
            f"{path}: line {periods + 1}: {per_hour} records an hour; amiscen reads hourly EPW files (1 an hour)"
        )
    rows = _rows(path, lines, periods + 1)
    columns: dict[str, list[float]] = {name: [] for name in EPW_FIELDS}
    when: list[tuple[int, int, int, int]] = []
    for number, row in rows:
        if len(row) < 22:
            raise WeatherFileError(f"{path}: line {number}: {len(row)} fields; an EPW data line has 35")
        month, day, hour = (
            int(_number(path, number, what, row[i])) for i, what in ((1, "month"), (2, "day"), (3, "hour"))
        )
        when.append((number, month, day, hour))
        for name, (index, missing) in EPW_FIELDS.items():
            value = _number(path, number, name.replace("_", " "), row[index])
            columns[name].append(np.nan if value >= missing else value)
    place = ", ".join(x.strip() for x in head[1:4] if x.strip() and x.strip() != "-")
    return _assemble(path, "EPW", place, latitude, longitude, elevation, offset, when, columns)


def _tmy3(path: str, lines: list[str]) -> HourlyWeather:
    head = next(csv.reader([lines[0]]))
    if len(head) < 7:
        raise WeatherFileError(f"{path}: line 1: {len(head)} fields; a TMY3 site line has 7")
    offset = _number(path, 1, "time zone", head[3])
    latitude = _number(path, 1, "latitude", head[4])
    longitude = _number(path, 1, "longitude", head[5])
    elevation = _number(path, 1, "elevation", head[6])
    names = next(csv.reader([lines[1]]))
    index = {name: names.index(column) for name, column in TMY3_COLUMNS.items() if column in names}
    absent = [TMY3_COLUMNS[n] for n in TMY3_COLUMNS if n not in index]
    if absent:
        raise WeatherFileError(f"{path}: line 2: no column {', '.join(absent)}")
    columns: dict[str, list[float]] = {name: [] for name in TMY3_COLUMNS}
    when: list[tuple[int, int, int, int]] = []
    for number, row in _rows(path, lines, 2):
        if len(row) < len(names):
            raise WeatherFileError(f"{path}: line {number}: {len(row)} fields; the header names {len(names)}")
        try:
            month, day = (int(x) for x in row[0].split("/")[:2])
            hour = int(row[1].split(":")[0])
        except ValueError:
            raise WeatherFileError(
                f"{path}: line {number}: date {row[0]!r} {row[1]!r} is not MM/DD/YYYY HH:MM"
            ) from None
        when.append((number, month, day, hour))
        for name, column in index.items():
            columns[name].append(_number(path, number, TMY3_COLUMNS[name], row[column]))
    place = ", ".join(x.strip() for x in head[1:3] if x.strip())
    return _assemble(path, "TMY3", place, latitude, longitude, elevation, offset, when, columns)


def _assemble(
    path: str,
    kind: str,
    place: str,
    latitude: float,
    longitude: float,
    elevation: float,
    offset: float,
    when: list[tuple[int, int, int, int]],
    columns: dict[str, list[float]],
) -> HourlyWeather:
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise WeatherFileError(f"{path}: line 1: latitude {latitude:g} / longitude {longitude:g} are not on Earth")
    if not -12 <= offset <= 14:
        raise WeatherFileError(f"{path}: line 1: time zone {offset:g} h is not a UTC offset")
    if not when:
        raise WeatherFileError(f"{path}: has no data lines")
    keep: list[int] = []
    position: list[float] = []
    seen: dict[float, int] = {}
    for i, (number, month, day, hour) in enumerate(when):
        if not 1 <= month <= 12 or not 1 <= hour <= 24:
            raise WeatherFileError(f"{path}: line {number}: month {month}, hour {hour}: months run 1-12, hours 1-24")
        try:
            datetime(2000, month, day)  # a leap year: 29 February is a date (and is then left out)
        except ValueError:
            raise WeatherFileError(f"{path}: line {number}: {month:02d}-{day:02d} is not a date") from None
        if (month, day) == (2, 29):
            continue
        end = (MONTH_STARTS[month - 1] + day - 1) * DAY + hour * HOUR
        if end in seen:
            raise WeatherFileError(
                f"{path}: line {number}: {month:02d}-{day:02d} hour {hour} is also on line {seen[end]}"
            )
        seen[end] = number
        keep.append(i)
        position.append(end)
    order = np.argsort(position)
    series = {name: _filled(path, name, np.array(values)[keep][order]) for name, values in columns.items()}
    return HourlyWeather(
        kind=kind,
        place=place or Path(path).stem,
        latitude=latitude,
        longitude=longitude,
        elevation_m=elevation,
        utc_offset_h=offset,
        hour_end=np.array(position)[order],
        temperature_c=series["temperature_c"],
        ghi=series["ghi"],
        dhi=series["dhi"],
        wind_m_s=series["wind_m_s"],
    )


def _filled(path: str, name: str, values: np.ndarray) -> np.ndarray:
    """Missing values (the format's missing codes) filled from their neighbours; a column that is mostly missing
    is an error rather than invented."""
    missing = np.isnan(values)
    if missing.mean() > 0.1:
        raise WeatherFileError(
            f"{path}: {missing.sum():,} of {len(values):,} hours have no {name.replace('_', ' ')} (the missing code)"
        )
    if missing.any():
        index = np.arange(len(values))
        values = values.copy()
        values[missing] = np.interp(index[missing], index[~missing], values[~missing])
    if name in ("ghi", "dhi") and (values < 0).any():
        raise WeatherFileError(f"{path}: {name.upper()} is negative in {(values < 0).sum()} hours")
    return values

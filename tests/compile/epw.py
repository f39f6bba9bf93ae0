"""Writing EPW files for tests, and the conversion that made the example's weather file from NREL's TMY3 data.

`examples/weather/greensboro_tmy3_july.epw` is exactly `tmy3_to_epw(TMY3, date(2026, 7, 1), 14)` (a test checks
it byte for byte), where TMY3 is NREL's typical meteorological year for Greensboro, NC (station 723170, NSRDB
1991-2005 update) as pvlib ships it (pvlib/data/723170TYA.CSV).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np

FLAGS = "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9"


def epw_text(
    place: tuple[str, str, str, str, str],
    latitude: float,
    longitude: float,
    utc_offset_h: float,
    elevation_m: float,
    rows: list[dict[str, float | int]],
    comment: str,
) -> str:
    """An hourly EPW file: 8 header lines and one line of 35 fields per row (keys: year, month, day, hour and
    the values, in the EPW's units; absent ones written as the format's missing codes)."""
    first, last = rows[0], rows[-1]
    start = date(int(first["year"]), int(first["month"]), int(first["day"]))
    weekday = start.strftime("%A")
    head = [
        f"LOCATION,{','.join(place)},{latitude:.2f},{longitude:.2f},{utc_offset_h:.1f},{elevation_m:.1f}",
        "DESIGN CONDITIONS,0",
        "TYPICAL/EXTREME PERIODS,0",
        "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        f"COMMENTS 1,{comment}",
        "COMMENTS 2,hourly; irradiance is each hour's mean; times are local standard time",
        f"DATA PERIODS,1,1,Data,{weekday},{first['month']}/{first['day']},{last['month']}/{last['day']}",
    ]
    lines = []
    for r in rows:

        def v(key: str, missing: float, fmt: str = "{:g}", r: dict[str, float | int] = r) -> str:
            return fmt.format(r[key]) if key in r else fmt.format(missing)

        lines.append(
            ",".join(
                [
                    str(r["year"]),
                    str(r["month"]),
                    str(r["day"]),
                    str(r["hour"]),
                    "60",
                    FLAGS,
                    v("temperature_c", 99.9, "{:.1f}"),
                    v("dew_point_c", 99.9, "{:.1f}"),
                    v("rh", 999, "{:.0f}"),
                    v("pressure_pa", 999999, "{:.0f}"),
                    v("etr", 9999, "{:.0f}"),
                    v("etrn", 9999, "{:.0f}"),
                    "9999",
                    v("ghi", 9999, "{:.0f}"),
                    v("dni", 9999, "{:.0f}"),
                    v("dhi", 9999, "{:.0f}"),
                    "999999",
                    "999999",
                    "999999",
                    "9999",
                    v("wind_dir", 999, "{:.0f}"),
                    v("wind_m_s", 999, "{:.1f}"),
                    v("total_cloud", 99, "{:.0f}"),
                    v("opaque_cloud", 99, "{:.0f}"),
                    v("visibility_km", 9999, "{:.1f}"),
                    v("ceiling_m", 99999, "{:.0f}"),
                    "9",
                    "999999999",
                    v("precipitable_mm", 999, "{:.0f}"),
                    ".999",
                    "999",
                    "99",
                    v("albedo", 999, "{:.3f}"),
                    v("rain_mm", 999, "{:.1f}"),
                    v("rain_hours", 99, "{:.1f}"),
                ]
            )
        )
    return "\r\n".join(head + lines) + "\r\n"


def tmy3_to_epw(tmy3: Path, first: date, days: int) -> str:
    """``days`` days of a TMY3 file, from ``first`` (its month and day; the year written is ``first``'s), as EPW."""
    with tmy3.open(newline="") as f:
        reader = csv.reader(f)
        site = next(reader)
        names = next(reader)
        table = list(reader)
    col = {name: names.index(name) for name in names}
    wanted = [(d.month, d.day) for d in (date.fromordinal(first.toordinal() + i) for i in range(days))]
    rows = []
    for month, day in wanted:
        for line in table:
            m, d = (int(x) for x in line[0].split("/")[:2])
            if (m, d) != (month, day):
                continue

            def f(name: str, line: list[str] = line) -> float:
                return float(line[col[name]])

            rows.append(
                {
                    "year": first.year,
                    "month": m,
                    "day": d,
                    "hour": int(line[1].split(":")[0]),
                    "temperature_c": f("Dry-bulb (C)"),
                    "dew_point_c": f("Dew-point (C)"),
                    "rh": f("RHum (%)"),
                    "pressure_pa": f("Pressure (mbar)") * 100,
                    "etr": f("ETR (W/m^2)"),
                    "etrn": f("ETRN (W/m^2)"),
                    "ghi": f("GHI (W/m^2)"),
                    "dni": f("DNI (W/m^2)"),
                    "dhi": f("DHI (W/m^2)"),
                    "wind_dir": f("Wdir (degrees)"),
                    "wind_m_s": f("Wspd (m/s)"),
                    "total_cloud": f("TotCld (tenths)"),
                    "opaque_cloud": f("OpqCld (tenths)"),
                    "visibility_km": f("Hvis (m)") / 1000,
                    "ceiling_m": f("CeilHgt (m)"),
                    "precipitable_mm": f("Pwat (cm)") * 10,
                    "albedo": f("Alb (unitless)"),
                    "rain_mm": f("Lprecip depth (mm)"),
                    "rain_hours": f("Lprecip quantity (hr)"),
                }
            )
    comment = (
        f"NREL TMY3 {site[0]} ({site[1]} {site[2]}) of the NSRDB 1991-2005 update: {days} days from {first:%m-%d}; "
        "converted to EPW by amiscen's tests (tests/compile/epw.py)"
    )
    return epw_text(
        (site[1], site[2], "USA", "NREL TMY3", site[0]),
        float(site[4]),
        float(site[5]),
        float(site[3]),
        float(site[6]),
        rows,
        comment,
    )


def pvlib_tmy3() -> Path:
    import pvlib

    return Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"


def year_of_rows(values: dict[str, np.ndarray], year: int = 2026) -> list[dict[str, float | int]]:
    """A whole 8,760-hour year of rows from hourly arrays (keys as epw_text takes them)."""
    rows: list[dict[str, float | int]] = []
    i = 0
    for month, length in enumerate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1):
        for day in range(1, length + 1):
            for hour in range(1, 25):
                rows.append(
                    {"year": year, "month": month, "day": day, "hour": hour}
                    | {k: float(v[i]) for k, v in values.items()}
                )
                i += 1
    return rows

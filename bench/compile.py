"""Compile speed: the UTCC campus for one day and one year at 15 s, in meter-intervals per second, with peak
memory, against a naive per-reading pure-Python loop computing the same load and PV formulas in the same run; and
`plan --export` of the campus over --export-days as CSV, JSON lines and Parquet, in rows per second, the compile
alone measured in the same run (so the writing's own rate is shown too).
`python bench/compile.py [--naive-intervals 20000] [--export-days 30]`.

The naive loop does less than the compiler (no clouds, noise, appliance steps or batteries), so the ratio is
conservative. Its rate is measured on a slice and is a rate: it does not depend on the slice's length.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import resource
import time
from pathlib import Path

from amiscen.compile.plan import SiteModel
from amiscen.scenario import load_scenario
from amiscen.scenario.model import Scenario, meters

ROOT = Path(__file__).resolve().parent.parent
RAD = math.pi / 180


def compile_rate(scenario: Scenario, days: int) -> tuple[float, int]:
    """Seconds to compile every meter for ``days`` days (each meter compiled, then dropped), and meter-intervals."""
    step = scenario.time.reading_interval.total_seconds()
    count = int(days * 86400 // step)
    start = time.perf_counter()
    site = SiteModel(scenario, count=count)
    fleet = meters(scenario)
    for meter in fleet:
        site.meter_plan(meter)
    return time.perf_counter() - start, count * len(fleet)


def naive(scenario: Scenario, intervals: int) -> tuple[float, int]:
    """The same load and PV values one reading at a time in Python: shape, calendar day factor, cooling, AR(1)
    noise, and the PV chain under an AR(1) cloud index (appliance steps and batteries left out)."""
    import random

    fleet = meters(scenario)
    site = scenario.site
    step = scenario.time.reading_interval.total_seconds()
    t0 = scenario.time.start.timestamp()
    rng = random.Random(1)
    weekend_days = {d for d in range(400) if (dt.date(2026, 1, 1) + dt.timedelta(days=d)).weekday() >= 5}
    start = time.perf_counter()
    done = 0
    for meter in fleet:
        profile = scenario.profile(meter.building_type)
        phi_noise = math.exp(-step / (profile.noise_minutes * 60))
        phi_cloud = math.exp(-step / 2400)
        noise = cloud = 0.0
        per_meter = max(1, intervals // len(fleet))
        for i in range(per_meter):
            epoch = t0 + (i + 0.5) * step
            hour = ((epoch + 7 * 3600) % 86400) / 3600
            day = int((epoch - t0) // 86400)
            h0 = int(hour) % 24
            frac = hour - int(hour)
            shape = profile.hourly[h0] * (1 - frac) + profile.hourly[(h0 + 1) % 24] * frac
            base = min(profile.hourly)
            factor = profile.weekend_factor if day in weekend_days else 1.0
            demand = base + (shape - base) * factor
            temp = 29 + 3.5 * math.cos((hour - 15) / 24 * 2 * math.pi)
            cool = min(max(0.15 + 0.85 * (temp - 24) / 10, 0.15), 1.3)
            noise = phi_noise * noise + math.sqrt(1 - phi_noise * phi_noise) * rng.gauss(0, 1)
            load = (
                meter.peak_kw
                * 1000
                * ((1 - profile.cooling_share) * demand + profile.cooling_share * demand * cool)
                * (1 + profile.noise * noise)
            )
            pv = 0.0
            if meter.pv:
                cloud = phi_cloud * cloud + math.sqrt(1 - phi_cloud * phi_cloud) * rng.gauss(0, 1)
                index = min(max(1 - 0.3 * min(max(1 + 0.9 * cloud, 0), 2), 0.05), 1.08)
                pv = index * _pv_scalar(meter, epoch, site.latitude, site.longitude, site.elevation_m, temp)
            done += 1 if load + pv >= 0 else 0
    return time.perf_counter() - start, done


def _pv_scalar(meter: object, epoch: float, lat: float, lon: float, alt: float, air: float) -> float:
    pv = meter.pv  # type: ignore[attr-defined]
    jd = epoch / 86400 + 2440587.5
    jc = (jd - 2451545) / 36525
    l0 = (280.46646 + jc * (36000.76983 + jc * 0.0003032)) % 360
    m = (357.52911 + jc * (35999.05029 - 0.0001537 * jc)) * RAD
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    c = math.sin(m) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) + math.sin(2 * m) * (0.019993 - 0.000101 * jc)
    omega = (125.04 - 1934.136 * jc) * RAD
    app = l0 + c - 0.00569 - 0.00478 * math.sin(omega)
    obliq = 23 + (26 + (21.448 - jc * 46.815) / 60) / 60 + 0.00256 * math.cos(omega)
    decl = math.asin(math.sin(obliq * RAD) * math.sin(app * RAD))
    y = math.tan(obliq * RAD / 2) ** 2
    eq = (
        4
        / RAD
        * (y * math.sin(2 * l0 * RAD) - 2 * ecc * math.sin(m) + 4 * ecc * y * math.sin(m) * math.cos(2 * l0 * RAD))
    )
    ha = (((epoch % 86400) / 60 + eq + 4 * lon) % 1440 / 4 - 180) * RAD
    cz = math.sin(lat * RAD) * math.sin(decl) + math.cos(lat * RAD) * math.cos(decl) * math.cos(ha)
    if cz <= 0:
        return 0.0
    z = math.acos(cz) / RAD
    am = 1 / (cz + 0.50572 * (96.07995 - z) ** -1.6364)
    tl = 4.5
    ghi = 0.868 * 1366.1 * cz * math.exp(-0.0387 * am * (1 + (tl - 1)))
    dni = min(1366.1 * 0.827 * math.exp(-0.09 * am * (tl - 1)), ghi / cz)
    dhi = max(ghi - dni * cz, 0)
    cos_aoi = cz * math.cos(pv.tilt_deg * RAD) + math.sin(z * RAD) * math.sin(pv.tilt_deg * RAD)
    poa = dni * max(cos_aoi, 0) + dhi * (1 + math.cos(pv.tilt_deg * RAD)) / 2
    cell = poa * math.exp(-2.98 - 0.0471) + air + poa / 1000
    dc = pv.kwp * 1000 * poa / 1000 * (1 + pv.temp_coeff_per_c * (cell - 25)) * 0.86
    return min(dc * 0.96, pv.ac_kw * 1000)


def export_rate(scenario: Scenario, days: int, suffix: str, directory: Path) -> tuple[float, int]:
    """Seconds for `plan --export` of every meter over ``days`` days to a file, and the rows written."""
    from amiscen.cli.plan import _export_to
    from amiscen.play.plan import export_format, plan

    step = scenario.time.reading_interval.total_seconds()
    s = scenario.model_copy(
        update={
            "time": scenario.time.model_copy(update={"duration": dt.timedelta(seconds=days * 86400 // step * step)})
        }
    )
    path = directory / f"plan{suffix}"
    start = time.perf_counter()
    fmt = export_format(path)
    with _export_to(path, fmt, s.site.timezone) as target:
        report = plan(s, export=target, export_format=fmt)
    seconds = time.perf_counter() - start
    path.unlink()
    return seconds, report.rows_written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-intervals", type=int, default=50_000)
    parser.add_argument("--skip-year", action="store_true")
    parser.add_argument("--export-days", type=int, default=30, help="days of the campus to export (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each measurement; medians are printed")
    args = parser.parse_args()
    campus = load_scenario(ROOT / "scenarios" / "campus_utcc.yaml").scenario
    campus = campus.model_copy(
        update={
            "time": campus.time.model_copy(
                update={"start": dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))}
            )
        }
    )
    import statistics

    def median(measure: object) -> tuple[float, int]:
        runs = [measure() for _ in range(args.repeat)]  # type: ignore[operator]
        return statistics.median(r[0] for r in runs), runs[0][1]

    day_s, day_n = median(lambda: compile_rate(campus, 1))
    naive_s, naive_n = median(lambda: naive(campus, args.naive_intervals))
    print(f"campus: {len(meters(campus))} meters at 15 s; medians of {args.repeat} rounds")
    print(f"compile one day:  {day_s:6.2f} s = {day_n / day_s:12,.0f} meter-intervals/s")
    if not args.skip_year:
        year_s, year_n = median(lambda: compile_rate(campus, 365))
        print(f"compile one year: {year_s:6.2f} s = {year_n / year_s:12,.0f} meter-intervals/s")
        best = year_n / year_s
    else:
        best = day_n / day_s
    print(f"naive Python loop:          {naive_n / naive_s:12,.0f} meter-intervals/s ({naive_n:,} readings)")
    print(f"ratio compiler/naive:       {best / (naive_n / naive_s):.1f}x")
    print(f"peak memory (max RSS):      {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if args.export_days:
        import tempfile

        from amiscen.play.plan import plan

        days = args.export_days
        step = campus.time.reading_interval.total_seconds()
        window = campus.model_copy(
            update={
                "time": campus.time.model_copy(update={"duration": dt.timedelta(seconds=days * 86400 // step * step)})
            }
        )
        compile_s, _ = median(lambda: (_timed(lambda: plan(window)), 0))
        print(f"plan (compile and totals) of {days} days: {compile_s:6.2f} s")
        with tempfile.TemporaryDirectory() as tmp:
            for suffix in (".parquet", ".csv", ".jsonl"):
                try:
                    seconds, rows = median(lambda suffix=suffix: export_rate(campus, days, suffix, Path(tmp)))
                except Exception as exc:  # a format whose extra is missing is reported, not fatal
                    print(f"plan --export {suffix}: not measured ({exc})")
                    continue
                writing = max(seconds - compile_s, 1e-9)
                print(
                    f"plan --export {suffix:<8} {rows:,} rows in {seconds:6.2f} s = {rows / seconds:12,.0f} rows/s "
                    f"(the writing alone {rows / writing:12,.0f} rows/s)"
                )


def _days(scenario: Scenario, days: int) -> Scenario:
    window = scenario.time.model_copy(update={"duration": dt.timedelta(days=days)})
    return scenario.model_copy(update={"time": window})


def _timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

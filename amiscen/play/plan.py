"""`amiscen plan`: compile a scenario and say what each building and the campus will do, without a network.

Meters are compiled one at a time and discarded, so a year at 15 s fits in memory; an export streams rows."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np

from amiscen.compile.plan import MeterPlan, SiteModel
from amiscen.compile.summary import Totals
from amiscen.play.schedule import utility_events
from amiscen.runner.physics import Baseline, Control, MeterPhysics
from amiscen.scenario.model import MeterSpec, Scenario, meters

COLUMNS = [
    "time",
    "meter",
    "building",
    "load_w",
    "pv_w",
    "battery_w",
    "soc",
    "import_wh",
    "export_wh",
    "import_total_wh",
    "export_total_wh",
    "voltage_v",
]


@dataclass
class PlanReport:
    buildings: dict[str, Totals] = field(default_factory=dict)
    campus: Totals = field(default_factory=Totals)
    dr_expected_kw: dict[str, float] = field(default_factory=dict)
    rows_written: int = 0


def _dr_controls(scenario: Scenario, fleet: list[MeterSpec]) -> dict[str, list[tuple[str, Control]]]:
    """Per meter: (event id, the control it would apply) for each DR event, everyone participating."""
    out: dict[str, list[tuple[str, Control]]] = {}
    for e in utility_events(scenario, fleet):
        if e.kind != "dr":
            continue
        for meter in e.targets or [m.id for m in fleet]:
            share = e.spec.get("shares", {}).get(meter)
            percent = e.spec.get("percent")
            control = Control(
                e.start,
                e.end,
                reduce_w=None if share is None else share * 1000,
                reduce_share=None if percent is None else percent / 100,
            )
            out.setdefault(meter, []).append((e.event_id, control))
    return out


def plan(
    scenario: Scenario,
    *,
    meter_ids: set[str] | None = None,
    start: float | None = None,
    end: float | None = None,
    export: IO[str] | None = None,
    export_format: str = "csv",
    progress: Callable[[int], None] | None = None,
    site: SiteModel | None = None,
    visit: Callable[[MeterPlan], None] | None = None,
) -> PlanReport:
    """Compile every meter once; ``visit`` sees each compiled plan (a report draws from it)."""
    site = site or SiteModel(scenario)
    fleet = [m for m in meters(scenario) if meter_ids is None or m.id in meter_ids]
    report = PlanReport()
    controls = _dr_controls(scenario, fleet)
    reduction: dict[str, np.ndarray] = {}
    times = site.grid.starts
    keep = np.ones(len(times), dtype=bool)
    if start is not None:
        keep &= times >= start
    if end is not None:
        keep &= times < end
    writer = _writer(export, export_format, ZoneInfo(scenario.site.timezone)) if export is not None else None
    for done, meter in enumerate(fleet, start=1):
        meter_plan = site.meter_plan(meter)
        report.buildings.setdefault(meter.building, Totals()).add(meter_plan, site.grid.step)
        report.campus.add(meter_plan, site.grid.step)
        for event_id, control in controls.get(meter.id, []):
            with_event = MeterPhysics(Baseline.of(meter_plan), site).intervals_until(float(control.end), [control])
            cut = np.array([x.baseline_net_w - x.net_w for x in with_event])
            total = reduction.setdefault(event_id, np.zeros(len(times)))
            total[: len(cut)] += cut
        if writer is not None:
            report.rows_written += writer(meter_plan, times, keep)
        if visit is not None:
            visit(meter_plan)
        if progress is not None:
            progress(done)
    for e in scenario.demand_response_events():
        start_t = scenario.at(e.start).timestamp()
        window = (times >= start_t) & (times < start_t + e.duration.total_seconds())
        saved = reduction.get(e.id)
        report.dr_expected_kw[e.id] = float(saved[window].mean()) / 1000 if saved is not None and window.any() else 0.0
    return report


def _writer(handle: IO[str], export_format: str, tz: ZoneInfo) -> Callable[[MeterPlan, np.ndarray, np.ndarray], int]:
    csv_writer = csv.writer(handle) if export_format == "csv" else None
    if csv_writer is not None:
        csv_writer.writerow(COLUMNS)

    def write(meter_plan: MeterPlan, times: np.ndarray, keep: np.ndarray) -> int:
        r = meter_plan.registers
        count = 0
        for i in np.flatnonzero(keep):
            when = dt.datetime.fromtimestamp(float(times[i]), tz).isoformat()
            soc = None if np.isnan(r.soc[i]) else round(float(r.soc[i]), 4)
            row = [
                when,
                meter_plan.meter.id,
                meter_plan.meter.building,
                round(float(r.load_w[i]), 1),
                round(float(r.pv_w[i]), 1),
                round(float(r.battery_w[i]), 1),
                soc,
                round(float(r.import_wh[i]), 3),
                round(float(r.export_wh[i]), 3),
                round(float(r.import_total_wh[i]), 3),
                round(float(r.export_total_wh[i]), 3),
                round(float(r.voltage_v[i]), 2),
            ]
            if csv_writer is not None:
                csv_writer.writerow(["" if v is None else v for v in row])
            else:
                handle.write(json.dumps(dict(zip(COLUMNS, row, strict=True))) + "\n")
            count += 1
        return count

    return write


def summary_lines(scenario: Scenario, report: PlanReport) -> Iterator[str]:
    site = SiteModel(scenario)
    tz = ZoneInfo(scenario.site.timezone)

    def line(name: str, t: Totals) -> str:
        peak_kw, index = t.peak()
        when = dt.datetime.fromtimestamp(float(site.grid.starts[index]), tz).strftime("%Y-%m-%d %H:%M")
        intensity = f"{t.consumption_kwh / t.floor_area_m2:7.1f}" if t.floor_area_m2 else "      -"
        return (
            f"{name:<16} {t.meters:>6} {t.consumption_kwh:>13,.0f} {intensity} {t.pv_kwh:>12,.0f} "
            f"{t.export_kwh:>10,.0f} {t.self_consumption * 100:>8.1f} {peak_kw:>10,.1f}  {when}  "
            f"{t.battery_cycles:>6.2f}"
        )

    yield (
        f"{'building':<16} {'meters':>6} {'consumed kWh':>13} {'kWh/m2':>7} {'PV kWh':>12} {'feed-in':>10} "
        f"{'self-%':>8} {'peak kW':>10}  {'peak at':<16}  {'cycles':>6}"
    )
    for name, totals in report.buildings.items():
        yield line(name, totals)
    yield line("campus", report.campus)
    for event_id, kw in report.dr_expected_kw.items():
        yield f"DR {event_id}: expected reduction {kw:,.1f} kW (everyone participating)"
    if report.rows_written:
        yield f"exported {report.rows_written:,} rows"


def export_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    from amiscen.errors import UsageError

    raise UsageError(f"{path}: export as .csv or .jsonl (by extension)")

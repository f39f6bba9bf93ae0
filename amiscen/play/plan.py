"""`amiscen plan`: compile a scenario and say what each building and the campus will do, without a network.

Meters are compiled one at a time and discarded, so a year at 15 s fits in memory; an export streams rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np

from amiscen.compile.plan import MeterPlan, SiteModel
from amiscen.compile.summary import Totals
from amiscen.compile.timegrid import utc_offsets
from amiscen.play.schedule import utility_events
from amiscen.runner.baseline import Baseline
from amiscen.runner.physics import Control, MeterPhysics
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
    export: IO[str] | ParquetExport | None = None,
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
    writer: Callable[[MeterPlan, np.ndarray, np.ndarray], int] | None = None
    if isinstance(export, ParquetExport):
        writer = export
    elif export is not None:
        writer = _writer(export, export_format, ZoneInfo(scenario.site.timezone))
    for done, meter in enumerate(fleet, start=1):
        meter_plan = site.meter_plan(meter)
        report.buildings.setdefault(meter.building, Totals()).add(meter_plan, site.grid.step)
        report.campus.add(meter_plan, site.grid.step)
        events = controls.get(meter.id, [])
        if events:
            baseline = Baseline.of(meter_plan)  # once per meter, whatever its events
            for event_id, control in events:
                physics = MeterPhysics(baseline, site)
                physics.skip_until(control)  # before it, the cut is 0: the plan unchanged
                first = physics.next_index
                with_event = physics.intervals_until(float(control.end), [control])
                cut = np.array([x.baseline_net_w - x.net_w for x in with_event])
                total = reduction.setdefault(event_id, np.zeros(len(times)))
                total[first : first + len(cut)] += cut
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


ROUNDING = {"load_w": 1, "pv_w": 1, "battery_w": 1, "soc": 4, "import_wh": 3, "export_wh": 3,
            "import_total_wh": 3, "export_total_wh": 3, "voltage_v": 2}  # fmt: skip


def _columns(meter_plan: MeterPlan, keep: np.ndarray) -> dict[str, np.ndarray]:
    """A meter's exported columns, rounded as they are written."""
    r = meter_plan.registers
    source = {
        "load_w": r.load_w,
        "pv_w": r.pv_w,
        "battery_w": r.battery_w,
        "soc": r.soc,
        "import_wh": r.import_wh,
        "export_wh": r.export_wh,
        "import_total_wh": r.import_total_wh,
        "export_total_wh": r.export_total_wh,
        "voltage_v": r.voltage_v,
    }
    return {name: np.round(values[keep], ROUNDING[name]) for name, values in source.items()}


def local_times(times: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """ISO 8601 local times with their offsets (2026-03-02T10:00:15+07:00), for many instants at once: the
    offset is looked up once per hour, the text built by numpy."""
    offsets = utc_offsets(times, str(tz.key)).astype(np.int64)
    local = np.datetime_as_string((times.astype(np.int64) + offsets).astype("datetime64[s]"), unit="s")
    minutes = np.abs(offsets) // 60
    sign = np.where(offsets < 0, "-", "+")
    suffix = np.char.add(np.char.add(sign, np.char.zfill((minutes // 60).astype(str), 2)), ":")
    suffix = np.char.add(suffix, np.char.zfill((minutes % 60).astype(str), 2))
    return np.char.add(local.astype(str), suffix)


class ParquetExport:
    """Rows as Apache Parquet (pyarrow, the optional extra amiscen[export]): one row group per meter, the time a
    timestamp in the site's zone, meter and building dictionary-encoded. Columnar, typed, a fraction of the CSV's
    size, and read by pandas, polars, DuckDB and Spark as it is."""

    def __init__(self, path: Path, tz: ZoneInfo) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            from amiscen.errors import UsageError

            raise UsageError(
                f"{path}: a Parquet export needs pyarrow", hint="pip install 'amiscen[export]', or export .csv"
            ) from None
        self.pa = pa
        zone = str(tz.key)
        fields = [
            pa.field("time", pa.timestamp("s", tz=zone)),
            pa.field("meter", pa.dictionary(pa.int32(), pa.string())),
            pa.field("building", pa.dictionary(pa.int32(), pa.string())),
            *(pa.field(name, pa.float64()) for name in COLUMNS[3:]),
        ]
        self.schema = pa.schema(fields)
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        # a meter's row group is encoded and compressed (pyarrow, without the GIL) while the next meter compiles;
        # one at a time, in order, so the file is the same and at most two meters' columns are held
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self._pending: Future[None] | None = None

    def __call__(self, meter_plan: MeterPlan, times: np.ndarray, keep: np.ndarray) -> int:
        pa = self.pa
        columns = _columns(meter_plan, keep)
        n = len(columns["load_w"])
        index = pa.array(np.zeros(n, dtype=np.int32))
        arrays = [
            pa.array(times[keep].astype(np.int64), type=self.schema.field("time").type),
            pa.DictionaryArray.from_arrays(index, pa.array([meter_plan.meter.id])),
            pa.DictionaryArray.from_arrays(index, pa.array([meter_plan.meter.building])),
            *(
                pa.array(columns[name], mask=np.isnan(columns[name])) if name == "soc" else pa.array(columns[name])
                for name in COLUMNS[3:]
            ),
        ]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        self._written()
        self._pending = self._pool.submit(self.writer.write_table, table)
        return n

    def _written(self) -> None:
        """Wait for the row group being written; its error, if any, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self._written()
        finally:
            self._pool.shutdown()
            self.writer.close()


def _writer(handle: IO[str], export_format: str, tz: ZoneInfo) -> Callable[[MeterPlan, np.ndarray, np.ndarray], int]:
    """A function writing a meter's rows as text; the local time column is made once and shared by every meter."""
    stamps: dict[str, np.ndarray] = {}

    def when(times: np.ndarray, keep: np.ndarray) -> np.ndarray:
        if "t" not in stamps:
            stamps["t"] = local_times(times[keep], tz)
        return stamps["t"]

    if export_format == "csv":
        handle.write(",".join(COLUMNS) + "\r\n")

        def write_csv(meter_plan: MeterPlan, times: np.ndarray, keep: np.ndarray) -> int:
            columns = _columns(meter_plan, keep)
            n = len(columns["load_w"])
            table = np.empty((n, len(COLUMNS)), dtype=object)
            table[:, 0] = when(times, keep)
            table[:, 1] = meter_plan.meter.id
            table[:, 2] = meter_plan.meter.building
            for j, name in enumerate(COLUMNS[3:], start=3):
                values = columns[name]
                table[:, j] = values.tolist()
                if name == "soc":
                    table[np.isnan(values), j] = ""
            row = "%s,%s,%s" + ",%r" * 3 + ",%s" + ",%r" * 5 + "\r\n"
            flat = table.ravel().tolist()
            width = len(COLUMNS)
            for first in range(0, n, 8192):  # blocks: one %-format in C per 8,192 rows
                rows = min(8192, n - first)
                handle.write((row * rows) % tuple(flat[first * width : (first + rows) * width]))
            return n

        return write_csv

    def write_jsonl(meter_plan: MeterPlan, times: np.ndarray, keep: np.ndarray) -> int:
        columns = _columns(meter_plan, keep)
        stamp = when(times, keep)
        values = [columns[name].tolist() for name in COLUMNS[3:]]
        for i, row in enumerate(zip(*values, strict=True)):
            record = dict(zip(COLUMNS[3:], row, strict=True))
            if record["soc"] != record["soc"]:  # NaN: no battery
                record["soc"] = None
            head = {"time": str(stamp[i]), "meter": meter_plan.meter.id, "building": meter_plan.meter.building}
            handle.write(json.dumps(head | record) + "\n")
        return len(stamp)

    return write_jsonl


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
    if suffix == ".parquet":
        return "parquet"
    from amiscen.errors import UsageError

    raise UsageError(f"{path}: export as .csv, .jsonl or .parquet (by extension)")

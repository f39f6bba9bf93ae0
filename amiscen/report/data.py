"""What a report shows, read from where it was measured.

A run is read from its embedded head-end's database (what the head-end stored) or, against another gateway,
from its exchange record (what the gateway acknowledged with a 2xx); a plan from the compiled scenario. Readings
are recognised by their ReadingType (unit, flow direction, accumulation), not by amiscen's own mRIDs. Series are
binned for plotting; every total uses every reading at full resolution.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from amiscen.compile.plan import MeterPlan, SiteModel
from amiscen.compile.registers import Registers
from amiscen.errors import UsageError
from amiscen.gateway.store import Store
from amiscen.gateway.utility import UtilityEvent
from amiscen.gateway.utility import events as stored_events
from amiscen.play.runfiles import RUN_FILE, SUMMARY_FILE, DamagedRunFile, read_run_json
from amiscen.play.schedule import utility_events
from amiscen.scenario.events import GatewayOutage, MeterOffline
from amiscen.scenario.model import MeterSpec, Scenario, meters
from amiscen.sep import constants as c

MAX_POINTS = 1500  # bins per series: enough for a figure a page wide, whatever the run's length
KEYS = ("consumption", "pv", "feed_in", "import", "net")


def quantity_of(reading_type: dict[str, Any]) -> str | None:
    """Which campus quantity a MirrorMeterReading carries, from its ReadingType; None for the ones not plotted
    (registers, voltage)."""
    uom = reading_type.get("uom")
    try:
        flow = c.FlowDirection(int(reading_type.get("flowDirection") or 0))
    except ValueError:
        return None  # a direction amiscen does not plot
    accumulation = reading_type.get("accumulationBehaviour")
    if uom == c.Uom.WH and accumulation == c.Accumulation.DELTA_DATA:
        return {c.FlowDirection.FORWARD: "import", c.FlowDirection.REVERSE: "feed_in"}.get(flow)
    if uom == c.Uom.W:
        return {c.FlowDirection.FORWARD: "net", c.FlowDirection.REVERSE: "pv", c.FlowDirection.NONE: "battery"}.get(
            flow
        )
    if uom == c.Uom.WH and accumulation == c.Accumulation.INSTANTANEOUS and flow == c.FlowDirection.NONE:
        return "stored"
    return None


@dataclass(frozen=True)
class Span:
    """A shaded stretch of a time axis: a DR event, a DER control, a gateway outage, a meter offline. A cancelled
    event's span ends at its cancellation (before its start if it never ran); ``planned_end`` is then where it was
    to end."""

    kind: str
    label: str
    start: float
    end: float
    planned_end: float | None = None

    @property
    def cancelled(self) -> bool:
        return self.planned_end is not None


@dataclass
class Frame:
    """Campus series binned on one grid: kW per building type and quantity, battery state of charge per meter."""

    start: float
    bin_s: float
    count: int
    reading_s: float
    energy_wh: dict[str, dict[str, np.ndarray]]  # building type -> quantity -> Wh per bin
    soc_sum: dict[str, np.ndarray] = field(default_factory=dict)  # meter -> sum of % per bin
    soc_n: dict[str, np.ndarray] = field(default_factory=dict)
    readings: np.ndarray = field(default_factory=lambda: np.zeros(0))  # readings per bin, all quantities
    net_fine: dict[int, float] = field(default_factory=dict)  # interval start -> campus net W, inside DR windows

    @classmethod
    def empty(cls, start: float, end: float, reading_s: float, types: Iterable[str]) -> Frame:
        intervals = max(1, math.ceil((end - start) / reading_s))
        per_bin = max(1, math.ceil(intervals / MAX_POINTS))
        count = math.ceil(intervals / per_bin)
        energy = {t: {k: np.zeros(count) for k in (*KEYS, "battery")} for t in types}
        return cls(start, reading_s * per_bin, count, reading_s, energy, readings=np.zeros(count))

    @property
    def times(self) -> np.ndarray:
        return self.start + self.bin_s * np.arange(self.count)

    def _bins(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.floor((starts - self.start) / self.bin_s).astype(np.int64)
        keep = (index >= 0) & (index < self.count)
        return index[keep], keep

    def add(self, building_type: str, quantity: str, starts: np.ndarray, wh: np.ndarray) -> None:
        index, keep = self._bins(starts)
        self.energy_wh[building_type][quantity] += np.bincount(index, weights=wh[keep], minlength=self.count)
        self.readings += np.bincount(index, minlength=self.count)

    def add_soc(self, meter: str, starts: np.ndarray, percent: np.ndarray) -> None:
        index, keep = self._bins(starts)
        total = self.soc_sum.setdefault(meter, np.zeros(self.count))
        n = self.soc_n.setdefault(meter, np.zeros(self.count))
        total += np.bincount(index, weights=percent[keep], minlength=self.count)
        n += np.bincount(index, minlength=self.count)
        self.readings += np.bincount(index, minlength=self.count)

    def add_net_fine(self, starts: np.ndarray, watts: np.ndarray, windows: Sequence[tuple[float, float]]) -> None:
        for a, b in windows:
            inside = (starts >= a) & (starts < b)
            for t, w in zip(starts[inside].tolist(), watts[inside].tolist(), strict=True):
                self.net_fine[int(t)] = self.net_fine.get(int(t), 0.0) + w

    def _energy(self, quantity: str, building_type: str | None) -> np.ndarray:
        """Wh per bin; consumption = net import + PV + battery discharge."""
        parts = ("net", "pv", "battery") if quantity == "consumption" else (quantity,)
        types = [building_type] if building_type else list(self.energy_wh)
        return np.sum([self.energy_wh[t][p] for t in types for p in parts], axis=0)

    def kw(self, quantity: str, building_type: str | None = None) -> np.ndarray:
        """Average kW per bin; NaN where nothing was reported."""
        out = self._energy(quantity, building_type) * 3.6 / self.bin_s
        out[self.readings == 0] = np.nan
        return out

    def soc(self, meter: str) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.soc_sum[meter] / self.soc_n[meter]

    def kwh(self, quantity: str, building_type: str | None = None) -> float:
        return float(self._energy(quantity, building_type).sum()) / 1000


@dataclass(frozen=True)
class DrRow:
    event_id: str
    program: str
    start: float
    end: float
    target: str  # "500 kW" or "10 % of demand"
    target_kw: float | None
    measured_kw: float | None  # baseline - measured net, mean over the window; None for a plan
    expected_kw: float | None  # from the plan, everyone participating
    cancelled_at: float | None  # when the utility cancelled it (before or during), None if it was not
    responses: dict[str, list[int]]  # meter -> statuses in the order received

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @classmethod
    def of(
        cls,
        e: UtilityEvent,
        target: str,
        target_kw: float | None = None,
        responses: dict[str, dict[str, list[int]]] | None = None,
        measured_kw: float | None = None,
        expected_kw: float | None = None,
    ) -> DrRow:
        mine = (responses or {}).get(e.event_id, {})
        return cls(
            event_id=e.event_id,
            program=e.program,
            start=e.start,
            end=e.end,
            target=target,
            target_kw=target_kw,
            measured_kw=measured_kw,
            expected_kw=expected_kw,
            cancelled_at=e.cancelled_at,
            responses={m: list(v) for m, v in sorted(mine.items())},
        )


@dataclass(frozen=True)
class Delivery:
    requests: int
    by_method: dict[str, int]
    statuses: dict[str, int]  # "200", "201", ..., or the failure class when there was no status
    latency_ms: dict[str, dict[str, float]]  # method or "all" -> p50/p90/p99/max
    retries: int | None
    failures: dict[str, int]
    permanent_failures: int | None
    readings_generated: int | None
    readings_delivered: int | None
    readings_stored: int | None


@dataclass(frozen=True)
class MeterRow:
    meter_id: str
    building: str
    connected: bool | None
    readings: int  # what the source holds for it
    generated: int | None
    delivered: int | None
    last_failure: str
    certificate: str  # status from the certificate store


@dataclass
class ReportData:
    scenario: Scenario
    kind: str  # "run" or "plan"
    source: str  # where every number came from, said in the report
    frame: Frame
    fleet: list[MeterSpec]
    spans: list[Span]
    dr: list[DrRow]
    der: list[DrRow]  # DER controls: target is the control, measured/expected unused
    meters: list[MeterRow]
    delivery: Delivery | None
    certificates: Counter[str]
    checks: list[dict[str, Any]]
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.scenario.site.timezone)

    @property
    def building_types(self) -> list[str]:
        return list(self.frame.energy_wh)

    def local(self, t: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(t, self.tz)

    def capacity_kwh(self, meter_id: str) -> float:
        spec = next(m for m in self.fleet if m.id == meter_id)
        return spec.battery.kwh if spec.battery else 0.0


def spans(scenario: Scenario, events: list[UtilityEvent], end: float) -> list[Span]:
    out = [
        Span(
            e.kind,
            e.event_id if e.kind == "dr" else f"{e.event_id}: {_control_words(e.spec)[0]}",
            e.start,
            max(e.start, e.until),
            e.end if e.until < e.end else None,
        )
        for e in events
    ]
    for f in scenario.faults:
        if isinstance(f, GatewayOutage):
            start = scenario.at(f.start).timestamp()
            out.append(Span("outage", f"gateway outage {f.id}", start, start + f.duration.total_seconds()))
        elif isinstance(f, MeterOffline):
            start = scenario.at(f.start).timestamp()
            out.append(Span("offline", f"meters offline {f.id}", start, start + f.duration.total_seconds()))
    return [s for s in out if s.start < end]


def _target(e: UtilityEvent, scenario: Scenario, baseline_load_kw: float | None) -> tuple[str, float | None]:
    """The event's target as the utility set it, and in kW (a share of demand is a share of the targeted meters'
    baseline load over the event)."""
    spec = next((d for d in scenario.demand_response_events() if d.id == e.event_id), None)
    if spec is None:
        kw = e.spec.get("kw")
        return (f"{kw:,.0f} kW", float(kw)) if kw else ("-", None)
    if spec.target_reduction.kw is not None:
        return f"{spec.target_reduction.kw:,.0f} kW", spec.target_reduction.kw
    percent = spec.target_reduction.percent or 0.0
    if baseline_load_kw is None:
        return f"{percent:g} % of demand", None
    kw = baseline_load_kw * percent / 100
    return f"{percent:g} % of demand ({kw:,.0f} kW)", kw


class PlanBaseline:
    """What the compiled plan (no control) says over the DR events: the campus net import per interval inside
    them, and each event's targeted load. Fed one meter plan at a time, so each meter is compiled once."""

    def __init__(self, site: SiteModel, events: list[UtilityEvent]) -> None:
        self.times = site.grid.starts
        self.events = [e for e in events if e.kind == "dr"]
        self.masks = {e.event_id: (self.times >= e.start) & (self.times < e.end) for e in self.events}
        self.inside = np.zeros(len(self.times), dtype=bool)
        for mask in self.masks.values():
            self.inside |= mask
        self.net = np.zeros(int(self.inside.sum()))
        self.load = {k: np.zeros(int(mask.sum())) for k, mask in self.masks.items()}

    def add(self, meter: MeterSpec, registers: Registers) -> None:
        self.net += registers.net_w[self.inside]
        for e in self.events:
            if e.applies_to(meter.id):
                self.load[e.event_id] += registers.load_w[self.masks[e.event_id]]

    def net_w(self) -> dict[int, float]:
        """Interval start -> campus net import, W."""
        return dict(zip((int(t) for t in self.times[self.inside]), self.net.tolist(), strict=True))

    def load_kw(self, event_id: str) -> float | None:
        """The targeted meters' mean load over the event (the part of it in the period), kW."""
        load = self.load[event_id]
        return float(load.mean()) / 1000 if len(load) else None


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    a = np.asarray(values)
    return {
        "p50": float(np.percentile(a, 50)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def read_exchange_log(path: Path) -> tuple[Counter[str], Counter[str], dict[str, dict[str, float]]]:
    """Requests by method, outcomes and latency percentiles from ``ieee2030_5.log`` (one line per exchange)."""
    by_method: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    elapsed: dict[str, list[float]] = defaultdict(list)
    if path.exists():
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(" "):
                    continue  # a body, logged under its exchange
                parts = line.split()
                if len(parts) < 6 or not parts[-1].endswith("ms"):
                    continue
                method, outcome = parts[2], parts[4]
                by_method[method] += 1
                outcomes[outcome] += 1
                ms = float(parts[-1][:-2])
                elapsed[method].append(ms)
                elapsed["all"].append(ms)
    latency = {k: _percentiles(v) for k, v in sorted(elapsed.items())}
    return by_method, outcomes, latency


# --- runs --------------------------------------------------------------------------------------------------------


RUN_FILE_KEYS = ("scenario", "start", "end", "step", "certs_dir")  # what a report reads of run.json


def _run_file(run_dir: Path) -> dict[str, Any]:
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run directory")
    path = run_dir / RUN_FILE
    if not path.exists():
        raise UsageError(
            f"{run_dir}: not an amiscen run directory, or one from before reports (no run.json)",
            hint="run the scenario again with `amiscen run`; its directory will hold run.json",
        )
    return read_run_json(
        path, RUN_FILE_KEYS, hint="run the scenario again with `amiscen run` for a directory to report on"
    )


def _headend_readings(store: Store) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(meter id, quantity, interval starts, Wh per interval) per MirrorMeterReading the head-end stored, from the
    sites' mirrors (a DER's mirror, under CSIP and CSIP-AUS, reports what the site's already holds)."""
    rows = store.all(
        "SELECT mmr.id, mmr.reading_type, ed.meter_id FROM mirror_meter_reading mmr "
        "JOIN mirror_usage_point mup ON mup.id = mmr.mup_id JOIN end_device ed ON ed.id = mup.edev_id "
        "WHERE mup.role_flags & ? = 0",
        (int(c.RoleFlags.IS_DER),),
    )
    for mmr_id, reading_type, meter_id in rows:
        rt = json.loads(reading_type)
        quantity = quantity_of(rt)
        if quantity is None:
            continue
        found = store.all("SELECT start, duration, value FROM reading WHERE mmr_id = ? ORDER BY start", (mmr_id,))
        data = np.array([tuple(r) for r in found], dtype=float).reshape(-1, 3)
        yield meter_id, quantity, *_as_wh(quantity, rt, data)


def _as_wh(quantity: str, rt: dict[str, Any], data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = 10.0 ** int(rt.get("powerOfTenMultiplier") or 0)
    starts, durations, values = data[:, 0], data[:, 1], data[:, 2] * scale
    if quantity in ("net", "pv", "battery"):  # average W over the interval
        return starts, values * durations / 3600
    return starts, values  # Wh: per interval for deltas, the level for stored energy


def _record_readings(path: Path) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """The same from a ``--record`` file: readings the gateway acknowledged with a 2xx, each (mRID, start) once."""
    from amiscen.sep.model.metering import MirrorMeterReading, MirrorMeterReadingList, MirrorUsagePoint
    from amiscen.sep.parse import parse_document

    types: dict[str, tuple[str, dict[str, Any]]] = {}
    points: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            try:
                x = json.loads(line)
            except ValueError as exc:
                if not line.endswith("\n"):  # the last line of a run killed while it wrote: what came before counts
                    break
                raise UsageError(f"{path}:{number}: not an exchange of a record ({exc})") from None
            if not isinstance(x, dict):
                raise UsageError(f"{path}:{number}: not an exchange of a record (a JSON object per line)")
            if x.get("method") not in ("POST", "PUT") or not (200 <= (x.get("status") or 0) < 300):
                continue
            if "Mirror" not in x.get("request", "")[:200]:
                continue
            doc = parse_document(x["request"])
            found: list[MirrorMeterReading] = []
            if isinstance(doc, (MirrorUsagePoint, MirrorMeterReadingList)):
                found = list(doc.MirrorMeterReading)
            elif isinstance(doc, MirrorMeterReading):
                found = [doc]
            if isinstance(doc, MirrorUsagePoint) and doc.roleFlags & c.RoleFlags.IS_DER:
                continue  # a DER's mirror (CSIP, CSIP-AUS): its readings repeat the site's
            for mmr in found:
                if mmr.ReadingType is not None:
                    rt = {k: v for k, v in vars(mmr.ReadingType).items() if v is not None}
                    types[mmr.mRID] = (x["meter"], rt)
                for rs in mmr.MirrorReadingSet:
                    for r in rs.Reading:
                        if r.timePeriod is not None and r.value is not None:
                            points[(x["meter"], mmr.mRID)][r.timePeriod.start] = (r.timePeriod.duration, r.value)
    for (meter_id, mmr_mrid), by_start in points.items():
        meter_type = types.get(mmr_mrid)
        if meter_type is None:
            continue
        rt = meter_type[1]
        quantity = quantity_of(rt)
        if quantity is None:
            continue
        data = np.array([(s, d, v) for s, (d, v) in sorted(by_start.items())], dtype=float).reshape(-1, 3)
        yield meter_id, quantity, *_as_wh(quantity, rt, data)


def _fill(
    frame: Frame,
    readings: Iterable[tuple[str, str, np.ndarray, np.ndarray]],
    fleet: dict[str, MeterSpec],
    windows: Sequence[tuple[float, float]],
) -> Counter[str]:
    per_meter: Counter[str] = Counter()
    for meter_id, quantity, starts, wh in readings:
        spec = fleet.get(meter_id)
        if spec is None:
            continue
        per_meter[meter_id] += len(starts)
        if quantity == "stored":
            if spec.battery and spec.battery.kwh:
                frame.add_soc(meter_id, starts, wh / (spec.battery.kwh * 10))
            continue
        frame.add(spec.building_type, quantity, starts, wh)
        if quantity == "net" and windows:
            frame.add_net_fine(starts, wh * 3600 / frame.reading_s, windows)
    return per_meter


def _responses(store: Store, events: list[UtilityEvent], pen: int) -> dict[str, dict[str, list[int]]]:
    devices = {r["lfdi"]: r["meter_id"] for r in store.all("SELECT lfdi, meter_id FROM end_device")}
    rows = store.all("SELECT lfdi, subject, status FROM response ORDER BY received, id")
    subjects = {
        e.device_mrid(pen, lfdi).upper(): (e.event_id, meter) for e in events for lfdi, meter in devices.items()
    }
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for _lfdi, subject, status in rows:
        hit = subjects.get(subject)
        if hit is not None and status is not None:
            out[hit[0]][hit[1]].append(int(status))
    return out


def from_run(run_dir: Path) -> ReportData:
    from amiscen.pki.fleet import list_status
    from amiscen.pki.layout import Layout
    from amiscen.play.schedule import headend_config

    info = _run_file(run_dir)
    s = Scenario.model_validate(info["scenario"])
    fleet = meters(s)
    by_id = {m.id: m for m in fleet}
    summary_path = run_dir / SUMMARY_FILE
    start, end, step = float(info["start"]), float(info["end"]), float(info["step"])
    headend_db = run_dir / "headend.db"
    notes: list[str] = []
    summary: dict[str, Any] = {}
    try:
        summary = read_run_json(summary_path, ()) if summary_path.exists() else {}
    except DamagedRunFile as exc:
        notes.append(f"{exc.message}: the figures show what is stored, without the run's own counts")
    if not summary and not notes:
        notes.append(
            "this run has no summary.json yet: it is still going, or it was killed; figures show what is stored so far"
        )

    frame = Frame.empty(start, end, step, dict.fromkeys(m.building_type for m in fleet))
    responses: dict[str, dict[str, list[int]]] = {}
    if headend_db.exists():
        store = Store(headend_db, readonly=True)
        try:
            events = stored_events(store)
            windows = [(e.start, e.end) for e in events if e.kind == "dr"]
            per_meter = _fill(frame, _headend_readings(store), by_id, windows)
            responses = _responses(store, events, headend_config(s).pen)
            stored = int(store.scalar("SELECT count(*) FROM reading") or 0)
        finally:
            store.close()
        source = f"the embedded head-end's database ({headend_db.name}): {stored:,} readings it stored"
    else:
        record = _record_path(run_dir)
        if record is None:
            raise UsageError(
                f"{run_dir}: a run against {info.get('gateway') or 'an external gateway'} keeps no head-end database "
                "and this one has no exchange record",
                hint="run it with --record FILE (inside the run directory: record.jsonl) to report on it",
            )
        events = utility_events(s, fleet)
        windows = [(e.start, e.end) for e in events if e.kind == "dr"]
        per_meter = _fill(frame, _record_readings(record), by_id, windows)
        stored = None
        responses = {}
        source = f"the exchange record ({record.name}): readings the gateway acknowledged with a 2xx"
        notes.append("DR responses are read from the head-end only; against another gateway see its own records")

    dr = _dr_rows(s, fleet, events, frame, responses, end)
    der = _der_rows(events, responses, end)
    by_method, outcomes, latency = read_exchange_log(run_dir / "ieee2030_5.log")
    delivery = Delivery(
        requests=sum(by_method.values()),
        by_method=dict(by_method),
        statuses=dict(sorted(outcomes.items())),
        latency_ms=latency,
        retries=summary.get("retries"),
        failures=dict(summary.get("failures", {})),
        permanent_failures=summary.get("permanent_failures"),
        readings_generated=summary.get("readings_generated"),
        readings_delivered=summary.get("readings_delivered"),
        readings_stored=stored,
    )
    layout = Layout(Path(info["certs_dir"]))
    certs = {
        cs.meter_id: cs.status
        for cs in (
            list_status(layout, [m.id for m in fleet], dt.datetime.now(dt.timezone.utc)) if layout.root.exists() else []
        )
    }
    per_run = summary.get("meters", {})
    rows = [
        MeterRow(
            meter_id=m.id,
            building=m.building,
            connected=(per_run[m.id]["connected_at"] is not None) if m.id in per_run else None,
            readings=per_meter.get(m.id, 0),
            generated=per_run.get(m.id, {}).get("generated"),
            delivered=per_run.get(m.id, {}).get("delivered"),
            last_failure=per_run.get(m.id, {}).get("last_failure", ""),
            certificate=certs.get(m.id, "not found"),
        )
        for m in fleet
    ]
    return ReportData(
        scenario=s,
        kind="run",
        source=source,
        frame=frame,
        fleet=fleet,
        spans=spans(s, events, end),
        dr=dr,
        der=der,
        meters=rows,
        delivery=delivery,
        certificates=Counter(certs.values()),
        checks=list(summary.get("checks", [])),
        run_dir=run_dir,
        notes=notes,
    )


def _record_path(run_dir: Path) -> Path | None:
    for name in ("record.jsonl",):
        if (run_dir / name).exists():
            return run_dir / name
    return None


def _dr_rows(
    s: Scenario,
    fleet: list[MeterSpec],
    events: list[UtilityEvent],
    frame: Frame,
    responses: dict[str, dict[str, list[int]]],
    end: float,
) -> list[DrRow]:
    dr_events = [e for e in events if e.kind == "dr" and e.start < end]
    if not dr_events:
        return []
    site = SiteModel(s, start=frame.start, count=max(1, round((end - frame.start) / frame.reading_s)))
    plan_baseline = PlanBaseline(site, dr_events)
    for meter in fleet:
        plan_baseline.add(meter, site.meter_plan(meter).registers)
    baseline = plan_baseline.net_w()
    rows = []
    for e in dr_events:
        active_until = min(e.until, end)
        cut = [
            baseline[t] - frame.net_fine[t]
            for t in range(int(e.start), int(active_until), int(frame.reading_s))
            if t in baseline and t in frame.net_fine
        ]
        target, target_kw = _target(e, s, plan_baseline.load_kw(e.event_id))
        measured = float(np.mean(cut)) / 1000 if cut else None
        rows.append(DrRow.of(e, target, target_kw, responses, measured_kw=measured))
    return rows


def _control_words(spec: dict[str, Any]) -> tuple[str, str]:
    """A DER control in a few words, for a figure's band, and whole, for the tables."""
    control = spec.get("control", {})
    kind = control.get("type", "?")
    if kind == "curtail":
        share = f"{control['max_w_percent']:g} %"
        return f"max {share}", f"DER output limited to {share} of setMaxW (opModMaxLimW)"
    if kind == "fixed_w":
        return f"fixed {control['percent']:g} %", f"fixed {control['percent']:g} % of rating (opModFixedW)"
    if kind == "target_w":
        return f"target {control['kw']:g} kW", f"target {control['kw']:g} kW (opModTargetW)"
    if kind == "connect":
        word = "connect" if control.get("connected", True) else "disconnect"
        return word, word
    if kind == "envelope":
        limits = {"export_kw": "export", "import_kw": "import", "generation_kw": "generation", "load_kw": "load"}
        shown = [f"{name} {control[key]:g} kW" for key, name in limits.items() if control.get(key) is not None]
        return "envelope", "envelope: " + ", ".join(shown)
    if kind == "fixed_pf":
        way = "absorbing" if control.get("absorbing", True) else "injecting"
        pf = f"{control['power_factor']:g}"
        return f"PF {pf}", f"power factor {pf} {way} (opModFixedPF)"
    if kind == "fixed_var":
        share = f"{control['percent']:g} %"
        return f"var {share}", f"reactive power {share} of setMaxVar (opModFixedVar)"
    if kind == "curve":
        mode = control["mode"].replace("_", "-")
        return mode, f"{mode} curve, {len(control['points'])} points"
    return str(kind), str(kind)


def _der_rows(events: list[UtilityEvent], responses: dict[str, dict[str, list[int]]], end: float) -> list[DrRow]:
    return [
        DrRow.of(e, _control_words(e.spec)[1], responses=responses) for e in events if e.kind == "der" and e.start < end
    ]


# --- plans -------------------------------------------------------------------------------------------------------


def from_plan(scenario: Scenario) -> ReportData:
    from amiscen.play.plan import plan

    fleet = meters(scenario)
    site = SiteModel(scenario)
    step = site.grid.step
    start = float(site.grid.starts[0])
    end = start + len(site.grid.starts) * step
    frame = Frame.empty(start, end, step, dict.fromkeys(m.building_type for m in fleet))
    times = site.grid.starts.astype(float)
    events = utility_events(scenario, fleet)
    plan_baseline = PlanBaseline(site, events)
    hours = step / 3600

    def visit(meter_plan: MeterPlan) -> None:
        meter, r = meter_plan.meter, meter_plan.registers
        frame.add(meter.building_type, "net", times, np.asarray(r.net_w) * hours)
        frame.add(meter.building_type, "pv", times, np.asarray(r.pv_w) * hours)
        frame.add(meter.building_type, "battery", times, np.asarray(r.battery_w) * hours)
        frame.add(meter.building_type, "import", times, np.asarray(r.import_wh))
        frame.add(meter.building_type, "feed_in", times, np.asarray(r.export_wh))
        if meter.battery is not None:
            frame.add_soc(meter.id, times, np.asarray(r.soc) * 100)
        plan_baseline.add(meter, r)

    expected = plan(scenario, site=site, visit=visit).dr_expected_kw
    dr = [
        DrRow.of(e, *_target(e, scenario, plan_baseline.load_kw(e.event_id)), expected_kw=expected.get(e.event_id))
        for e in events
        if e.kind == "dr"
    ]
    rows = [MeterRow(m.id, m.building, None, 0, None, None, "", "-") for m in fleet]
    return ReportData(
        scenario=scenario,
        kind="plan",
        source="the compiled plan (a prediction: nothing was sent or measured)",
        frame=frame,
        fleet=fleet,
        spans=spans(scenario, events, end),
        dr=dr,
        der=_der_rows(events, {}, end),
        meters=rows,
        delivery=None,
        certificates=Counter(),
        checks=[],
    )

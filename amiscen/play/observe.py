"""Handlers of run events: metrics for the summary and expectations, the run directory's log files, the
exchange record, and the live progress line. The runner emits; these listen (from the meters' threads)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from amiscen.runner.events import (
    Connected,
    Delivered,
    Exchanged,
    Failed,
    Generated,
    Note,
    Notified,
    Progress,
    Responded,
    RunEvent,
    Subscribed,
)
from amiscen.runner.transport import FIXES, Exchange

Handler = Callable[[RunEvent], None]


class Dispatcher:
    """Calls every handler for every event, one event at a time."""

    def __init__(self, handlers: list[Handler]) -> None:
        self._handlers = handlers
        self._lock = threading.Lock()

    def __call__(self, event: RunEvent) -> None:
        with self._lock:
            for handler in self._handlers:
                handler(event)

    def record(self, meter: str, at: float, exchange: Exchange) -> None:
        self(Exchanged(meter, at, exchange))


@dataclass
class MeterStats:
    connected_at: float | None = None
    last_contact: float | None = None
    last_failure: str = ""
    generated: int = 0
    delivered: int = 0


@dataclass
class Metrics:
    """Everything the summary and the expectations need, counted from events as they come.

    Nothing grows with the length of the run but the per-interval reductions inside DR event ``windows``
    (given up front): energies are running sums, a battery's level is its latest.
    """

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    permanent_failures: int = 0
    retries: int = 0
    meters: dict[str, MeterStats] = field(default_factory=lambda: defaultdict(MeterStats))
    responses: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    windows: list[tuple[float, float]] = field(default_factory=list)
    reduction_w: dict[int, float] = field(default_factory=dict)  # interval start -> campus baseline - actual, W
    energy_wh: Counter[str] = field(default_factory=Counter)  # load, pv, import, export over the run
    stored_wh: dict[str, float] = field(default_factory=dict)  # meter -> battery energy at its latest interval
    sim_time: float = 0.0
    notes: list[str] = field(default_factory=list)
    subscriptions: int = 0  # Subscriptions the meters made (or found from an earlier run)
    notifications: int = 0  # Notifications the meters took

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, Exchanged):
            x = event.exchange
            self.requests += 1
            if x.status is not None:
                self.statuses[x.status] += 1
            self.meters[event.meter].last_contact = event.sim_time or self.sim_time
        elif isinstance(event, Generated):
            self.meters[event.meter].generated += len(event.intervals) * event.quantities
            self._count(event.meter, event.intervals)
        elif isinstance(event, Delivered):
            self.meters[event.meter].delivered += event.readings
        elif isinstance(event, Failed):
            self.failures[event.failure] += 1
            self.meters[event.meter].last_failure = f"{event.failure}: {event.detail}"
            if event.will_retry:
                self.retries += 1
            else:
                self.permanent_failures += 1
        elif isinstance(event, Connected):
            self.meters[event.meter].connected_at = event.sim_time
        elif isinstance(event, Responded):
            self.responses[event.event_id][event.meter].append(event.status)
        elif isinstance(event, Progress):
            self.sim_time = event.sim_time
        elif isinstance(event, Note) and event.level != "info":
            self.notes.append(event.message)
        elif isinstance(event, Subscribed):
            self.subscriptions += 1
        elif isinstance(event, Notified):
            self.notifications += 1

    def _count(self, meter: str, intervals: tuple[Any, ...]) -> None:
        for x in intervals:
            self.energy_wh["load"] += x.load_w * x.duration / 3600
            planned = x.load_w if x.planned_load_w is None else x.planned_load_w
            self.energy_wh["planned_load"] += planned * x.duration / 3600
            self.energy_wh["pv"] += x.pv_w * x.duration / 3600
            self.energy_wh["import"] += x.import_wh
            self.energy_wh["export"] += x.export_wh
            if x.stored_wh is not None:
                self.stored_wh[meter] = x.stored_wh
            if any(a <= x.start < b for a, b in self.windows):
                self.reduction_w[x.start] = self.reduction_w.get(x.start, 0.0) + (x.baseline_net_w - x.net_w)

    @property
    def generated(self) -> int:
        return sum(m.generated for m in self.meters.values())

    @property
    def delivered(self) -> int:
        return sum(m.delivered for m in self.meters.values())

    def count_4xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if 400 <= status < 500)


class RunLogs:
    """The run directory's logs, as in the original deployment: ami_simulator.log (what happened),
    ieee2030_5.log (every exchange; bodies with --debug-bodies), meter_readings.log (the data)."""

    def __init__(self, run_dir: Path, bodies: bool = False, record: Path | None = None) -> None:
        # line-buffered: people follow these with tail -f while a run goes on
        self.sim = (run_dir / "ami_simulator.log").open("a", encoding="utf-8", buffering=1)
        self.wire = (run_dir / "ieee2030_5.log").open("a", encoding="utf-8", buffering=1)
        self.data = (run_dir / "meter_readings.log").open("a", encoding="utf-8")
        self.record: IO[str] | None = record.open("a", encoding="utf-8") if record else None
        self.bodies = bodies
        self.sim_time = 0.0

    def _t(self, at: float | None = None) -> str:
        """An event's own simulated time (one that carries none takes the current batch's)."""
        when = at if at else self.sim_time
        return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, Progress):
            self.sim_time = event.sim_time
        elif isinstance(event, Exchanged):
            x = event.exchange
            self.wire.write(
                f"{self._t(event.sim_time)} {event.meter} {x.method} {x.url} {x.status or x.failure} "
                f"{x.elapsed * 1000:.1f}ms\n"
            )
            if self.bodies or (x.status is not None and x.status >= 400):
                if x.request_body:
                    self.wire.write("  > " + x.request_body.decode(errors="replace").replace("\n", "\n  > ") + "\n")
                if x.response_body:
                    self.wire.write("  < " + x.response_body.decode(errors="replace").replace("\n", "\n  < ") + "\n")
            if self.record is not None:
                self.record.write(
                    json.dumps(
                        {
                            "time": event.sim_time or self.sim_time,
                            "meter": event.meter,
                            "method": x.method,
                            "url": x.url,
                            "status": x.status,
                            "failure": x.failure,
                            "elapsed_ms": round(x.elapsed * 1000, 2),
                            "request": x.request_body.decode(errors="replace"),
                            "response": x.response_body.decode(errors="replace"),
                        }
                    )
                    + "\n"
                )
        elif isinstance(event, Generated):
            for i in event.intervals:
                self.data.write(
                    f"{i.start},{event.meter},{i.load_w:.0f},{i.pv_w:.0f},{i.battery_w:.0f},"
                    f"{i.import_wh:.2f},{i.export_wh:.2f},{i.import_total_wh:.1f},{i.export_total_wh:.1f},"
                    f"{i.voltage_v:.1f}\n"
                )
        elif isinstance(event, Connected):
            self.sim.write(f"{self._t(event.sim_time)} INFO {event.meter} connected; mirror at {event.mirror}\n")
        elif isinstance(event, Failed):
            level = "WARNING" if event.will_retry else "ERROR"
            self.sim.write(
                f"{self._t(event.sim_time)} {level} {event.meter} {event.what}: {event.failure}: {event.detail}\n"
            )
        elif isinstance(event, Responded):
            self.sim.write(
                f"{self._t(event.sim_time)} INFO {event.meter} response {event.status} to {event.kind} "
                f"event {event.event_id}\n"
            )
        elif isinstance(event, Note):
            self.sim.write(f"{self._t(event.sim_time)} {event.level.upper()} {event.meter or '-'} {event.message}\n")
        elif isinstance(event, Subscribed):
            self.sim.write(
                f"{self._t(event.sim_time)} INFO {event.meter} subscribed to {event.resource} ({event.subscription})\n"
            )
        elif isinstance(event, Notified):
            what = f"changed ({event.controls} controls)" if event.status == 0 else f"ended (status {event.status})"
            self.sim.write(f"{self._t(event.sim_time)} INFO {event.meter} notified: {event.resource} {what}\n")

    def close(self) -> None:
        for handle in (self.sim, self.wire, self.data, self.record):
            if handle is not None:
                handle.close()


class Notices:
    """Run-wide warnings (what the run says of itself, not of a meter) on a stream as they come: the user reads
    them when the run starts, not only in the log afterwards."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._classes: set[str] = set()

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, Note) and event.meter is None and event.level != "info":
            print(f"note: {event.message}", file=self.stream, flush=True)
        elif isinstance(event, Failed) and event.failure not in self._classes:
            # the first failure of each class as it happens, with the fix to try (not only in the final summary)
            self._classes.add(event.failure)
            fix = FIXES.get(event.failure)
            detail = event.detail if len(event.detail) <= 160 else event.detail[:157] + "..."
            print(f"first {event.failure} failure ({event.meter}, {event.what}): {detail}", file=self.stream)
            if fix:
                print(f"  hint: {fix}", file=self.stream)
            self.stream.flush()


class ProgressLine:
    """Progress as the run goes. On a terminal, one live line (redrawn, never wider than the terminal): a bar, share of
    the simulated window done, simulated time, wall time and what is left of it, meters connected, readings sent
    and queued, requests, retries. Elsewhere (CI logs, pipes) the same as plain lines, one every ``plain_every``
    seconds of wall time, so a long run is never silent."""

    def __init__(
        self,
        metrics: Metrics,
        total_meters: int,
        stream: IO[str],
        every: float = 0.5,
        tz: dt.tzinfo = dt.timezone.utc,
        window: tuple[float, float] | None = None,
        live: bool | None = None,
        plain_every: float = 30.0,
    ) -> None:
        self.metrics = metrics
        self.total = total_meters
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.every = every if self.live else plain_every
        self.tz = tz
        self.window = window  # (start, end) simulated
        self._last = 0.0
        self._began = time.monotonic()
        self._width = 0

    def __call__(self, event: RunEvent) -> None:
        if not isinstance(event, Progress) or time.monotonic() - self._last < self.every:
            return
        self._last = time.monotonic()
        text = self.line(event.sim_time)
        if self.live:
            width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
            text = text[:width]
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def line(self, sim_time: float) -> str:
        m = self.metrics
        connected = sum(1 for s in m.meters.values() if s.connected_at is not None)
        queued = m.generated - m.delivered
        when = dt.datetime.fromtimestamp(sim_time, self.tz).strftime("%Y-%m-%d %H:%M")
        elapsed = time.monotonic() - self._began
        head = when
        if self.window is not None:
            start, end = self.window
            done = min(1.0, max(0.0, (sim_time - start) / max(end - start, 1e-9)))
            left = f", {_clock(elapsed * (1 - done) / done)} left" if done > 0.01 else ""
            head = f"{done:4.0%} {when} ({_clock(elapsed)}{left})"
            if self.live:  # a bar where it is redrawn; plain lines stay plain
                head = f"{_bar(done)} {head}"
        return (
            f"{head} | {connected}/{self.total} meters | {m.delivered:,} readings sent, {queued:,} queued | "
            f"{m.requests:,} requests | {m.retries} retries"
        )

    def finish(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def _bar(done: float, width: int = 16) -> str:
    """[######..........]: the share done, whole cells rounded down, in ASCII so that any terminal shows it."""
    filled = int(done * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"

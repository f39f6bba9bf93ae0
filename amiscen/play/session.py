"""play(scenario, options): everything `amiscen run` does, as one core function with explicit arguments."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from amiscen.clock import Pace, SimClock
from amiscen.errors import UsageError, writing
from amiscen.gateway.app import Headend, Quirks
from amiscen.gateway.faults import FaultPlan
from amiscen.gateway.store import Store
from amiscen.pki.layout import Layout
from amiscen.play.build import FleetSetup, build_meters
from amiscen.play.embedded import ensure_certificates, headend_settings, new_headend
from amiscen.play.expect import Check, check, interrupted_check, measured_reduction_kw, write_junit
from amiscen.play.headend_process import HeadendProcess, HeadendSpec
from amiscen.play.observe import Dispatcher, Metrics, Notices, ProgressLine, RunLogs
from amiscen.play.runfiles import RUN_FILE, SUMMARY_FILE
from amiscen.play.schedule import fault_windows, played_site, utility_events
from amiscen.play.shard import Shard
from amiscen.play.summary import summary_text
from amiscen.runner.baseline import BaselineFile
from amiscen.runner.events import Note
from amiscen.runner.fleet import Fleet
from amiscen.runner.meter import Meter
from amiscen.runner.notifications import NotificationListener, listener_context
from amiscen.runner.outbox import Outbox, shard_files, shards_for
from amiscen.runner.transport import FIXES
from amiscen.scenario import Loaded
from amiscen.scenario.model import Scenario, meters
from amiscen.sep.model.common import Resource
from amiscen.sep.model.pubsub import Notification
from amiscen.sep.xsd import SchemaValidator


@dataclass(frozen=True)
class RunOptions:
    pace: Pace
    run_dir: Path | None = None
    certs_dir: Path = Path("certs")
    duration: dt.timedelta | None = None
    record: Path | None = None
    junit: Path | None = None
    xsd: Path | None = None
    progress: IO[str] | None = None
    notices: IO[str] | None = None  # where run-wide warnings are told as they come (the CLI: stderr)
    workers: int = 16
    wire_bodies: bool = False
    dry_run: bool = False
    resume: bool = False
    shard: Shard | None = None
    quirks: Quirks = field(default_factory=Quirks)  # how the embedded head-end differs from amiscen's own ways


@dataclass
class RunOutcome:
    run_dir: Path
    checks: list[Check]
    summary: str
    interrupted: bool
    metrics: Metrics
    wall_seconds: float
    sim_seconds: float
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(c.ok for c in self.checks)


def _check_output(path: Path | None, what: str, run_dir: Path | None) -> None:
    """A file the run will write can be: its directory exists, and it (or the directory) is writable. One inside
    the run directory is the run directory's to check (it is made, or refused, next)."""
    if path is None or (run_dir is not None and path.parent.resolve() == run_dir.resolve()):
        return
    place = path if path.exists() else path.parent
    if not place.is_dir() and place == path.parent:
        raise UsageError(f"{path}: cannot write {what} here ({path.parent} is not a directory)")
    if not os.access(place, os.W_OK):
        raise UsageError(f"{path}: cannot write {what} here (permission denied, or a read-only file system)")


def _run_dir(options: RunOptions, scenario_name: str) -> Path:
    """The run's directory: --run-dir, or runs/<scenario name>-<local time> made anew."""
    if options.resume:
        if options.run_dir is None or not (options.run_dir / "outbox.db").exists():
            raise UsageError("--resume continues a run: give its --run-dir (a directory with an outbox.db)")
        _check_outbox(options.run_dir / "outbox.db")
        return options.run_dir
    if options.run_dir is not None and (options.run_dir / "outbox.db").exists():
        raise UsageError(
            f"{options.run_dir} holds a run already", hint="continue it with --resume, or choose another --run-dir"
        )
    if options.run_dir is not None:
        with writing(options.run_dir, "the run directory"):
            options.run_dir.mkdir(parents=True, exist_ok=True)
        return options.run_dir
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    part = f"-shard{options.shard.index}of{options.shard.count}" if options.shard else ""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", scenario_name).strip("._")[:64] or "run"
    base = Path("runs") / f"{name}-{stamp}{part}"
    for n in itertools.count(1):  # made atomically: two runs started in the same second get a directory each
        path = base if n == 1 else base.with_name(f"{base.name}-{n}")
        with writing(path, "the run directory", hint="choose another place with --run-dir"):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.mkdir()
            except FileExistsError:
                continue
        return path
    raise AssertionError("unreachable")


def _hold(run_dir: Path) -> IO[str] | None:
    """This process's claim on a run directory, held while it plays: a second run (or a --resume of a run still
    going) in the same directory is refused instead of sharing its outbox, database and logs."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks
        return None
    handle = (run_dir / "run.lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise UsageError(
            f"{run_dir} is in use by another amiscen run (pid {holder})",
            hint="wait for it to end (or stop it) before --resume, or choose another --run-dir",
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _check_outbox(path: Path) -> None:
    """A run to resume must have a whole outbox, every shard of it: an empty or damaged one would replay the run
    from the start or fail after it, losing what it held without a word."""
    _check_shard(path)
    for shard in shard_files(path)[1:]:
        _check_shard(shard)


def _check_shard(path: Path) -> None:
    problem = None
    if not path.exists():
        problem = "is missing"
    elif path.stat().st_size == 0:
        problem = "is empty (0 bytes)"
    else:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if verdict != "ok":
                problem = f"is damaged ({verdict})"
            elif not {"outbox", "state", "meta"} <= tables:
                problem = "is not an amiscen outbox (its tables are missing)"
        except sqlite3.DatabaseError as exc:
            problem = f"is damaged ({exc})"
    if problem is not None:
        raise UsageError(
            f"{path} {problem}: nothing to resume from",
            hint="start the run again with a new --run-dir (the head-end keeps what was delivered)",
        )


FAST_WINDOW_S = 900.0  # fast pace: the simulated span whose tasks run at once (runner/fleet.py)


def _write_run_file(run_dir: Path, s: Scenario, options: RunOptions, start: float, end: float, step: float) -> None:
    """What a report or status needs to read this run later: the scenario as resolved (overrides applied), the
    certificates and the target."""
    (run_dir / RUN_FILE).write_text(
        json.dumps(
            {
                "scenario": s.model_dump(mode="json"),
                "certs_dir": str(options.certs_dir.resolve()),
                "gateway": None if options.dry_run else s.gateway.url,
                "start": start,
                "end": end,
                "step": step,
                "dry_run": options.dry_run,
            },
            indent=1,
        ),
        encoding="utf-8",
    )


def play(loaded: Loaded, options: RunOptions) -> RunOutcome:
    s = loaded.scenario
    whole_fleet = meters(s)
    fleet_specs = options.shard.select(whole_fleet) if options.shard else whole_fleet
    if not fleet_specs:
        raise UsageError(f"--shard {options.shard}: this slice of {len(whole_fleet)} meters is empty")
    # what can be refused is refused before the run directory is made (none is left behind, empty) and before
    # anything is sent: the certificates, and the files written as the run goes or at its end
    layout = Layout(options.certs_dir)
    index = ensure_certificates(s, layout, [m.id for m in fleet_specs])
    for path, what in ((options.record, "the record"), (options.junit, "the JUnit report")):
        _check_output(path, what, options.run_dir)
    run_dir = _run_dir(options, s.name)
    claim = _hold(run_dir)
    site, start, end = played_site(s, options.duration)
    step = site.grid.step
    outbox = Outbox(run_dir / "outbox.db", shards_for(len(fleet_specs)))
    hourly = s.site.weather.hourly()  # a weather file's content counts, not only its name
    fingerprint = hashlib.sha256((s.model_dump_json() + (hourly.digest if hourly else "")).encode()).hexdigest()
    if options.resume and outbox.meta("scenario") not in (None, fingerprint):
        outbox.close()
        raise UsageError(f"{run_dir} is a run of another scenario (or of this one changed since): cannot resume it")
    outbox.set_meta("scenario", fingerprint)
    _write_run_file(run_dir, s, options, start, end, step)
    saved = {m.id: outbox.state(m.id) for m in fleet_specs} if options.resume else {}
    resume_at = min((state[0] for state in saved.values() if state), default=start)
    clock = SimClock(resume_at, options.pace)
    events = utility_events(s, whole_fleet)  # a shard's meters get what they would get in the whole run
    windows = fault_windows(s)

    subscribe = subscribed_kinds(s)
    notes: list[str] = []
    remote: HeadendProcess | None = None  # the embedded head-end on a core of its own
    headend: Headend | None = None  # the embedded head-end in this process (--dry-run)
    if options.dry_run and s.gateway.url is not None:
        notes_dry = [f"--dry-run: {s.gateway.url} is not contacted; the embedded head-end answers in-process"]
    else:
        notes_dry = []
    if options.dry_run:
        headend = new_headend(
            s,
            run_dir / "headend.db",
            clock,
            events,
            simulated=options.pace.factor != 1,
            validator=SchemaValidator(options.xsd) if options.xsd else None,
            faults=FaultPlan(windows, seed=s.time.seed),
            quirks=options.quirks,
        )
        base_url = "local:"
    elif s.gateway.url is None:
        spec = HeadendSpec(
            db=run_dir / "headend.db",
            config=headend_settings(s, simulated=options.pace.factor != 1, quirks=options.quirks),
            events=events,
            layout=layout,
            tls_version=s.gateway.tls.version,
            ciphers=list(s.gateway.tls.ciphers),
            pace=options.pace,
            xsd=options.xsd,
            fault_windows=windows,
            fault_seed=s.time.seed,
            notifications=bool(subscribe),
            slots={m.id: i for i, m in enumerate(fleet_specs)},
        )
        remote = HeadendProcess(spec, clock).start()
        base_url = remote.url
    else:
        base_url = s.gateway.url
        apart = abs(s.time.start.timestamp() - time.time())
        if options.pace.factor == 1 and apart > 3600 and not options.resume:
            notes.append(
                f"time.start {s.time.start.isoformat()} is {apart / 86400:,.1f} days from now: the readings carry "
                f"timestamps that far from {base_url}'s clock, and its controls fall outside the simulated window; "
                "give time.start: now"
            )
        if options.pace.factor != 1:
            notes.append(
                f"pace {options.pace} against {base_url}: readings carry simulated timestamps from "
                f"{s.time.start.isoformat()} on, not the server's clock, and controls the server schedules on its "
                "own clock are seen only where they fall inside the simulated window; --pace realtime plays on the "
                "server's clock"
            )
        if windows:
            notes.append(
                "gateway faults (outage, http_errors, latency) are played by the embedded head-end only; "
                f"against {base_url} they are skipped"
            )

    metrics = Metrics(windows=[(e.start, e.end) for e in events if e.kind == "dr"])
    record = options.record or (run_dir / "record.jsonl" if options.dry_run else None)
    logs = RunLogs(run_dir, bodies=options.wire_bodies, record=record)
    progress = (
        ProgressLine(metrics, len(fleet_specs), options.progress, tz=ZoneInfo(s.site.timezone), window=(resume_at, end))
        if options.progress
        else None
    )
    dispatcher = Dispatcher(
        [metrics, logs, *([progress] if progress else []), *([Notices(options.notices)] if options.notices else [])]
    )
    if subscribe and options.dry_run:
        notes_dry.append("--dry-run: no Notifications without a network; the event lists are polled")
        subscribe = frozenset()
    baselines = BaselineFile(run_dir)
    setup = FleetSetup(
        base_url,
        layout,
        index,
        outbox,
        dispatcher,
        dispatcher.record,
        headend if options.dry_run else None,
        baselines,
    )
    fleet_meters = build_meters(s, site, fleet_specs, setup, subscribe)
    for meter in fleet_meters:
        state = saved.get(meter.id)
        if state is not None:
            meter.resumed_at = state[0]
            meter.restore(state[1])
    if options.shard is not None:
        notes.append(
            f"shard {options.shard}: {len(fleet_specs)} of {len(whole_fleet)} meters; campus-wide expectations "
            "(min_dr_reduction_kw) are left to the whole run"
        )
    for note in notes + notes_dry:
        dispatcher(Note(None, start, note, "warning"))
    for meter in fleet_meters:  # a run cut short never claims an event that begins after its window
        meter.participation.played_until = end
    fleet = Fleet(fleet_meters, clock, dispatcher, options.workers)
    if remote is not None and options.pace.factor is None and not windows:
        # fast pace against the embedded head-end: meters run a window at a time, each answered at its own time
        # (the head-end draws no injected faults, whose order across meters would then vary)
        slot = [remote.spec.slots[m.id] for m in fleet_meters]
        mirror = remote.mirror
        fleet.window = FAST_WINDOW_S
        fleet.meter_time = lambda index, t: mirror.set_meter(slot[index], t)
    listener = None
    if subscribe:
        listener = _listen(s, layout, fleet, fleet_meters, clock)
        # the embedded head-end notifies: realtime and Nx on a thread of its own (started with it); fast pace at
        # each moment an event changes, in step with the fleet
        if remote is not None and options.pace.factor is None:
            changes = sorted({t for e in events for t in e.changes() if t >= resume_at})
            fleet.on_moment = remote.at_changes(changes)
            fleet.moments = [float(t) for t in changes]
    if remote is not None:
        fleet.halt = remote.ended  # the head-end's process gone: the run stops now, not after its retries
    give_up = s.gateway.timeouts.give_up
    if give_up is not None:
        fleet.give_up = _no_meter_connected(metrics, give_up.total_seconds(), base_url)
    started = time.perf_counter()
    clock.anchor(resume_at)  # building the meters took a while; the first ones are not late for it
    try:
        result = fleet.run(resume_at, end)
        if listener is not None:
            _unsubscribe(fleet_meters, options.workers)
    finally:
        if progress:
            progress.finish()
        try:
            stopped = None  # a process already gone (the run stopped for it) is not asked
            if remote is not None and remote.ended() is None:
                stopped = remote.stop()  # its notifications first, then its server
        finally:
            if listener is not None:
                listener.stop()
            for m in fleet_meters:
                m.client.session.close()
            logs.close()
    wall = time.perf_counter() - started

    # an interrupted run reached only so far: its figures and expectations are of that part
    cut_short = result.interrupted or fleet.gave_up is not None
    reached = max(start, min(end, metrics.sim_time)) if cut_short else end
    store = None  # the embedded head-end's, in this process or (stopped) its own
    if headend is not None:
        store = headend.store
    elif remote is not None:
        store = Store(run_dir / "headend.db")
    stored = int(store.scalar("SELECT count(*) FROM reading") or 0) if store is not None else None
    pending = outbox.pending()[1]
    mine = {m.id for m in fleet_specs}
    targets = {e.event_id: [t for t in e.targets or mine if t in mine] for e in events}
    schema_invalid = None  # counted where amiscen's head-end validated what it was sent
    if options.xsd is not None and headend is not None:
        schema_invalid = headend.schema_invalid
    elif options.xsd is not None and stopped is not None:
        schema_invalid = stopped.schema_invalid
    checks = check(
        s,
        metrics,
        targets,
        stored,
        pending,
        schema_invalid,
        played_until=reached,
        outbox_totals=outbox.totals(),
        whole_campus=options.shard is None,
    )
    if result.interrupted:  # judged on what was played, and said so
        checks = [interrupted_check(c, reached) for c in checks]
    if fleet.gave_up is not None:
        checks.insert(0, Check("meters_connected", False, fleet.gave_up))
    text = summary_text(s, metrics, checks, fleet_specs, wall, reached - start, result.interrupted, result.lateness)
    (run_dir / "summary.txt").write_text(text, encoding="utf-8")
    (run_dir / SUMMARY_FILE).write_text(
        json.dumps(
            {
                "scenario": s.name,
                "network": s.network.id,
                "start": start,
                "end": end,
                "wall_seconds": wall,
                "requests": metrics.requests,
                "subscriptions": metrics.subscriptions,
                "notifications": metrics.notifications,
                "readings_generated": metrics.generated,
                "readings_delivered": metrics.delivered,
                "readings_stored": stored,
                "interrupted": result.interrupted,
                "retries": metrics.retries,
                "permanent_failures": metrics.permanent_failures,
                "failures": dict(metrics.failures),
                "statuses": {str(k): v for k, v in sorted(metrics.statuses.items())},
                "reduction_kw": {
                    e.event_id: measured_reduction_kw(metrics, e.start, e.until) for e in events if e.kind == "dr"
                },
                "meters": {
                    mid: {
                        "connected_at": m.connected_at,
                        "generated": m.generated,
                        "delivered": m.delivered,
                        "last_failure": m.last_failure,
                    }
                    for mid, m in sorted(metrics.meters.items())
                },
                "lateness": {kind: part.to_json() for kind, part in sorted(result.lateness.items())},
                "checks": [{"name": c.name, "ok": c.ok, "judged": c.judged, "detail": c.detail} for c in checks],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    if options.junit is not None:
        write_junit(options.junit, f"amiscen.{s.name}", checks, wall)
    outbox.close()
    baselines.close()
    if store is not None:
        store.close(compact=True)  # the run's own head-end, stopped: its pages compacted
    if claim is not None:
        claim.close()
    return RunOutcome(
        run_dir,
        checks,
        text,
        result.interrupted,
        metrics,
        wall,
        reached - start,
        extra={"lateness": result.lateness, "headend_cpu_seconds": stopped.cpu_seconds if stopped else None},
    )


def _no_meter_connected(metrics: Metrics, seconds: float, url: str) -> Callable[[float], str | None]:
    """The reason to stop a run in which no meter has connected ``seconds`` after the first failure, or None.
    Asked at every moment of the run: once a meter has connected, it answers None at once from then on."""
    failing_since: list[float] = []  # when the first failure was seen (a meter that has not tried yet is no sign)
    settled = [False]  # a meter has connected: nothing to watch any more

    def reason(t: float) -> str | None:
        if settled[0] or not metrics.failures:
            return None
        if any(m.connected_at is not None for m in metrics.meters.values()):
            settled[0] = True
            return None
        if not failing_since:
            failing_since.append(t)
        if t - failing_since[0] < seconds:
            return None
        failures = ", ".join(f"{kind} x{n}" for kind, n in metrics.failures.most_common(3))
        fix = FIXES.get(metrics.failures.most_common(1)[0][0], "")
        return (
            f"no meter could connect to {url} in {seconds / 60:g} min ({failures}); the run stopped "
            f"(gateway.timeouts.give_up){': ' + fix if fix else ''}"
        )

    return reason


def subscribed_kinds(s: Scenario) -> frozenset[str]:
    """The event kinds (dr, der) the scenario's meters learn of by Subscription rather than polling."""
    fs = s.function_sets
    return frozenset(k for k, f in (("dr", fs.demand_response), ("der", fs.der)) if f.updates == "subscribe")


def _listen(
    s: Scenario, layout: Layout, fleet: Fleet, fleet_meters: list[Meter], clock: SimClock
) -> NotificationListener:
    """The run's notification listener, started, each meter told its notificationURI."""
    n = s.gateway.notifications
    first = fleet_meters[0].id
    context = (
        listener_context(
            layout.meter_cert(first),
            layout.meter_key(first),
            layout.ca_cert if s.gateway.tls.verify_server else None,
            tuple(s.gateway.tls.ciphers),
        )
        if n.tls
        else None
    )
    by_id = {m.id: i for i, m in enumerate(fleet_meters)}

    def deliver(meter_id: str, notification: Notification, resource: Resource | None) -> int:
        index = by_id.get(meter_id)
        if index is None:
            return 404
        meter = fleet_meters[index]
        if meter.is_offline(clock.now()):
            return 503
        meter.receive(notification, resource)
        fleet.notify(index)
        return 201

    try:
        listener = NotificationListener(deliver, context, n.host, n.port, n.url)
    except OSError as exc:
        raise UsageError(f"cannot listen for Notifications on {n.host}:{n.port} ({exc.strerror or exc})") from None
    for m in fleet_meters:
        m.notification_uri = listener.url_for(m.id)
    return listener.start()


def _unsubscribe(fleet_meters: list[Meter], workers: int) -> None:
    """Every meter deletes its Subscriptions: once the run ends, nobody listens at their notificationURIs."""
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="unsubscribe") as pool:
        list(pool.map(lambda m: m.unsubscribe(), [m for m in fleet_meters if m.subscriptions]))


def default_progress() -> IO[str] | None:
    """Where progress goes: stderr, live on a terminal, as plain lines every 30 s elsewhere (CI, pipes)."""
    return sys.stderr

"""`amiscen serve`: the embedded 2030.5 head-end as a standalone server; `amiscen event`: its utility side."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import signal
import threading
import time
from pathlib import Path
from types import FrameType

import click

from amiscen.cli.options import ScenarioSource, certs_option, emulate_option
from amiscen.clock import Pace, SimClock
from amiscen.errors import UsageError, writing
from amiscen.gateway.app import EMULATIONS, Headend, HeadendConfig
from amiscen.gateway.notify import Notifier
from amiscen.gateway.operator import Operator, store_default_control
from amiscen.gateway.operator_api import OperatorServer
from amiscen.gateway.server import HeadendServer
from amiscen.gateway.status import status_text
from amiscen.gateway.store import Store
from amiscen.gateway.tls import notification_context, server_context
from amiscen.gateway.utility import UtilityEvent, cancel, ensure_program, events, publish
from amiscen.pki import fleet as pki
from amiscen.pki.layout import Layout
from amiscen.play.schedule import headend_config, utility_events
from amiscen.scenario.durations import parse_duration, parse_time_ref
from amiscen.scenario.model import meters
from amiscen.sep.xsd import SchemaValidator, schema_path

DEFAULT_PROGRAM = "site DER controls"
DB_OPTION = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("runs/headend.db"),
    show_default=True,
    help="The head-end's SQLite database (kept across restarts; runs/ beside the runs, not the working directory).",
)


def catch_up(clock: SimClock, start: float, loaded: float, now: float) -> None:
    """The scenario's clock started when the scenario was read (``loaded``, monotonic seconds), not when the
    head-end is ready (``now``): at pace N, the start-up took (now - loaded) * N simulated seconds."""
    if clock.pace.factor is not None:
        clock.anchor(start + (now - loaded) * clock.pace.factor)


@click.command("serve", short_help="Serve the 2030.5 head-end (mutual TLS).")
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True, help="Port (0: any free).")
@DB_OPTION
@certs_option("PKI directory (CA, head-end certificate, CRL).")
@click.option("--tls-version", type=click.Choice(["1.2", "1.3"]), default=None, help="Highest TLS version.")
@click.option("--xsd", type=click.Path(path_type=Path, dir_okay=False), help="Validate bodies against sep.xsd.")
@click.option("--pace", default="realtime", show_default=True, help="Clock pace (simulated time from the scenario).")
@click.option("--status", "show_status", is_flag=True, help="Print what the database holds and exit.")
@click.option(
    "--operator-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Also serve the operator API (JSON over HTTP, no authentication) on 127.0.0.1 at this port (0: any free).",
)
@click.option(
    "--profile",
    type=click.Choice(["sep2018", "csip", "csip-aus"]),
    default=None,
    help="The 2030.5 profile served (default: the scenario's gateway.profile, else sep2018). csip-aus adds "
    "ConnectionPoint and the csipaus: elements (DOE limits, doeModes).",
)
@emulate_option
def command(
    scenario: Path | None,
    host: str,
    port: int,
    db: Path,
    certs_dir: Path,
    tls_version: str | None,
    xsd: Path | None,
    pace: str,
    show_status: bool,
    emulate: str,
    operator_port: int | None,
    profile: str | None,
) -> None:
    """Serve the 2030.5 head-end on HOST:PORT with mutual TLS. With SCENARIO: its CA, events and clock.

    With --operator-port, the utility's operator API runs beside it on loopback: register devices, publish
    DERControls and DefaultDERControls, change poll and post rates (amiscen/gateway/operator_api.py)."""
    if show_status:
        if not db.exists():
            raise UsageError(f"{db}: no such head-end database")
        click.echo(status_text(Store(db)), nl=False)
        return
    layout = Layout(certs_dir)
    if scenario is not None:
        s = ScenarioSource(scenario, {"--tls-version": tls_version}).load().scenario
        loaded = time.monotonic()  # `time.start: now` was read now: the clock counts from here, not from when
        # the certificates and the events are ready (which took 18 s on a loaded machine: clients saw drift)
        fleet = meters(s)
        pki.generate(
            layout,
            [m.id for m in fleet],
            network_id=s.network.id,
            hosts=[host] if host else [],
            now=dt.datetime.now(dt.timezone.utc),
        )
        start = s.time.start.timestamp()
        version, ciphers = tls_version or s.gateway.tls.version, list(s.gateway.tls.ciphers)
        config = headend_config(s)
    else:
        start, version, ciphers, config = (
            dt.datetime.now(dt.timezone.utc).timestamp(),
            tls_version or "1.2",
            None,
            HeadendConfig(simulated=False),
        )
    try:
        clock = SimClock(start, Pace.parse(pace))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    path = schema_path(xsd)
    config = dataclasses.replace(config, quirks=EMULATIONS[emulate], profile=profile or config.profile)
    with writing(db, "the head-end's database"):
        db.parent.mkdir(parents=True, exist_ok=True)
        store = Store(db)
    app = Headend(store, clock, config, SchemaValidator(path) if path else None)
    if scenario is not None:
        publish(app.store, utility_events(s, fleet))
    else:  # every registered device is given a DER program (and its DefaultDERControl), as utility servers do
        Operator(app).ensure_der_program(DEFAULT_PROGRAM, 1)
    try:
        server = HeadendServer(app, server_context(layout, version, ciphers), layout.crl, host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    notifier = Notifier(app, notification_context(layout)).start()
    operator = None
    if operator_port is not None:
        try:
            operator = OperatorServer(app, operator_port).start()
        except OSError as exc:
            raise UsageError(f"cannot listen on 127.0.0.1:{operator_port} ({exc.strerror or exc})") from None
    if scenario is not None:
        catch_up(clock, start, loaded, time.monotonic())
    server.start()
    click.echo(f"amiscen head-end at {server.url}/dcap (database {db}); Ctrl-C stops", err=True)
    if operator is not None:
        click.echo(f"operator API at {operator.url}", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    notifier.stop()
    if operator is not None:
        operator.stop()
    click.echo(status_text(app.store), nl=False)


@click.group("event", short_help="List, add or cancel the head-end's events.")
def event_command() -> None:
    """List, add or cancel the head-end's utility events (meters see changes at their next poll)."""


@event_command.command("list")
@DB_OPTION
def event_list(db: Path) -> None:
    """The events in the database."""
    for e in events(Store(db)):
        cancelled = f", cancelled at {e.cancelled_at}" if e.cancelled_at else ""
        click.echo(
            f"{e.kind} {e.event_id} program={e.program} start={e.start} duration={e.duration}s "
            f"targets={'all' if e.targets is None else len(e.targets)}{cancelled}"
        )


@event_command.command("cancel")
@DB_OPTION
@click.argument("event_id")
@click.option("--at", "at", type=int, help="Epoch seconds (simulated) of the cancellation; default: its start.")
def event_cancel(db: Path, event_id: str, at: int | None) -> None:
    """Cancel EVENT_ID."""
    store = Store(db)
    known = {e.event_id: e for e in events(store)}
    if event_id not in known:
        raise UsageError(f"no event '{event_id}' in {db}")
    if not cancel(store, event_id, at if at is not None else known[event_id].start):
        raise UsageError(f"event '{event_id}' is already cancelled")
    click.echo(f"cancelled {event_id}")


def _der_base(der: dict[str, float | bool | None]) -> dict[str, object]:
    """The DERControlBase fields the DER options ask for, in 2030.5's units (hundredths of a percent, W,
    hundredths of a second)."""
    scale: dict[str, tuple[str, float | None]] = {
        "connect": ("opModConnect", None),
        "energize": ("opModEnergize", None),
        "max_w_percent": ("opModMaxLimW", 100),
        "fixed_w_percent": ("opModFixedW", 100),
        "target_kw": ("opModTargetW", 1000),
        "ramp_s": ("rampTms", 100),
        "export_kw": ("opModExpLimW", 1000),
        "import_kw": ("opModImpLimW", 1000),
        "generation_kw": ("opModGenLimW", 1000),
        "load_kw": ("opModLoadLimW", 1000),
    }
    out: dict[str, object] = {}
    for option, value in der.items():
        if value is None:
            continue
        name, factor = scale[option]
        out[name] = value if factor is None else round(float(value) * factor)
    return out


@event_command.command("default")
@DB_OPTION
@click.option("--program", default="campus_der", show_default=True, help="The DER program whose default this is.")
@click.option("--connect/--disconnect", default=None, help="opModConnect.")
@click.option("--energize/--deenergize", default=None, help="opModEnergize.")
@click.option("--max-w-percent", type=click.FloatRange(0, 100), help="opModMaxLimW, % of setMaxW.")
@click.option("--export-kw", type=click.FloatRange(0), help="csipaus:opModExpLimW, kW.")
@click.option("--import-kw", type=click.FloatRange(0), help="csipaus:opModImpLimW, kW.")
@click.option("--generation-kw", type=click.FloatRange(0), help="csipaus:opModGenLimW, kW.")
@click.option("--load-kw", type=click.FloatRange(0), help="csipaus:opModLoadLimW, kW.")
@click.option("--grad-percent-per-s", type=click.FloatRange(0), help="setGradW: ramp, % of setMaxW per second.")
def event_default(db: Path, program: str, grad_percent_per_s: float | None, **der: float | bool | None) -> None:
    """Set a DER program's DefaultDERControl: what its devices do when no DERControl is active. A running
    head-end serves it at once. (pollRate and postRate change through the operator API: serve --operator-port.)"""
    base = _der_base(der)
    if grad_percent_per_s is not None:
        base["setGradW"] = round(grad_percent_per_s * 100)  # hundredths of a percent of setMaxW per second
    if not base:
        raise UsageError("give at least one of --connect, --export-kw, --max-w-percent, ... --grad-percent-per-s")
    store = Store(db)
    program_id = ensure_program(store, "der", program, 1)
    store_default_control(store, program_id, base, int(dt.datetime.now(dt.timezone.utc).timestamp()))
    click.echo(f"DefaultDERControl of {program}: {', '.join(f'{k}={v}' for k, v in base.items())}")


@event_command.command("add")
@DB_OPTION
@click.argument("event_id")
@click.option("--start", required=True, help="ISO 8601 time with offset.")
@click.option("--duration", required=True, help="e.g. 1h.")
@click.option("--kw", type=float, help="DR: reduction per meter, kW.")
@click.option("--percent", type=float, help="DR: reduction of each meter's demand, %.")
@click.option("--connect/--disconnect", default=None, help="DER: opModConnect.")
@click.option("--energize/--deenergize", default=None, help="DER: opModEnergize.")
@click.option("--max-w-percent", type=click.FloatRange(0, 100), help="DER: opModMaxLimW, % of setMaxW.")
@click.option("--fixed-w-percent", type=click.FloatRange(-100, 100), help="DER: opModFixedW, % (- charges).")
@click.option("--target-kw", type=float, help="DER: opModTargetW, kW (- charges).")
@click.option("--ramp-s", type=click.FloatRange(0), help="DER: rampTms, seconds.")
@click.option("--export-kw", type=click.FloatRange(0), help="DER: csipaus:opModExpLimW, kW.")
@click.option("--import-kw", type=click.FloatRange(0), help="DER: csipaus:opModImpLimW, kW.")
@click.option("--generation-kw", type=click.FloatRange(0), help="DER: csipaus:opModGenLimW, kW.")
@click.option("--load-kw", type=click.FloatRange(0), help="DER: csipaus:opModLoadLimW, kW.")
@click.option("--program", default=None, help="Program name  [default: campus_dr, or campus_der for DER]")
@click.option("--primacy", type=click.IntRange(0, 255), default=1, show_default=True, help="DER program primacy.")
def event_add(
    db: Path,
    event_id: str,
    start: str,
    duration: str,
    kw: float | None,
    percent: float | None,
    program: str | None,
    primacy: int,
    **der: float | bool | None,
) -> None:
    """Add an event for every meter: demand response (--kw or --percent), or a DERControl with any of the
    DER options (several combine into one control)."""
    base = _der_base(der)
    if base and (kw is not None or percent is not None):
        raise UsageError("a DR reduction (--kw, --percent) and DER options do not mix in one event")
    if not base and (kw is None) == (percent is None):
        raise UsageError("give exactly one of --kw or --percent, or DER options (--disconnect, --export-kw, ...)")
    try:
        when = parse_time_ref(start)
        length = parse_duration(duration)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not isinstance(when, dt.datetime):
        raise UsageError("--start must be an absolute time here")
    store = Store(db)
    spec: dict[str, object]
    if base:
        spec = {"control": {"type": "base", **base}}
    elif kw is not None:
        spec = {"shares": {r["meter_id"]: kw for r in store.all("SELECT meter_id FROM end_device")}}
    else:
        spec = {"percent": percent}
    added = publish(
        store,
        [
            UtilityEvent(
                kind="der" if base else "dr",
                event_id=event_id,
                program=program or ("campus_der" if base else "campus_dr"),
                primacy=primacy if base else 0,
                start=int(when.timestamp()),
                duration=int(length.total_seconds()),
                spec=spec,
                targets=None,
                created=int(when.timestamp()) - 3600,
            )
        ],
    )
    if not added:
        raise UsageError(f"an event '{event_id}' exists already")
    click.echo(f"added {event_id}")

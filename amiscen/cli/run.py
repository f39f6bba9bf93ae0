"""`amiscen run`: play a scenario against a 2030.5 head-end (the embedded one unless a gateway is given)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click

from amiscen.cli.options import ScenarioSource, certs_option, emulate_option, junit_option, scenario_options
from amiscen.clock import Pace
from amiscen.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, UsageError
from amiscen.gateway.app import EMULATIONS
from amiscen.play.session import RunOptions, default_progress, play
from amiscen.play.shard import Shard
from amiscen.scenario.durations import parse_duration
from amiscen.sep.xsd import schema_path


@click.command("run", short_help="Play a scenario against a head-end.")
@scenario_options
@click.option(
    "--pace",
    default=None,
    metavar="PACE",
    help="realtime, fast or Nx (e.g. 60x). Default: fast on the embedded head-end, realtime on a gateway.",
)
@click.option("--duration", metavar="DURATION", help="Stop after this much simulated time, e.g. 2h.")
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where logs, outbox and head-end data go (default: runs/<network>-<time>).",
)
@certs_option("PKI directory; missing certificates are generated.")
@click.option(
    "--record", type=click.Path(path_type=Path, dir_okay=False), help="Write every exchange to FILE as JSON Lines."
)
@junit_option("the expectations")
@click.option(
    "--xsd",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Validate bodies against this sep.xsd (default: $AMISCEN_SEP_XSD).",
)
@click.option(
    "--workers", type=click.IntRange(1, 512), default=16, show_default=True, help="Meters served concurrently."
)
@click.option("--wire-bodies", is_flag=True, help="Log every request and response body in ieee2030_5.log.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="No network: the embedded head-end answers in-process; every exchange goes to the record "
    "(RUN_DIR/record.jsonl unless --record).",
)
@click.option("--resume", is_flag=True, help="Continue the killed or interrupted run in --run-dir where it stopped.")
@click.option(
    "--shard",
    metavar="K/N",
    help="Play only slice K of N of the fleet (meters dealt round-robin); the N slices are the whole fleet.",
)
@emulate_option
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary on stdout.")
def command(
    scenario: ScenarioSource,
    pace: str | None,
    duration: str | None,
    run_dir: Path | None,
    certs_dir: Path,
    record: Path | None,
    junit: Path | None,
    xsd: Path | None,
    workers: int,
    wire_bodies: bool,
    dry_run: bool,
    resume: bool,
    shard: str | None,
    emulate: str,
    quiet: bool,
) -> None:
    """Play SCENARIO as a fleet of meters; exit 0 when every expectation holds, 1 when one fails."""
    loaded = scenario.load()
    try:
        chosen = Pace.parse(pace or ("fast" if loaded.scenario.gateway.url is None else "realtime"))
        cut = parse_duration(duration) if duration else None
        slice_ = Shard.parse(shard) if shard else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options = RunOptions(
        pace=chosen,
        run_dir=run_dir,
        certs_dir=certs_dir,
        duration=cut,
        record=record,
        junit=junit,
        xsd=schema_path(xsd),
        progress=None if quiet else default_progress(),
        notices=sys.stderr,
        workers=workers,
        wire_bodies=wire_bodies,
        dry_run=dry_run,
        resume=resume,
        shard=slice_,
        quirks=EMULATIONS[emulate],
    )
    terminated: list[int] = []

    def _terminate(signum: int, frame: FrameType | None) -> None:
        """SIGTERM (a CI job cancelled, `kill`, a container stopping) stops the run as Ctrl-C does: what was
        queued is kept, the summary is written, and the exit status says so (143)."""
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        outcome = play(loaded, options)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not quiet:
        click.echo(outcome.summary, nl=False)
        click.echo(f"run directory: {outcome.run_dir}")
    if outcome.interrupted:
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    if not outcome.ok:
        sys.exit(EXIT_FAILED)

"""`amiscen locust`: a scenario's meters as Locust users (the optional extra ``amiscen[scale]``)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import click

from amiscen.cli.options import ScenarioSource, certs_option, scenario_options
from amiscen.errors import EXIT_FAILED, RunFailed, UsageError, writing
from amiscen.pki.layout import Layout
from amiscen.play.embedded import ensure_certificates
from amiscen.scenario.model import meters

LOCUSTFILE = Path(__file__).resolve().parents[1] / "scale" / "locustfile.py"


def _serve(scenario: Path, run_dir: Path, certs: Path, pace: str) -> tuple[subprocess.Popen[str], str]:
    """The embedded head-end in a process of its own (Locust's workers must not fork it)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amiscen",
            "serve",
            str(scenario),
            "--port",
            "0",
            "--db",
            str(run_dir / "headend.db"),
            "--certs",
            str(certs),
            "--pace",
            pace,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: IO[str] | None = process.stderr
    assert stderr is not None
    for line in stderr:
        if "amiscen head-end at " in line:
            return process, line.split("amiscen head-end at ", 1)[1].split("/dcap", 1)[0]
    process.wait()
    raise RunFailed(f"the embedded head-end did not start (exit {process.returncode})")


def _stored(run_dir: Path) -> int | None:
    import sqlite3

    db = run_dir / "headend.db"
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM reading").fetchone()[0])


@click.command(
    "locust",
    context_settings={"ignore_unknown_options": True},
    short_help="Run the meters as Locust users (scale-out).",
)
@scenario_options
@certs_option("PKI directory (every worker needs a copy).")
@click.option(
    "--run-dir", type=click.Path(path_type=Path, file_okay=False), help="Default: runs/<network>-locust-<time>."
)
@click.option("--pace", default="realtime", show_default=True, help="realtime, fast or Nx.")
@click.option("--duration", metavar="DURATION", help="Play only this much of the scenario, e.g. 1h.")
@click.option("--processes", type=int, help="Locust --processes: this many worker processes on this machine.")
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def command(
    scenario: ScenarioSource,
    certs_dir: Path,
    run_dir: Path | None,
    pace: str,
    duration: str | None,
    processes: int | None,
    locust_args: tuple[str, ...],
) -> None:
    """Run SCENARIO's meters as Locust users: one user per meter, its client that meter's mutual-TLS session.

    Arguments after -- go to Locust (e.g. -- --master --expect-workers 4, or -- --worker --master-host H).
    Without --gateway the embedded head-end is started in its own process. Exit 0 when every reading was
    delivered (and, on the embedded head-end, stored)."""
    if importlib.util.find_spec("locust") is None:  # not imported here: Locust patches the process with gevent
        raise UsageError("Locust is not installed", hint="pip install 'amiscen[scale]'")
    s = scenario.load().scenario
    fleet = meters(s)
    worker = "--worker" in locust_args
    if worker and s.gateway.url is None:
        raise UsageError("a Locust worker needs the gateway's address: --gateway URL (the master's head-end)")
    if run_dir is None:
        run_dir = Path("runs") / f"{s.network.id}-locust-{dt.datetime.now():%Y%m%d-%H%M%S}"
    with writing(run_dir, "the run directory"):
        run_dir.mkdir(parents=True, exist_ok=True)
    layout = Layout(certs_dir)
    if not worker:
        ensure_certificates(s, layout, [m.id for m in fleet])
    server = None
    url = s.gateway.url
    if url is None:
        server, url = _serve(scenario.path, run_dir, certs_dir, pace)
    env = {
        **os.environ,
        "AMISCEN_SCENARIO": str(scenario.path.resolve()),
        "AMISCEN_GATEWAY": url,
        "AMISCEN_CERTS": str(certs_dir.resolve()),
        "AMISCEN_RUN_DIR": str(run_dir.resolve()),
        "AMISCEN_PACE": pace,
        **({"AMISCEN_DURATION": duration} if duration else {}),
    }
    args = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    if not worker:
        args += ["--headless", "-u", str(len(fleet)), "-r", str(max(1, len(fleet))), "--csv", str(run_dir / "locust")]
    if processes:
        args += ["--processes", str(processes)]
    args += list(locust_args)
    try:
        code = subprocess.call(args, env=env)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    if worker:
        sys.exit(code)
    _summarise(run_dir, len(fleet), code)


def _summarise(run_dir: Path, meter_count: int, locust_code: int) -> None:
    path = run_dir / "locust-summary.json"
    reports = json.loads(path.read_text())["reports"] if path.exists() else []
    played = [r["meter"] for r in reports]
    generated = sum(r["generated"] for r in reports)
    delivered = sum(r["delivered"] for r in reports)
    queued = sum(r["queued"] for r in reports)
    stored = _stored(run_dir)
    workers: dict[str, list[dict[str, Any]]] = {}
    for r in reports:
        workers.setdefault(r["worker"], []).append(r)
    click.echo(f"amiscen locust: {len(workers)} worker process(es) played {len(set(played))} of {meter_count} meters")
    click.echo(f"  readings: {delivered:,} delivered of {generated:,} generated, {queued:,} still queued")
    if stored is not None:
        click.echo(f"  the embedded head-end stored {stored:,}")
    for name, mine in sorted(workers.items()):
        worst = max(float(r["lateness_max_s"]) for r in mine)
        failures = sum(sum(r["failures"].values()) for r in mine)
        click.echo(f"  {name}: {len(mine)} meters, worst lateness {worst:.2f} s, {failures} failures")
    click.echo(f"  Locust's statistics: {run_dir / 'locust_stats.csv'}; per meter: {path}")
    ok = (
        sorted(set(played)) == sorted(played)
        and len(played) == meter_count
        and generated == delivered
        and queued == 0
        and (stored is None or stored == generated)
    )
    if not ok or locust_code != 0:
        sys.exit(EXIT_FAILED)

"""`amiscen test`: the original's connectivity test, grown into a probe of a 2030.5 gateway."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click

from amiscen.cli.options import ScenarioSource, certs_option, emulate_option, junit_option, scenario_options
from amiscen.clock import Pace, SimClock
from amiscen.errors import EXIT_FAILED
from amiscen.gateway.app import EMULATIONS
from amiscen.pki.layout import Layout
from amiscen.play.build import device_category
from amiscen.play.embedded import ensure_certificates, new_headend, serve
from amiscen.play.expect import Check, write_junit
from amiscen.play.schedule import utility_events
from amiscen.probe import ProbeTarget, probe
from amiscen.runner.transport import Credentials, TlsSettings
from amiscen.scenario.model import meters
from amiscen.sep.xsd import SchemaValidator, schema_path


@click.command("test", short_help="Probe a head-end as the scenario's meters.")
@scenario_options
@certs_option("PKI directory; missing certificates are generated.")
@click.option("--meters", "limit", type=click.IntRange(1), help="Handshake with the first N meters only.")
@click.option(
    "--xsd",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Validate every body the gateway sends against this sep.xsd (default: $AMISCEN_SEP_XSD).",
)
@junit_option("the checks")
@click.option("--timeout", type=click.FloatRange(0.1), default=10.0, show_default=True, help="Seconds per request.")
@emulate_option
def command(
    scenario: ScenarioSource,
    certs_dir: Path,
    limit: int | None,
    xsd: Path | None,
    junit: Path | None,
    timeout: float,
    emulate: str,
) -> None:
    """Probe the gateway (the embedded head-end unless --gateway) as SCENARIO's meters: TLS with each meter's
    certificate, then discovery and what the gateway gets right or wrong by 2030.5. Exit 0 only when every check
    passes."""
    s = scenario.load().scenario
    fleet = meters(s)[:limit] if limit else meters(s)
    layout = Layout(certs_dir)
    index = ensure_certificates(s, layout, [m.id for m in fleet])
    path = schema_path(xsd)
    target_meters = [
        (
            m.id,
            index[m.id].sfdi,
            index[m.id].lfdi,
            device_category(m),
            Credentials(layout.meter_cert(m.id), layout.meter_key(m.id), layout.ca_cert),
        )
        for m in fleet
    ]
    tls = TlsSettings(s.gateway.tls.version, tuple(s.gateway.tls.ciphers), s.gateway.tls.verify_server)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="amiscen-test-") as scratch:
        server = None
        base_url = s.gateway.url
        if base_url is None:
            clock = SimClock(time.time(), Pace.parse("realtime"))
            headend = new_headend(
                s,
                Path(scratch) / "headend.db",
                clock,
                utility_events(s, meters(s)),
                simulated=False,
                quirks=EMULATIONS[emulate],
            )
            server = serve(headend, s, layout)
            base_url = server.url
        try:
            target = ProbeTarget(
                base_url,
                target_meters,
                tls,
                s.network.pen,
                timeout=timeout,
                validator=SchemaValidator(path) if path else None,
            )
            checks = probe(target)
        finally:
            if server is not None:
                server.stop()
                headend.store.close()
    wall = time.perf_counter() - started
    click.echo(f"amiscen test: {base_url if s.gateway.url else 'the embedded head-end'} as {len(fleet)} meter(s)")
    width = max(len(ch.name) for ch in checks)
    click.echo(f"{'check':<{width}}  result  detail")
    for ch in checks:
        click.echo(f"{ch.name:<{width}}  {ch.result:<6}  {ch.detail}")
    failed = [ch for ch in checks if not ch.ok]
    passed = sum(ch.result == "pass" for ch in checks)
    skipped = sum(ch.result == "skip" for ch in checks)
    click.echo(f"{passed} passed, {len(failed)} failed, {skipped} skipped in {wall:.1f} s")
    if junit is not None:
        write_junit(junit, "amiscen.test", [Check(ch.name, ch.ok, f"{ch.result}: {ch.detail}") for ch in checks], wall)
    if failed:
        sys.exit(EXIT_FAILED)

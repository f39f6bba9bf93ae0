"""`amiscen certs`: the scenario's PKI (CA, head-end certificate, one 2030.5 certificate per meter)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import click

from amiscen.cli.options import ScenarioSource, scenario_options
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.scenario import meters

CERTS_OPTION = click.option(
    "--certs",
    "certs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("certs"),
    show_default=True,
    help="PKI directory.",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@click.group("certs", short_help="Generate, list, renew and revoke certificates.")
def command() -> None:
    """Generate, list, renew and revoke the fleet's certificates."""


@command.command("generate")
@scenario_options
@click.option(
    "--out",
    "certs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("certs"),
    show_default=True,
    help="PKI directory.",
)
@click.option(
    "--profile",
    type=click.Choice(["2030.5"]),
    default="2030.5",
    show_default=True,
    help="Certificate profile: 2030.5 devices never expire (notAfter 9999-12-31).",
)
@click.option("--days", type=click.IntRange(1, 36500), help="Issue finite certificates valid for N days instead.")
@click.option("--force", is_flag=True, help="Replace existing keys and certificates (a new CA and PKI).")
def generate_command(
    scenario: ScenarioSource,
    certs_dir: Path,
    profile: str,
    days: int | None,
    force: bool,
) -> None:
    """Create the CA, head-end and meter certificates SCENARIO needs; only what is missing unless --force."""
    loaded = scenario.load()
    s = loaded.scenario
    hosts = [urlsplit(s.gateway.url).hostname or ""] if s.gateway.url else []
    ids = [m.id for m in meters(s)]
    report = fleet.generate(
        Layout(certs_dir),
        ids,
        network_id=s.network.id,
        hosts=[h for h in hosts if h],
        now=_now(),
        days=days,
        force=force,
    )
    click.echo(
        f"{certs_dir}: CA {'created' if report.created_ca else 'kept'}, head-end certificate {report.gateway}, "
        f"{len(report.created):,} meter certificates created, {report.kept:,} kept"
    )
    for path in report.tightened:
        click.echo(f"warning: private key {path} was readable by others: made owner-only", err=True)


@command.command("list")
@CERTS_OPTION
@click.option(
    "--warn-days",
    type=click.IntRange(0, 36500),
    default=30,
    show_default=True,
    help="Flag certificates expiring within this many days.",
)
def list_command(certs_dir: Path, warn_days: int) -> None:
    """A table of the meters' certificates: LFDI, SFDI, expiry, status and the 2030.5 profile each meets; then the
    CA's and the head-end's profile."""
    layout = Layout(certs_dir)
    rows = fleet.list_status(layout, None, _now(), warn_days)
    click.echo(f"{'meter':<24} {'LFDI':<40} {'SFDI':>12} {'not after':<10} {'days':>8}  {'status':<8} profile")
    for r in rows:
        click.echo(
            f"{r.meter_id:<24} {r.lfdi:<40} {r.sfdi:>12} {r.not_after:<10} {r.days_left:>8}  {r.status:<8} {r.profile}"
        )
    infrastructure = fleet.infrastructure_profiles(layout)
    for role, path, profile in infrastructure:
        click.echo(f"{role} {path}: {profile}")
    bad = sum(r.status != "ok" or r.profile != "2030.5" for r in rows)
    click.echo(f"{len(rows):,} certificates, {len(rows) - bad:,} ok, {bad:,} need attention")
    if any(r.profile not in ("2030.5", "-") for r in rows) or any(p != "2030.5" for _, _, p in infrastructure):
        click.echo(
            "certificates made before the 2030.5 profile: `amiscen certs generate SCENARIO --force` remakes them"
        )


@command.command("renew")
@CERTS_OPTION
@click.option(
    "--within",
    type=click.IntRange(0, 36500),
    default=30,
    show_default=True,
    help="Renew certificates expiring within this many days.",
)
@click.option("--rekey", is_flag=True, help="Generate new keys instead of keeping them.")
@click.option("--days", type=click.IntRange(1, 36500), help="Validity of the new certificates (default: 9999-12-31).")
def renew_command(certs_dir: Path, within: int, rekey: bool, days: int | None) -> None:
    """Re-issue meter certificates that expire soon."""
    renewed = fleet.renew(Layout(certs_dir), _now(), within_days=within, rekey=rekey, days=days)
    click.echo(f"{len(renewed):,} certificates renewed" + (f": {', '.join(renewed)}" if renewed else ""))


@command.command("revoke")
@CERTS_OPTION
@click.argument("meter_id")
def revoke_command(certs_dir: Path, meter_id: str) -> None:
    """Revoke METER_ID's certificate: it is added to certs/crl.pem, which the embedded head-end enforces."""
    ident = fleet.revoke(Layout(certs_dir), meter_id, _now())
    click.echo(f"revoked {meter_id} (serial {ident.serial}, LFDI {ident.lfdi}); see {Layout(certs_dir).crl}")

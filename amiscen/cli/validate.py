"""`amiscen validate`: check a scenario without sending anything."""

from __future__ import annotations

from pathlib import Path

import click

from amiscen.cli.options import load, scenario_options
from amiscen.errors import ScenarioError
from amiscen.scenario.summary import effective_settings, one_line


@click.command("validate")
@scenario_options
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("-v", "--verbose", is_flag=True, help="Show the effective settings and where each comes from.")
def command(
    scenario: Path,
    gateway: str | None,
    network_id: str | None,
    tls_version: str | None,
    polling_interval: str | None,
    strict: bool,
    verbose: bool,
) -> None:
    """Check SCENARIO: every problem at once, as file:line:col: path: message."""
    loaded = load(scenario, gateway, network_id, tls_version, polling_interval)
    for warning in loaded.warnings:
        click.echo(warning.format(), err=True)
    if strict and loaded.warnings:
        raise ScenarioError(
            loaded.warnings, f"{scenario}: {len(loaded.warnings)} warning(s), which --strict treats as errors"
        )
    if verbose:
        for name, value, origin in effective_settings(loaded):
            click.echo(f"  {name:<45} {value:<28} {origin}")
    click.echo(f"{scenario}: valid: {one_line(loaded.scenario)}")

"""`amiscen validate`: check a scenario without sending anything."""

from __future__ import annotations

import click

from amiscen.cli.options import ScenarioSource, scenario_options
from amiscen.errors import RunFailed, ScenarioError, UsageError
from amiscen.play.samples import sample_messages
from amiscen.scenario.model import Scenario
from amiscen.scenario.summary import effective_settings, one_line
from amiscen.sep.render import render
from amiscen.sep.xsd import HOW_TO_GET, SchemaValidator, schema_path


@click.command("validate", short_help="Check a scenario; every problem at once.")
@scenario_options
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("-v", "--verbose", is_flag=True, help="Show the effective settings and where each comes from.")
@click.option(
    "--xsd",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="PATH",
    help="Also render a sample of every message the meters would send and validate it against this "
    "sep.xsd (or $AMISCEN_SEP_XSD when no PATH is given). Needs lxml: pip install 'amiscen[xsd]'.",
)
def command(
    scenario: ScenarioSource,
    strict: bool,
    verbose: bool,
    xsd: str | None,
) -> None:
    """Check SCENARIO: every problem at once, as file:line:col: path: message."""
    loaded = scenario.load()
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
    if xsd is not None:
        _schema_check(loaded.scenario, xsd)


def _schema_check(scenario: Scenario, xsd: str) -> None:
    path = schema_path(xsd or None)
    if path is None:
        raise UsageError("no schema to check against", hint=HOW_TO_GET)
    validator = SchemaValidator(path)
    samples = sample_messages(scenario)
    bad = [(name, errors) for name, resource in samples if (errors := validator.errors(render(resource)))]
    for name, errors in bad:
        click.echo(f"{name}: {errors[0]}", err=True)
    if bad:
        raise RunFailed(f"{len(bad)} of {len(samples)} sample messages are not valid against {path}")
    click.echo(f"schema check: {len(samples)} sample messages valid against {path}")

"""`amiscen schema`: the scenario JSON Schema, for editors."""

from __future__ import annotations

from pathlib import Path

import click

from amiscen.errors import writing
from amiscen.scenario.jsonschema import scenario_json_schema


@click.command("schema", short_help="Print the scenario JSON Schema.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE instead of stdout.")
def command(out: Path | None) -> None:
    """Print the JSON Schema of scenario files (for yaml-language-server and other editors)."""
    text = scenario_json_schema()
    if out is None:
        click.echo(text, nl=False)
    else:
        with writing(out, "the schema"):
            out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)

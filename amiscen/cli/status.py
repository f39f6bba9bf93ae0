"""`amiscen status RUN_DIR`."""

from __future__ import annotations

from pathlib import Path

import click

from amiscen.play.status import run_status


@click.command("status", short_help="What a run has done, while it runs or after.")
@click.argument("run_dir", type=click.Path(path_type=Path))
def command(run_dir: Path) -> None:
    """What the run in RUN_DIR has done (while it runs or after): deliveries per meter, queues, the head-end."""
    click.echo(run_status(run_dir), nl=False)

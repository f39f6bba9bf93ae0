"""The command group and the one place where errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback

import click

from amiscen import __version__
from amiscen.errors import (
    EXIT_DISK_FULL,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    AmiscenError,
    DiskFull,
    is_disk_full,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="amiscen")
def cli() -> None:
    """Simulate an IEEE 2030.5 AMI network: compile a campus scenario and play it against a head-end."""


def _register() -> None:
    from amiscen.cli import certs, locust, plan, probe, report, run, schema, serve, status, validate

    for module in (run, status, report, probe, locust, validate, plan, schema, certs, serve):
        cli.add_command(module.command)
    cli.add_command(serve.event_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, map every outcome to a documented exit code."""
    _register()
    try:
        code = cli.main(args=argv, prog_name="amiscen", standalone_mode=False)
    except AmiscenError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # the boundary: anything else is our bug, unless the disk is full
        if os.environ.get("AMISCEN_DEBUG"):
            traceback.print_exc()
        if is_disk_full(exc):  # the run's own DiskFull, when a later write (a log closed) met the full disk too
            told = next((e for e in _chain(exc) if isinstance(e, DiskFull)), None)
            if told is not None:
                click.echo(str(told), err=True)
                sys.exit(told.exit_code)
            click.echo(f"no space left on the disk: {exc}", err=True)
            click.echo(
                "  hint: free space where amiscen writes (the run directory, --db, the export), then rerun; "
                "a run continues where it stopped with --run-dir DIR --resume",
                err=True,
            )
            sys.exit(EXIT_DISK_FULL)
        click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("  this is a bug in amiscen; rerun with AMISCEN_DEBUG=1 for a traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised during (its ``__context__``s), innermost last."""
    out: list[BaseException] = []
    at: BaseException | None = exc
    while at is not None and at not in out:
        out.append(at)
        at = at.__context__
    return out

"""`amiscen report RUN_DIR`: the run as a page people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

import click

from amiscen.report import from_run, write_report


@click.command("report", short_help="Write an HTML report of a run.")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to write index.html and the figures (default: RUN_DIR/report).",
)
@click.option(
    "--screenshot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also draw the page with headless Chromium into this PNG (as a person sees it; needs chromium).",
)
def command(run_dir: Path, out: Path | None, screenshot: Path | None) -> None:
    """Write an HTML report with figures for RUN_DIR, from what its head-end stored (or its exchange record)."""
    written = write_report(from_run(run_dir), out or run_dir / "report")
    emit(written)
    if screenshot is not None:
        from amiscen.report.screenshot import screenshot as draw

        click.echo(f"screenshot: {draw(written.page, screenshot)}")


def emit(written: object) -> None:
    from amiscen.report import Written

    assert isinstance(written, Written)
    if written.note:
        click.echo(written.note, err=True)
        click.echo(written.text, nl=False)
    click.echo(f"report: {written.page} ({len(written.figures)} figures)")

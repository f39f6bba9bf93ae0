"""`amiscen plan`: compile only; what each meter and building will do."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import click

from amiscen.cli.options import ScenarioSource, scenario_options
from amiscen.errors import UsageError, writing
from amiscen.play.plan import ParquetExport, export_format, plan, summary_lines
from amiscen.scenario.durations import parse_time_ref
from amiscen.scenario.model import meters


@contextmanager
def _export_to(path: Path, fmt: str, zone: str) -> Iterator[IO[str] | ParquetExport]:
    """The export's target: a text file (CSV, JSON lines), or a Parquet writer."""
    if fmt == "parquet":
        with writing(path, "the export"):
            writer = ParquetExport(path, ZoneInfo(zone))
        try:
            yield writer
        finally:
            writer.close()
        return
    with writing(path, "the export"):
        handle = path.open("w", encoding="utf-8", newline="")
    with handle:
        yield handle


@click.command("plan", short_help="Compile a scenario: energy, peaks, DR shed.")
@scenario_options
@click.option(
    "--export",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every interval of every meter to FILE: .csv, .jsonl, or .parquet (needs amiscen[export]).",
)
@click.option("--meters", "meter_list", metavar="ID,ID", help="Only these meters.")
@click.option("--from", "from_", metavar="TIME", help="Export from this time (ISO 8601 or +DURATION).")
@click.option("--to", metavar="TIME", help="Export up to this time (ISO 8601 or +DURATION).")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write an HTML report with figures of the plan to DIR.",
)
def command(
    scenario: ScenarioSource,
    export: Path | None,
    meter_list: str | None,
    from_: str | None,
    to: str | None,
    report_dir: Path | None,
) -> None:
    """Compile SCENARIO and summarise consumption, generation, feed-in, peaks, batteries and DR per building."""
    s = scenario.load().scenario
    ids = None
    if meter_list:
        ids = {m.strip() for m in meter_list.split(",") if m.strip()}
        unknown = ids - {m.id for m in meters(s)}
        if unknown:
            raise UsageError(f"no such meter(s): {', '.join(sorted(unknown))}")
    try:
        start = s.at(parse_time_ref(from_, s.site.timezone)).timestamp() if from_ else None
        end = s.at(parse_time_ref(to, s.site.timezone)).timestamp() if to else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    count = len(ids) if ids is not None else len(meters(s))
    if export is None:
        report = plan(s, meter_ids=ids)
    else:
        fmt = export_format(export)
        with _export_to(export, fmt, s.site.timezone) as target:
            if sys.stderr.isatty():
                with click.progressbar(length=count, label="compiling and exporting", file=sys.stderr) as bar:
                    report = plan(
                        s,
                        meter_ids=ids,
                        start=start,
                        end=end,
                        export=target,
                        export_format=fmt,
                        progress=lambda done: bar.update(done - bar.pos),
                    )
            else:
                report = plan(s, meter_ids=ids, start=start, end=end, export=target, export_format=fmt)
    for line in summary_lines(s, report):
        click.echo(line)
    if report_dir is not None:
        from amiscen.cli.report import emit
        from amiscen.report import from_plan, write_report

        emit(write_report(from_plan(s), report_dir))

"""`amiscen plan`: the summary, filters and exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from amiscen.play.plan import ParquetExport, plan
from amiscen.scenario import load_scenario

from .test_validate import amiscen


def test_campus_summary(tmp_path: Path) -> None:
    result = amiscen("plan", "scenarios/campus_utcc.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["building", "meters", "consumed"]
    campus = next(line for line in lines if line.startswith("campus "))
    assert campus.split()[1] == "25"
    assert any(line.startswith("DR DR_EVENT_001: expected reduction ") for line in lines)


def test_export_csv_filtered(tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    result = amiscen(
        "plan",
        "examples/smoke_3_meters.yaml",
        "--export",
        str(out),
        "--meters",
        "AMI_METER_SMOKE_001",
        "--from",
        "+10m",
        "--to",
        "+20m",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 40  # 10 minutes at 15 s
    assert {r["meter"] for r in rows} == {"AMI_METER_SMOKE_001"}
    assert rows[0]["time"] == "2026-03-02T10:10:00+07:00"
    assert result.stdout.splitlines()[-1] == "exported 40 rows"


def test_export_jsonl_and_bad_extension(tmp_path: Path) -> None:
    out = tmp_path / "plan.jsonl"
    assert amiscen("plan", "examples/smoke_3_meters.yaml", "--export", str(out)).returncode == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert set(first) >= {"time", "meter", "load_w", "pv_w", "import_total_wh"}
    bad = amiscen("plan", "examples/smoke_3_meters.yaml", "--export", str(tmp_path / "plan.txt"))
    assert bad.returncode == 2 and "export as .csv, .jsonl or .parquet" in bad.stderr
    unknown = amiscen("plan", "examples/smoke_3_meters.yaml", "--meters", "NOPE")
    assert unknown.returncode == 2 and "no such meter(s): NOPE" in unknown.stderr


def test_the_three_formats_carry_the_same_rows_across_a_clock_change(tmp_path: Path) -> None:
    """CSV, JSON lines and Parquet (pyarrow) hold the same values; local times carry the offset in force, through
    the repeated hour of the October change."""
    import pytest

    pq = pytest.importorskip("pyarrow.parquet")
    paths = {fmt: tmp_path / f"plan.{fmt}" for fmt in ("csv", "jsonl", "parquet")}
    for path in paths.values():
        result = amiscen("plan", "examples/garching.yaml", "--export", str(path), "--meters", "TUM_ADMIN_001")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "exported 540 rows"
    rows = list(csv.DictReader(paths["csv"].open()))
    lines = [json.loads(line) for line in paths["jsonl"].read_text().splitlines()]
    table = pq.read_table(paths["parquet"]).to_pylist()
    assert len(rows) == len(lines) == len(table) == 540
    times = [r["time"] for r in rows]
    assert times[0] == "2026-10-24T22:00:00+02:00" and times[-1] == "2026-10-25T05:59:00+01:00"
    assert "2026-10-25T02:30:00+02:00" in times and "2026-10-25T02:30:00+01:00" in times  # the hour, twice
    assert times == [x["time"] for x in lines]
    assert [t["time"].isoformat() for t in table] == times
    for r, x, t in zip(rows, lines, table, strict=True):
        assert float(r["load_w"]) == x["load_w"] == t["load_w"]
        assert float(r["soc"]) == x["soc"] == t["soc"]  # a backup battery: a state of charge in every row
        assert float(r["import_total_wh"]) == x["import_total_wh"] == t["import_total_wh"]


def test_a_parquet_write_that_fails_fails_the_export(tmp_path: Path) -> None:
    """Row groups are written on a thread of their own while the next meter compiles: a failure there (a full disk)
    still reaches the caller, and every row group before it is in the file."""
    import pytest

    pq = pytest.importorskip("pyarrow.parquet")
    s = load_scenario(Path(__file__).resolve().parents[2] / "examples" / "smoke_3_meters.yaml").scenario
    export = ParquetExport(tmp_path / "plan.parquet", ZoneInfo(s.site.timezone))
    write, calls = export.writer.write_table, []

    def fill_the_disk(table: object) -> None:
        calls.append(table)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        write(table)

    export.writer.write_table = fill_the_disk  # type: ignore[method-assign]
    with pytest.raises(OSError, match="No space left"):
        try:
            plan(s, export=export)
        finally:
            export.close()
    assert pq.read_table(tmp_path / "plan.parquet").num_rows == calls[0].num_rows  # type: ignore[attr-defined]

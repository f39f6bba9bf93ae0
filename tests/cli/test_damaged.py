"""A damaged database (or a file that is none) where amiscen reads a run or serves from one is told as such, with
the path, exit 2: not "internal error ... a bug" (exit 3)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from amiscen.errors import UsageError
from amiscen.gateway.store import Store

from .test_validate import amiscen


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("damaged")
    run = root / "run"
    done = amiscen("run", "examples/smoke_3_meters.yaml", "--dry-run", "--duration", "10m", "-q",
                   "--run-dir", str(run), "--certs", str(root / "certs"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return run


def _damaged_copy(run: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for extra in copy.glob(f"{name}-*"):  # its WAL and shared memory: the file alone is what is damaged
        extra.unlink()
    (copy / name).write_bytes(b"not a database at all\n" * 200)
    return copy


def test_status_of_a_run_whose_outbox_is_damaged(finished_run: Path, tmp_path: Path) -> None:
    run = _damaged_copy(finished_run, tmp_path, "outbox.db")
    done = amiscen("status", str(run))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{run / 'outbox.db'}: not an outbox, or a damaged one" in done.stderr
    assert "internal error" not in done.stderr


@pytest.mark.parametrize("command", ["status", "report"])
def test_a_run_whose_head_end_database_is_damaged(finished_run: Path, tmp_path: Path, command: str) -> None:
    run = _damaged_copy(finished_run, tmp_path, "headend.db")
    done = amiscen(command, str(run))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{run / 'headend.db'}: not a database, or a damaged one" in done.stderr
    assert "internal error" not in done.stderr


def test_serving_from_a_file_that_is_no_database(tmp_path: Path) -> None:
    db = tmp_path / "headend.db"
    db.write_bytes(b"not a database at all\n" * 200)
    done = amiscen("serve", "--db", str(db), "--certs", str(tmp_path / "certs"), "--port", "0")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{db}: not a database, or a damaged one" in done.stderr


def test_reading_a_database_that_is_not_a_head_ends(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE x (a)")
    with pytest.raises(UsageError, match="not an amiscen head-end database"):
        Store(other, readonly=True)


@pytest.mark.parametrize(("text", "told"), [("{bad", "damaged, not JSON"), ('{"a": 1}', "damaged, lacks scenario")])
def test_report_on_a_run_whose_run_file_is_damaged(finished_run: Path, tmp_path: Path, text: str, told: str) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "run.json").write_text(text)
    done = amiscen("report", str(run))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{run / 'run.json'}: {told}" in done.stderr and "internal error" not in done.stderr


def test_status_with_a_damaged_summary_still_tells_the_outbox(finished_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "summary.json").write_text("{bad")
    done = amiscen("status", str(run))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{run / 'summary.json'}: damaged, not JSON" in done.stdout
    assert "AMI_METER_SMOKE_001" in done.stdout  # the outbox's own account, per meter


def test_report_from_a_record_cut_off_mid_line(finished_run: Path, tmp_path: Path) -> None:
    """A run killed while it wrote leaves its record's last line half written: the report reads what came before;
    a bad line before the last is told with its line number."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    for db in run.glob("headend.db*"):
        db.unlink()  # the report falls back to the record
    record = run / "record.jsonl"
    lines = record.read_text().splitlines(keepends=True)
    record.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    done = amiscen("report", str(run), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stdout + done.stderr
    record.write_text(lines[0] + "{cut\n" + "".join(lines[1:]))
    done = amiscen("report", str(run), "--out", str(tmp_path / "report"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{record}:2: not an exchange of a record" in done.stderr


def test_report_on_a_run_whose_summary_is_damaged(finished_run: Path, tmp_path: Path) -> None:
    """The head-end's database still holds what was delivered: the report draws it, and says the summary is
    damaged (as it says when there is none yet)."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "summary.json").write_text("{bad")
    done = amiscen("report", str(run), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "report" / "report.txt").read_text()
    assert f"{run / 'summary.json'}: damaged, not JSON" in page

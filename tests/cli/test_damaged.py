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

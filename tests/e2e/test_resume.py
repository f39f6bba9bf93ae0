"""A run killed with SIGKILL resumes from its run directory: every reading arrives, exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ..cli.test_validate import amiscen
from ..fixtures import HANG, stored_readings, wait_while_running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_killed_run_resumes_exactly_once(tmp_path: Path) -> None:
    run, certs = tmp_path / "run", tmp_path / "certs"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amiscen",
            "run",
            "examples/smoke_3_meters.yaml",
            "--pace",
            "300x",
            "--run-dir",
            str(run),
            "--certs",
            str(certs),
            "-q",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    wait_while_running(process, lambda: stored_readings(run / "headend.db") >= 500, "500 readings were stored")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=HANG)
    before = stored_readings(run / "headend.db")
    assert 0 < before < 5040
    again = amiscen("run", "examples/smoke_3_meters.yaml", "--run-dir", str(run), "--certs", str(certs))
    assert again.returncode == 2 and "holds a run already" in again.stderr
    resumed = amiscen(
        "run",
        "examples/smoke_3_meters.yaml",
        "--resume",
        "--run-dir",
        str(run),
        "--certs",
        str(certs),
        "--pace",
        "fast",
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "5,040 of 5,040 readings delivered, 0 still queued; the head-end stored 5,040" in resumed.stdout
    assert stored_readings(run / "headend.db") == 5040


@pytest.mark.parametrize("damage", ["empty", "truncated", "not_an_outbox", "shard_missing"])
def test_resume_refuses_a_damaged_outbox_before_playing(tmp_path: Path, damage: str) -> None:
    """issue #17: a truncated outbox.db used to end in exit 3 after replaying the whole run, an empty one in a
    silent fresh start; both are refused at once (exit 2) with what is wrong."""
    from amiscen.runner.outbox import Outbox

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    db = run_dir / "outbox.db"
    if damage == "empty":
        db.write_bytes(b"")
    elif damage == "truncated":
        outbox = Outbox(db)
        for n in range(2000):
            outbox.add("M1", "readings", None, b"x" * 400, 1, float(n))
        outbox.close()
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    elif damage == "shard_missing":  # a large fleet's outbox is several files: each must be there
        outbox = Outbox(db, shards=3)
        for n in range(30):
            outbox.add(f"M{n}", "readings", None, b"x", 1, 0.0)
        outbox.close()
        (run_dir / "outbox-2.db").unlink()
    else:
        with sqlite3.connect(db) as other:
            other.execute("CREATE TABLE t (x)")
    result = amiscen("run", "examples/smoke_3_meters.yaml", "--pace", "fast", "--resume", "--run-dir", str(run_dir),
                     "--certs", str(tmp_path / "certs"))  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "nothing to resume from" in result.stderr
    assert not (run_dir / "headend.db").exists()  # nothing was played

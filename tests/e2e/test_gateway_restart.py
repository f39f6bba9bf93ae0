"""Kill the head-end mid-run (SIGKILL: no goodbye), restart it on the same port and database: every reading
arrives exactly once. The head-end is a separate `amiscen serve` process here, played as an external gateway.
The test waits for what it names (readings stored, the outage felt), not for wall-clock time: on a slow or a busy
machine the crash still falls mid-run and the restart after the meters found the head-end gone."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ..fixtures import HANG, start_serve, stored_readings, wait_while_running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, db: Path, certs: Path) -> subprocess.Popen[str]:
    process, _ = start_serve(
        ["examples/smoke_3_meters.yaml", "--port", str(port), "--db", str(db), "--certs", str(certs), "--pace", "fast"],
        ROOT,
    )
    return process


def _felt(log: Path) -> bool:
    """The meters' log tells a connect failure: a meter found the head-end gone."""
    return log.exists() and ": connect: " in log.read_text(encoding="utf-8")


def test_every_reading_arrives_once_across_a_head_end_crash(tmp_path: Path) -> None:
    port, db, certs = _free_port(), tmp_path / "headend.db", tmp_path / "certs"
    server = _serve(port, db, certs)
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amiscen",
            "run",
            "examples/smoke_3_meters.yaml",
            "--gateway",
            f"https://127.0.0.1:{port}",
            "--pace",
            "400x",
            "--certs",
            str(certs),
            "--run-dir",
            str(tmp_path / "run"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        wait_while_running(run, lambda: stored_readings(db) >= 500, "500 readings were stored")  # mid-run: 5,040 in all
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=HANG)
        at_crash = stored_readings(db)
        wait_while_running(run, lambda: _felt(tmp_path / "run" / "ami_simulator.log"), "a meter felt the outage")
        server = _serve(port, db, certs)
        out, err = run.communicate(timeout=HANG)
    finally:
        for p in (run, server):
            if p.poll() is None:
                p.kill()
            p.wait(timeout=HANG)
    assert run.returncode == 0, out + err
    assert 500 <= at_crash < 5040, at_crash  # the head-end died with readings still to come
    assert "5,040 delivered of 5,040 generated" in out
    assert "connect: " in out  # the outage was felt, and classified
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT count(*) FROM reading").fetchone()[0]
    assert stored == 5040

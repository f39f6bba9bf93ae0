"""The embedded head-end's process killed while a run plays (as the out-of-memory killer does): the run stops at
once and says what happened and how to go on (exit 3), rather than retrying against nothing until the scenario's
end and then calling it a bug; `--resume` then delivers every reading exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..cli.test_validate import amiscen
from ..fixtures import HANG, stored_readings, wait_while_running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task"), reason="reads children from /proc"),
]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(x) for x in (task / "children").read_text().split()]
    return found


def test_a_killed_head_end_stops_the_run_and_resume_delivers_everything_once(tmp_path: Path) -> None:
    run, certs = tmp_path / "run", tmp_path / "certs"
    args = ["run", "examples/smoke_3_meters.yaml", "--run-dir", str(run), "--certs", str(certs), "-q"]
    process = subprocess.Popen(
        [sys.executable, "-m", "amiscen", *args, "--pace", "300x"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # mid-run: 5,040 in all, at 300x about a minute's play
        wait_while_running(process, lambda: stored_readings(run / "headend.db") >= 300, "300 readings were stored")
        (headend,) = _children(process.pid)
        os.kill(headend, signal.SIGKILL)
        out, err = process.communicate(timeout=HANG)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, out + err
    assert "the embedded head-end's process was killed by SIGKILL" in err and "--resume" in err, err
    assert "this is a bug" not in err and "Traceback" not in err, err
    assert stored_readings(run / "headend.db") < 5040  # stopped when it happened, not played to the end against nothing
    resumed = amiscen(*args, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert stored_readings(run / "headend.db") == 5040

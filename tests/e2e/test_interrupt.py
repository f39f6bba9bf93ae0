"""Ctrl-C stops a run cleanly: what was done is summarised, the head-end is stopped, the exit code is 130. SIGTERM
(a cancelled CI job, `kill`) does the same with 143 (issue #17: it used to end the run at once, no summary)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..fixtures import HANG

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_ctrl_c_stops_cleanly_with_a_summary(tmp_path: Path, signum: int, status: int) -> None:
    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "amiscen",
            "run",
            "examples/smoke_3_meters.yaml",
            "--pace",
            "realtime",
            "--run-dir",
            str(run),
            "--certs",
            str(tmp_path / "certs"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    deadline = time.monotonic() + HANG
    while not (run / "ieee2030_5.log").exists() or "/dcap" not in (run / "ieee2030_5.log").read_text():
        assert time.monotonic() < deadline, "the run never connected"
        time.sleep(0.2)
    process.send_signal(signum)
    out, err = process.communicate(timeout=HANG)
    assert process.returncode == status, out + err
    assert "INTERRUPTED" in out.splitlines()[0]
    # issue #19: the figures are of what was played (seconds of a one-hour scenario), not of the whole scenario
    assert "simulated 1.00 h" not in out and "simulated 0.0" in out, out
    delivered = next(line for line in out.splitlines() if "all_readings_delivered:" in line)
    assert "interrupted at" in delivered
    assert "[FAIL]" in delivered or " 0 of 0 " not in delivered, delivered  # nothing delivered is no success
    assert "Traceback" not in err
    assert json.loads((run / "summary.json").read_text())["interrupted"] is True

"""A run whose disk is full stops at once with exit 4 and says what to do, not "internal error ... a bug" (exit 3)
after a minute of retries; freed, `--resume` delivers every reading exactly once. The full disk is a real one:
the run's log is /dev/full, where every write fails with ENOSPC."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..cli.test_validate import amiscen
from ..fixtures import stored_readings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)"),
]


def test_a_full_disk_stops_the_run_and_resume_delivers_everything_once(tmp_path: Path) -> None:
    run, certs = tmp_path / "run", tmp_path / "certs"
    run.mkdir()
    (run / "ami_simulator.log").symlink_to("/dev/full")
    args = ["run", "examples/smoke_3_meters.yaml", "--dry-run", "--run-dir", str(run), "--certs", str(certs), "-q"]
    full = amiscen(*args)
    assert full.returncode == 4, full.stdout + full.stderr
    assert "no space left on the disk" in full.stderr
    assert "--resume" in full.stderr
    assert "internal error" not in full.stderr and "Traceback" not in full.stderr, full.stderr
    assert stored_readings(run / "headend.db") < 5040
    (run / "ami_simulator.log").unlink()  # space again
    resumed = amiscen(*args, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert stored_readings(run / "headend.db") == 5040

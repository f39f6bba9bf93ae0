"""A run against a gateway that is not the embedded head-end says at once what its pace means (issue #14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..cli.test_validate import amiscen
from ..fixtures import start_serve
from .test_gateway_restart import _free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_fast_pace_against_a_gateway_says_what_it_means(tmp_path: Path) -> None:
    port, certs = _free_port(), tmp_path / "certs"
    server, url = start_serve(
        ["examples/smoke_3_meters.yaml", "--port", str(port), "--db", str(tmp_path / "h.db"), "--certs", str(certs)],
        ROOT,
    )
    try:
        result = amiscen(
            "run",
            "examples/smoke_3_meters.yaml",
            "--gateway",
            url,
            "--pace",
            "fast",
            "--duration",
            "5m",
            "--certs",
            str(certs),
            "--run-dir",
            str(tmp_path / "run"),
        )
    finally:
        server.terminate()
        server.wait()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"note: pace fast against {url}: readings carry simulated timestamps from 2026-03-02T10:00:00+07:00 on, "
        "not the server's clock, and controls the server schedules on its own clock are seen only where they fall "
        "inside the simulated window; --pace realtime plays on the server's clock\n"
    )

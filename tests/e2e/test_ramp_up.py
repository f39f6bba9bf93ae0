"""`time.ramp_up`: a fleet boots spread over the window the scenario gives, not within one post period."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ..cli.test_validate import amiscen

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _boots(tmp_path: Path, ramp: str | None) -> list[float]:
    text = (ROOT / "examples" / "demand_response.yaml").read_text()
    if ramp:
        text = text.replace("  reading_interval: 15s\n", f"  reading_interval: 15s\n  ramp_up: {ramp}\n")
    scenario = tmp_path / f"ramp-{ramp}.yaml"
    scenario.write_text(text)
    run = tmp_path / f"run-{ramp}"
    result = amiscen(
        "run",
        str(scenario),
        "--dry-run",
        "--duration",
        "15m",
        "--run-dir",
        str(run),
        "--certs",
        str(tmp_path / "certs"),
        "-q",
    )
    assert result.returncode == 0, result.stderr
    first: dict[str, float] = {}
    for line in (run / "record.jsonl").read_text().splitlines():
        x = json.loads(line)
        if x["method"] == "GET" and x["url"].endswith("/dcap"):
            first.setdefault(x["meter"], x["time"])
    return sorted(first.values())


def test_ramp_up_spreads_the_boot(tmp_path: Path) -> None:
    start = dt.datetime.fromisoformat("2026-04-01T12:00:00+07:00").timestamp()
    default = _boots(tmp_path, None)
    ramped = _boots(tmp_path, "10m")
    assert len(default) == len(ramped) == 7
    assert all(start <= t < start + 60 for t in default)  # one post period (60 s) by default
    assert all(start <= t < start + 600 for t in ramped)
    assert max(ramped) - min(ramped) > 120  # spread well beyond one post period

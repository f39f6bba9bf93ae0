"""Every example scenario runs end to end through the CLI against the real embedded head-end (mutual TLS,
certificates from `amiscen certs generate`), and every expectation it declares holds."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ..cli.test_validate import amiscen
from ..conftest import sep_xsd_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*.yaml"))

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_meets_its_expectations(example: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    xsd = sep_xsd_path()
    env = {"AMISCEN_SEP_XSD": str(xsd)} if xsd else {}
    result = amiscen(
        "run",
        str(example),
        "--run-dir",
        str(tmp_path / "run"),
        "--certs",
        str(tmp_path / "certs"),
        "--junit",
        str(junit),
        "--record",
        str(tmp_path / "record.jsonl"),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if xsd is not None:  # the head-end validated every body the meters sent
        assert "[ok] max_schema_invalid: 0 bodies failed sep.xsd" in result.stdout
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests") or 0) >= 3
    run = tmp_path / "run"
    for log in ("ami_simulator.log", "ieee2030_5.log", "meter_readings.log", "summary.txt", "headend.db"):
        assert (run / log).exists(), log
    with sqlite3.connect(run / "headend.db") as db:
        stored = db.execute("SELECT count(*) FROM reading").fetchone()[0]
    assert f"the head-end stored {stored:,} (each exactly once)" in result.stdout
    assert (tmp_path / "record.jsonl").read_text().count("\n") > 10
    status = amiscen("status", str(run))
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"{run}: finished; ") and "expectations all held" in status.stdout


def test_campus_first_hours(tmp_path: Path) -> None:
    result = amiscen(
        "run",
        "scenarios/campus_utcc.yaml",
        "--duration",
        "1h",
        "--run-dir",
        str(tmp_path / "run"),
        "--certs",
        str(tmp_path / "certs"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "meters: 25/25 connected" in result.stdout
    # 10 consumers x 6 quantities + 3 PV-only x 7 + 12 PV with battery x 9 = 189 per interval, 240 intervals
    assert "[ok] all_readings_delivered: 45,360 of 45,360 readings delivered" in result.stdout


def test_a_failed_expectation_exits_1(tmp_path: Path) -> None:
    scenario = tmp_path / "strict.yaml"
    text = (ROOT / "examples" / "smoke_3_meters.yaml").read_text()
    scenario.write_text(
        text.replace("  max_http_4xx: 0\n", "  max_http_4xx: 0\n  min_dr_reduction_kw: {}\n")
        .replace(
            "buildings:",
            "events:\n  - {type: demand_response, id: DR_X, start: +10m, "
            "duration: 10m, target_reduction: {kw: 5000}}\nbuildings:",
            1,
        )
        .replace("  min_dr_reduction_kw: {}", "  min_dr_reduction_kw: {DR_X: 4000}")
    )
    result = amiscen("run", str(scenario), "--run-dir", str(tmp_path / "run"), "--certs", str(tmp_path / "certs"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[FAIL] min_dr_reduction_kw[DR_X]: measured" in result.stdout


def test_dry_run_records_every_exchange_without_a_network(tmp_path: Path) -> None:
    import json

    run = tmp_path / "run"
    result = amiscen(
        "run", "examples/smoke_3_meters.yaml", "--dry-run", "--run-dir", str(run), "--certs", str(tmp_path / "certs")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(line) for line in (run / "record.jsonl").read_text().splitlines()]
    assert len(records) > 100
    assert all(r["url"].startswith("local:/") for r in records)
    posts = [r for r in records if r["method"] == "POST" and "<MirrorMeterReadingList" in r["request"]]
    assert posts and all(r["status"] == 201 for r in posts)

"""`amiscen locust`: a Locust master and two workers, as separate processes on loopback, play a short fleet
against the embedded head-end (`amiscen serve`, mutual TLS); every reading arrives, each meter is played once."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from amiscen.scenario import load_scenario
from amiscen.scenario.model import meters

from ..fixtures import HANG, start_serve

# never imported here: Locust patches the whole process with gevent
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="the scale extra is not installed"),
]
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "demand_response.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _amiscen(args: list[str], cwd: Path, log: Path | None = None) -> subprocess.Popen[str]:
    """A process; its output to ``log`` (a file: a pipe nobody reads would fill and stall it) or to pipes."""
    out = log.open("w") if log else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-m", "amiscen", *args],
        cwd=cwd,
        stdout=out,
        stderr=subprocess.STDOUT if log else subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def test_master_and_two_workers_deliver_every_reading(tmp_path: Path) -> None:
    certs, run = tmp_path / "certs", tmp_path / "run"
    serve, url = start_serve(
        [str(SCENARIO), "--port", "0", "--db", str(tmp_path / "headend.db"), "--certs", str(certs), "--pace", "fast"],
        tmp_path,
    )
    assert serve.stderr is not None  # the head-end logs every request: keep its pipe drained
    threading.Thread(target=serve.stderr.read, daemon=True).start()
    port = _free_port()
    common = [
        str(SCENARIO),
        "--gateway",
        url,
        "--certs",
        str(certs),
        "--run-dir",
        str(run),
        "--pace",
        "fast",
        "--duration",
        "30m",
    ]
    try:
        master = _amiscen(
            [
                "locust",
                *common,
                "--",
                "--master",
                "--expect-workers",
                "2",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
            ],
            tmp_path,
        )
        workers = [
            _amiscen(
                ["locust", *common, "--", "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                tmp_path,
                tmp_path / f"worker{i}.log",
            )
            for i in range(2)
        ]
        out, err = master.communicate(timeout=HANG)
        for w in workers:
            w.wait(timeout=HANG)
    finally:
        serve.terminate()
        serve.communicate(timeout=HANG)
    assert master.returncode == 0, out + err[-3000:]
    fleet = meters(load_scenario(SCENARIO).scenario)
    summary = json.loads((run / "locust-summary.json").read_text())
    reports = summary["reports"]
    assert sorted(r["meter"] for r in reports) == sorted(m.id for m in fleet)  # each meter once
    assert len({r["worker"] for r in reports}) == 2  # both workers played meters
    generated = sum(r["generated"] for r in reports)
    # 30 minutes at 15 s: 120 intervals; 4 PV+battery meters x 9 quantities + 3 consumers x 6
    assert generated == 120 * (4 * 9 + 3 * 6)
    assert sum(r["delivered"] for r in reports) == generated
    with sqlite3.connect(tmp_path / "headend.db") as db:
        assert db.execute("SELECT count(*) FROM reading").fetchone()[0] == generated
    assert f"played {len(fleet)} of {len(fleet)} meters" in out
    with (run / "locust_stats.csv").open() as handle:
        rows = {r["Name"]: r for r in csv.DictReader(handle)}
    assert int(rows["/mup/{id}"]["Request Count"]) >= len(fleet) and rows["Aggregated"]["Failure Count"] == "0"


def test_twenty_thousand_meters_from_one_line(tmp_path: Path) -> None:
    """A building type scaled by `count`: twenty thousand meters from one line, none written out."""
    text = SCENARIO.read_text()
    big = tmp_path / "big.yaml"
    assert "count: 3\n" in text
    big.write_text(text.replace("count: 3\n", "count: 20000\n").replace("{n:03d}", "{n:05d}"))
    fleet = meters(load_scenario(big).scenario)
    assert len(fleet) == 20004 and len({m.id for m in fleet}) == len(fleet)
    assert fleet[-1].id == "AMI_METER_DR_20004" and fleet[-1].building_type == "administrative"

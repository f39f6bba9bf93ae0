"""Real certificates and a real head-end on loopback, for tests that speak TLS."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.server import HeadendServer
from amiscen.gateway.store import Store
from amiscen.gateway.tls import server_context
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings

T0 = 1_772_384_400  # 2026-03-02T00:00:00+07:00
# The longest a test waits for a process or a server: a guard against a hang, never a speed check. A slow or busy
# machine finishes far inside it; what a test measures is asserted on what happened, not on how long it took.
HANG = 1800
METERS = ["AMI_METER_T_001", "AMI_METER_T_002", "AMI_METER_T_003"]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    root = tmp_path_factory.mktemp("pki") / "certs"
    fleet.generate(Layout(root), METERS, network_id="TEST", hosts=[], now=dt.datetime.now(dt.timezone.utc))
    return Layout(root)


@dataclass
class Running:
    server: HeadendServer
    app: Headend
    clock: SimClock
    layout: Layout

    def session(self, meter_id: str, tls: TlsSettings | None = None) -> MeterSession:
        lay = self.layout
        return MeterSession(
            self.server.url,
            Credentials(lay.meter_cert(meter_id), lay.meter_key(meter_id), lay.ca_cert),
            tls or TlsSettings(),
            HANG,
            HANG,
        )

    def identity(self, meter_id: str) -> fleet.Identity:
        return fleet.read_index(self.layout)[meter_id]


@pytest.fixture
def headend(pki: Layout, tmp_path: Path) -> Iterator[Running]:
    clock = SimClock(T0, Pace(None))
    app = Headend(Store(tmp_path / "headend.db"), clock, HeadendConfig())
    server = HeadendServer(app, server_context(pki), pki.crl, port=0).start()
    try:
        yield Running(server, app, clock, pki)
    finally:
        server.stop()
        app.store.close()


def start_serve(args: list[str], root: Path) -> tuple[subprocess.Popen[str], str]:
    """`amiscen serve ARGS` as a separate process; returns it and its base URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amiscen", "serve", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert process.stderr is not None
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "amiscen head-end at " in line:
            return process, line.split("amiscen head-end at ", 1)[1].split("/dcap", 1)[0]
    process.kill()
    raise AssertionError("the head-end did not start")


def stored_readings(db: Path) -> int:
    """Readings a head-end's database holds so far, read from another process (0 before it has its tables)."""
    if not db.exists():
        return 0
    with sqlite3.connect(db) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM reading").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def wait_while_running(process: subprocess.Popen[Any], condition: Callable[[], bool], what: str) -> None:
    """Until ``condition`` holds, while ``process`` (a run) still goes: an event, not an amount of wall time."""
    deadline = time.monotonic() + HANG
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)

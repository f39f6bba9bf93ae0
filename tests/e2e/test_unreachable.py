"""issue #19: against a gateway no meter can reach, the first failure of each class is told as it happens with its
fix, and the run stops once no meter has connected for gateway.timeouts.give_up, with exit 1 and the reason."""

from __future__ import annotations

import dataclasses
import io
import socket
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.play.session import RunOptions, play
from amiscen.play.status import run_status
from amiscen.scenario import load_scenario

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again at once: nobody listens there


def test_no_meter_connects_the_run_stops_and_says_why(tmp_path: Path) -> None:
    loaded = load_scenario(ROOT / "examples" / "smoke_3_meters.yaml")
    url = f"https://127.0.0.1:{_closed_port()}"
    gateway = loaded.scenario.gateway.model_copy(update={"url": url})
    loaded = dataclasses.replace(loaded, scenario=loaded.scenario.model_copy(update={"gateway": gateway}))
    told = io.StringIO()
    options = RunOptions(pace=Pace(None), run_dir=tmp_path / "run", certs_dir=tmp_path / "certs", notices=told)
    outcome = play(loaded, options)
    assert not outcome.ok and not outcome.interrupted
    first = outcome.checks[0]
    assert first.name == "meters_connected" and not first.ok
    assert f"no meter could connect to {url} in 5 min" in first.detail and "amiscen test --gateway" in first.detail
    assert outcome.sim_seconds < 3600 / 2  # stopped, not played to the end of the hour
    lines = told.getvalue().splitlines()
    assert sum(line.startswith("first connect failure") for line in lines) == 1  # once per class, as it happened
    assert any(line.startswith("  hint: cannot connect") for line in lines)
    shown = run_status(outcome.run_dir).splitlines()  # `amiscen status`: each meter's last failure, not "-"
    assert sum(" connect: " in line for line in shown) == 3, shown

"""amiscen's locustfile: each Locust user is one meter of a scenario, its client that meter's mutual-TLS session.

Run it through `amiscen locust SCENARIO` (which also starts the embedded head-end when no gateway is given), or
directly on any machine that has the scenario and the certificates::

    AMISCEN_SCENARIO=campus.yaml AMISCEN_GATEWAY=https://gw:8443 AMISCEN_CERTS=certs \\
        locust -f $(python -c 'import amiscen.scale.locustfile as m; print(m.__file__)') --worker --master-host M

Nothing large crosses the wire: the master hands each user a meter's index in the scenario, and the worker
compiles that meter's timeline itself from (scenario, seed, meter id). Settings come from the environment:
AMISCEN_SCENARIO (required), AMISCEN_GATEWAY (required), AMISCEN_CERTS (default certs), AMISCEN_RUN_DIR (default
runs/locust), AMISCEN_PACE (default realtime), AMISCEN_DURATION (default: the scenario's).
"""

from __future__ import annotations

import os
import re
from typing import Any

import gevent
from gevent.event import AsyncResult
from locust import User, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from amiscen.scale.worker import WorkerState, write_summary

_ID = re.compile(r"/\d+")
STATE: WorkerState | None = None
_waiting: dict[int, AsyncResult] = {}
_claims = {"next": 0}
_reports: list[dict[str, Any]] = []


def _state() -> WorkerState:
    global STATE
    if STATE is None:
        STATE = WorkerState.from_environment(os.environ)
    return STATE


def _on_claim(environment: Any, msg: Any, **_: Any) -> None:
    """Master (or local runner): the next meter of the scenario for the asking user, None when all are taken."""
    total = _state().meter_count
    index = _claims["next"] if _claims["next"] < total else None
    _claims["next"] += index is not None
    environment.runner.send_message(
        "amiscen_meter",
        {"user": msg.data["user"], "index": index},
        client_id=None if msg.node_id == "local" else msg.node_id,
    )


def _on_meter(environment: Any, msg: Any, **_: Any) -> None:
    waiting = _waiting.pop(msg.data["user"], None)
    if waiting is not None:
        waiting.set(msg.data["index"])


def _on_done(environment: Any, msg: Any, **_: Any) -> None:
    """Master: when every meter has played its timeline and drained its outbox, the test is over."""
    _reports.append(msg.data)
    state = _state()
    if len(_reports) >= state.meter_count:
        write_summary(state.run_dir, state.meter_count, _reports)
        gevent.spawn_later(1.0, environment.runner.quit)


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        runner.register_message("amiscen_claim", _on_claim)
        runner.register_message("amiscen_done", _on_done)
    if not isinstance(runner, MasterRunner):
        runner.register_message("amiscen_meter", _on_meter)


@events.quitting.add_listener
def _quitting(environment: Any, **_: Any) -> None:
    """Master (or local runner) stopped before every meter finished: say what did happen."""
    if isinstance(environment.runner, WorkerRunner) or STATE is None:
        return
    if len(_reports) < STATE.meter_count:
        write_summary(STATE.run_dir, STATE.meter_count, _reports)


class MeterUser(User):
    """One meter: claim it, play its whole timeline (pace from AMISCEN_PACE), drain its outbox, stop."""

    def on_start(self) -> None:
        self.state = _state()
        self.key = id(self)
        waiting = AsyncResult()
        _waiting[self.key] = waiting
        self.environment.runner.send_message("amiscen_claim", {"user": self.key})
        self.index: int | None = waiting.get(timeout=120)

    @task
    def play(self) -> None:
        if self.index is None:
            raise StopUser()  # more users than meters
        fire = self.environment.events.request.fire

        def record(meter: str, at: float, x: Any) -> None:
            path = _ID.sub("/{id}", x.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0])
            fire(
                request_type=x.method,
                name="/" + path,
                response_time=x.elapsed * 1000,
                response_length=len(x.response_body),
                exception=None if x.ok else RuntimeError(x.detail or x.failure or str(x.status)),
                context={"meter": meter},
            )

        report = self.state.play(self.index, record)
        self.environment.runner.send_message("amiscen_done", report)
        raise StopUser()

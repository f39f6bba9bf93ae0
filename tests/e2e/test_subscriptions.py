"""Meters that subscribe to their event lists instead of polling them (`updates: subscribe`), played through
`play()` against the embedded head-end over mutual TLS on loopback, in fast pace: the head-end's Notifications
(POSTed over mutual TLS to the run's listener) are sent at each moment an event changes, so these runs are the same
every time and never wait."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.gateway.app import Quirks
from amiscen.play.session import RunOptions, RunOutcome, play
from amiscen.scenario import load_scenario

pytestmark = pytest.mark.e2e

SCENARIO = """\
schema_version: 1
name: subscribers
time: {start: 2026-03-02T11:00:00+07:00, duration: 1h, reading_interval: 60s, seed: 5}
function_sets:
  mirror_usage_point: {post_rate: 120s}
  demand_response: {polling_rate: 60s, updates: subscribe}
  der: {polling_rate: 60s, updates: subscribe}
buildings:
  - name: roof
    type: support
    peak_kw: 20
    meters:
      - {id: SUB_PROSUMER, pv: {kwp: 80}, battery: {kwh: 50, kw: 10}}
      - {id: SUB_PLAIN}
events:
  - {type: der_control, id: CANCELLED, start: +10m, duration: 30m, control: {type: connect, connected: false},
     cancel_at: +20m}
  - {type: demand_response, id: SHED, start: +30m, duration: 10m, target_reduction: {percent: 10}}
"""
CANCEL_AT = "2026-03-02T04:20"  # +20m, in UTC as the logs write it


def run(tmp_path: Path, certs: Path, quirks: Quirks | None = None, dry_run: bool = False) -> RunOutcome:
    path = tmp_path / "subscribers.yaml"
    path.write_text(SCENARIO)
    options = RunOptions(
        pace=Pace(None),
        run_dir=tmp_path / "run",
        certs_dir=certs,
        quirks=quirks or Quirks(),
        workers=2,
        dry_run=dry_run,
    )
    return play(load_scenario(path), options)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sub-certs") / "certs"


def _log(outcome: RunOutcome, name: str) -> str:
    return (outcome.run_dir / name).read_text(encoding="utf-8")


def _gets_of_der_controls(outcome: RunOutcome) -> int:
    return len(re.findall(r" SUB_PROSUMER GET \S+/derc ", _log(outcome, "ieee2030_5.log")))


def _cancel_answer(outcome: RunOutcome) -> str:
    """The simulated time (UTC, to the second) the prosumer answered the cancelled control 6."""
    match = re.search(
        r"^(\S+) INFO SUB_PROSUMER response 6 to der event CANCELLED$", _log(outcome, "ami_simulator.log"), re.M
    )
    assert match is not None, _log(outcome, "ami_simulator.log")
    return match.group(1)


def test_subscribed_meters_learn_of_a_cancel_from_a_notification_not_a_poll(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs)
    assert outcome.ok, outcome.summary
    m = outcome.metrics
    assert m.subscriptions == 3  # the prosumer: DR and DER lists; the plain meter: DR only
    assert m.notifications >= 4  # the control listed, active, cancelled; the DR event active, over
    # the cancel reached the meter at once (its polls come every 15 minutes, with DeviceCapability's pollRate)
    assert _cancel_answer(outcome) == CANCEL_AT + ":00Z"
    assert m.responses["CANCELLED"]["SUB_PROSUMER"] == [1, 2, 6]
    assert sorted(m.responses["SHED"]) == ["SUB_PLAIN", "SUB_PROSUMER"]
    assert all(codes == [1, 2, 3] for codes in m.responses["SHED"].values())
    # the DERControlList was read when the meter connected and at each DeviceCapability refresh: not every minute
    assert _gets_of_der_controls(outcome) <= 5
    assert "subscriptions: 3 to event lists" in outcome.summary
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:  # the meters unsubscribed when the run ended
        assert db.execute("SELECT count(*) FROM subscription").fetchone()[0] == 0


def test_a_head_end_without_subscriptions_is_polled(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(subscriptions=False))
    assert outcome.ok, outcome.summary
    assert outcome.metrics.subscriptions == 0 and outcome.metrics.notifications == 0
    assert any("no SubscriptionListLink" in note and "polling it" in note for note in outcome.metrics.notes)
    assert CANCEL_AT + ":00Z" < _cancel_answer(outcome) <= CANCEL_AT + ":59Z"  # found by a poll within its minute
    assert outcome.metrics.responses["CANCELLED"]["SUB_PROSUMER"] == [1, 2, 6]
    assert _gets_of_der_controls(outcome) >= 50


def test_a_dry_run_polls_and_says_so(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, dry_run=True)
    assert outcome.ok, outcome.summary
    assert outcome.metrics.subscriptions == 0
    assert any("no Notifications without a network" in note for note in outcome.metrics.notes)
    assert outcome.metrics.responses["CANCELLED"]["SUB_PROSUMER"] == [1, 2, 6]

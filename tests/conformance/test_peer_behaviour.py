"""The meters against head-ends that differ from ours (issue #14): the embedded head-end is switched to behave as
other servers were seen to behave (envoy, CACTUS's server, py20305's), one behaviour per test, and the meters must
connect, deliver every reading once and answer every control correctly. Each test plays a short scenario through
`play()` over mutual TLS on loopback, in fast pace (simulated time, no waiting)."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from amiscen.clock import Pace
from amiscen.gateway.app import EMULATIONS, Quirks
from amiscen.play.session import RunOptions, RunOutcome, play
from amiscen.runner import messages
from amiscen.runner.client import Identity, MeterClient, RequestFailed
from amiscen.runner.quantities import quantities as all_quantities
from amiscen.scenario import load_scenario
from amiscen.sep.ids import registration_pin
from amiscen.sep.render import render_bytes

from ..fixtures import METERS, T0, Running

pytestmark = pytest.mark.e2e

SCENARIO = """\
schema_version: 1
name: peers
gateway: {{profile: {profile}, registration: {registration}}}
time: {{start: 2026-03-02T11:00:00+07:00, duration: 40m, reading_interval: 60s, seed: 5}}
function_sets:
  mirror_usage_point: {{post_rate: 120s}}
  demand_response: {{polling_rate: 60s}}
  der: {{polling_rate: 60s}}
  device_capability: {{polling_rate: 300s}}
buildings:
  - name: roof
    type: support
    peak_kw: 20
    meters:
      - {{id: PEER_PROSUMER, pv: {{kwp: 80}}, battery: {{kwh: 50, kw: 10}}}}
      - {{id: PEER_PLAIN}}
events:
{events}
"""
CONNECT = """\
  - {type: der_control, id: DISCONNECT, start: +10m, duration: 10m, control: {type: connect, connected: false}}
"""
CANCELLED = """\
  - {type: der_control, id: CANCELLED, start: +10m, duration: 20m, control: {type: connect, connected: false},
     cancel_at: +15m}
"""
ENVELOPE = """\
  - {type: der_control, id: EXPORT_LIMIT, start: +10m, duration: 20m, control: {type: envelope, export_kw: 2}}
"""


def run(
    tmp_path: Path,
    certs: Path,
    quirks: Quirks,
    events: str = CONNECT,
    profile: str = "sep2018",
    registration: str = "{}",
) -> RunOutcome:
    path = tmp_path / "peers.yaml"
    path.write_text(SCENARIO.format(profile=profile, registration=registration, events=events))
    options = RunOptions(pace=Pace(None), run_dir=tmp_path / "run", certs_dir=certs, quirks=quirks, workers=2)
    return play(load_scenario(path), options)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("peer-certs") / "certs"


def assert_healthy(outcome: RunOutcome) -> None:
    """Both meters connected, every reading delivered and stored once, and no failure amiscen could have avoided."""
    m = outcome.metrics
    assert sorted(k for k, v in m.meters.items() if v.connected_at is not None) == ["PEER_PLAIN", "PEER_PROSUMER"]
    assert m.generated > 0 and m.delivered == m.generated
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:
        assert db.execute("SELECT count(*) FROM reading").fetchone()[0] == m.generated
    avoidable = {k: n for k, n in m.failures.items() if k in ("protocol", "internal", "registration", "http_4xx")}
    assert avoidable == {}, [n for n in m.notes]


def responses(outcome: RunOutcome, event: str) -> list[int]:
    return outcome.metrics.responses[event]["PEER_PROSUMER"]


def test_lower_case_header_names(tmp_path: Path, certs: Path) -> None:
    """uvicorn (envoy) sends `location`: header names are case-insensitive (RFC 9110 section 5.1)."""
    outcome = run(tmp_path, certs, Quirks(lowercase_headers=True))
    assert_healthy(outcome)


def test_a_random_registration_pin_is_reported_not_refused(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(random_pin=True))
    assert_healthy(outcome)
    assert sum("Registration pIN" in n and "going on" in n for n in outcome.metrics.notes) == 2


def test_a_static_pin_given_in_the_scenario_is_verified(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(pin=297974), registration="{pin: 297976, pin_policy: verify}")
    assert_healthy(outcome)  # the CACTUS reading of the check digit: the same PIN


def test_a_pin_mismatch_under_verify_is_a_registration_failure(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(pin=123453), registration="{pin: 297976, pin_policy: verify}")
    m = outcome.metrics
    assert not any(v.connected_at for v in m.meters.values())
    assert set(m.failures) == {"registration"}
    assert "not this meter's PIN 297976: refusing to trust this server" in m.meters["PEER_PLAIN"].last_failure


def test_server_ids_not_starting_at_one(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(first_id=2))
    assert_healthy(outcome)
    assert "/mup/2" in (outcome.run_dir / "ieee2030_5.log").read_text()


def test_der_programs_only_through_function_set_assignments(tmp_path: Path, certs: Path) -> None:
    """envoy links DER programs from the EndDevice's FSA only; DER polling must survive every DeviceCapability
    refresh (it died at the first one, 15 minutes in) and the control is answered 1 -> 2 -> 3."""
    outcome = run(tmp_path, certs, Quirks(der_programs_in_dcap=False))
    assert_healthy(outcome)
    assert responses(outcome, "DISCONNECT") == [1, 2, 3]


def _client(headend: Running, meter_id: str) -> MeterClient:
    ident = headend.identity(meter_id)
    return MeterClient(
        Identity(meter_id, ident.lfdi, ident.sfdi, 32473, 0, registration_pin(meter_id)),
        headend.session(meter_id),
        lambda meter, at, x: None,
    )


def test_a_meter_restarted_against_a_server_that_upserts_mirrors_with_204(headend: Running) -> None:
    """envoy answers the POST of a MirrorUsagePoint that exists with 204 + Location: a restarted meter (or a run
    after `amiscen test`) must take that Location, not fail for want of a 201."""
    headend.app.config = dataclasses.replace(headend.app.config, quirks=Quirks(mirror_upsert=204))
    quantities = all_quantities(60, False, False)
    first = _client(headend, METERS[0])
    first.discover(T0)
    created = first.ensure_mirror(quantities, 60, 0x13)
    again = _client(headend, METERS[0])  # the same meter after a restart
    again.discover(T0)
    assert again.ensure_mirror(quantities, 60, 0x13) == created


def test_a_duplicate_end_device_answered_409_is_found_again(headend: Running) -> None:
    """envoy answers 409 to the POST of an EndDevice that exists; the meter finds its EndDevice and goes on."""
    headend.app.config = dataclasses.replace(headend.app.config, quirks=Quirks(duplicate_end_device=409))
    first = _client(headend, METERS[1])
    first.discover(T0)
    again = _client(headend, METERS[1])
    x = again.exchange(
        "POST", "/edev", render_bytes(messages.end_device(again.id.lfdi, again.id.sfdi, again.id.device_category))
    )
    assert x.status == 409
    assert again._registered("/edev", x) == first.links.end_device


def test_links_that_change_while_meters_run(headend: Running) -> None:
    """DeviceCapability stops linking the unscoped DER programs (only the FSA links them, as each device sees
    them): a refresh drops the link that went; when the server's answer fails, the links found before are kept."""
    headend.app.config = dataclasses.replace(headend.app.config, quirks=Quirks(der_programs_in_dcap=True))
    client = _client(headend, METERS[2])
    client.discover(T0)
    scoped = f"{client.links.end_device}/derp"
    assert sorted(client.links.der_programs) == sorted(["/derp", scoped])
    headend.app.config = dataclasses.replace(headend.app.config, quirks=Quirks(der_programs_in_dcap=False))
    client.refresh()
    assert client.links.der_programs == [scoped]  # through the FunctionSetAssignments
    headend.server.stop()
    with pytest.raises(RequestFailed):
        client.refresh()
    assert client.links.der_programs == [scoped] and client.links.end_device


def test_a_control_cancelled_mid_flight(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(der_programs_in_dcap=False), events=CANCELLED)
    assert_healthy(outcome)
    assert responses(outcome, "CANCELLED") == [1, 2, 6]
    # PV (4th column) is off from the start (+10m) until the meter saw the cancel (+15m, polled each minute), and
    # on again from then: the cancel ends the control, it does not undo it for intervals not yet posted
    start = 1_772_424_000
    pv = {
        int(f[0]) - start: float(f[3])
        for f in (line.split(",") for line in (outcome.run_dir / "meter_readings.log").read_text().splitlines())
        if f[1] == "PEER_PROSUMER"
    }
    assert pv[540] > 0 and all(pv[t] == 0 for t in range(600, 900, 60)) and pv[960] > 0 and pv[1200] > 0


def test_a_server_clock_ahead_of_the_meters(tmp_path: Path, certs: Path) -> None:
    """The meters keep an offset to the server's Time, stamp what they send with the server's clock, and act on
    event times as the server's: the control (+10m to +20m on the server's clock) runs from +0m to +10m of the
    meters' own clock, 600 s behind."""
    outcome = run(tmp_path, certs, Quirks(clock_offset=600))
    assert_healthy(outcome)
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:
        created = dict(db.execute("SELECT status, created FROM response"))
    start = 1_772_424_000
    # started when first seen (the meter boots 39 s in, after the mapped start), completed at the server's +20m
    assert start + 600 <= created[2] < start + 660 and created[3] == start + 1200


def test_csipaus_server_with_a_csipaus_meter(tmp_path: Path, certs: Path) -> None:
    """CSIP-AUS elements in bodies: the meter PUTs its ConnectionPoint and doeModesSupported (the server refuses a
    DERCapability without it), applies the export limit at the connection point, and answers 1 -> 2 -> 3."""
    outcome = run(tmp_path, certs, EMULATIONS["envoy"], events=ENVELOPE, profile="csip-aus")
    assert_healthy(outcome)
    assert responses(outcome, "EXPORT_LIMIT") == [1, 2, 3]
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:
        kinds = {r[0] for r in db.execute("SELECT kind FROM der_resource")}
        mirrors = dict(db.execute("SELECT description, role_flags FROM mirror_usage_point"))
        der_readings = db.execute(
            "SELECT count(*) FROM reading r JOIN mirror_meter_reading m ON m.id = r.mmr_id "
            "JOIN mirror_usage_point u ON u.id = m.mup_id WHERE u.role_flags = 73"
        ).fetchone()[0]
    assert {"cp", "dercap", "derg"} <= kinds
    # the site mirrors roleFlags 03, the prosumer's DER its own mirror with 49 (W, var, V and Hz every interval)
    assert mirrors == {"PEER_PROSUMER": 0x03, "PEER_PLAIN": 0x03, "PEER_PROSUMER DER": 0x49}
    assert der_readings == 4 * 40


def test_a_csipaus_control_is_not_applicable_to_a_sep2018_meter(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, Quirks(), events=ENVELOPE, profile="sep2018")
    assert_healthy(outcome)
    assert responses(outcome, "EXPORT_LIMIT") == [1, 252]


def test_every_envoy_behaviour_at_once(tmp_path: Path, certs: Path) -> None:
    outcome = run(tmp_path, certs, dataclasses.replace(EMULATIONS["envoy"], clock_offset=30), profile="csip-aus")
    assert_healthy(outcome)
    assert responses(outcome, "DISCONNECT") == [1, 2, 3]


BACK_TO_BACK = """\
  - {type: der_control, id: FIRST, start: +10m, duration: 2m, control: {type: connect, connected: false}}
  - {type: der_control, id: SECOND, start: +12m30s, duration: 2m, control: {type: connect, connected: false}}
"""


def test_a_control_starting_between_two_polls_is_answered_at_its_start(tmp_path: Path, certs: Path) -> None:
    """The meter polls each minute; SECOND starts 30 s after FIRST ends, between two polls: "started" is posted at
    its start (the tick at FIRST's end schedules the next), not at the next poll, 9 s later."""
    outcome = run(tmp_path, certs, Quirks(), events=BACK_TO_BACK)
    assert_healthy(outcome)
    with sqlite3.connect(outcome.run_dir / "headend.db") as db:
        times = sorted(db.execute("SELECT status, created - 1772424000 FROM response WHERE status IN (2, 3)"))
    assert times == [(2, 600), (2, 750), (3, 720), (3, 870)]

"""The embedded head-end in a process of its own (issue #16): it follows the fleet's clock, answers each meter at
its own time where the fleet runs meters ahead of each other, reports what it counted, and never outlives its run."""

from __future__ import annotations

import dataclasses
import gc
import mmap
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from amiscen.clock import ClockMirror, FollowingClock, Pace, SimClock
from amiscen.errors import AmiscenError
from amiscen.gateway.app import HeadendConfig
from amiscen.gateway.utility import UtilityEvent
from amiscen.pki.layout import Layout
from amiscen.play.headend_process import HeadendError, HeadendGone, HeadendProcess, HeadendSpec
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings
from amiscen.sep.model.device import Time
from amiscen.sep.parse import parse_as
from tests.fixtures import HANG, METERS, T0


def _mirror(slots: int = 0) -> ClockMirror:
    return ClockMirror(bytearray(ClockMirror.size(slots)))


def test_a_following_clock_reads_the_time_of_the_clock_it_follows() -> None:
    fleet = SimClock(T0, Pace(None))
    mirror = _mirror()
    fleet.share(mirror)
    follower = FollowingClock(mirror, Pace(None))
    assert follower.now() == T0
    fleet.advance_to(T0 + 900)
    assert follower.now() == T0 + 900
    fleet.advance_to(T0 + 10)  # fast pace never goes back
    assert follower.now() == T0 + 900
    with pytest.raises(TypeError):
        follower.advance_to(T0 + 1000)


def test_at_a_pace_it_runs_from_the_same_anchor_on_the_machines_clock() -> None:
    fleet = SimClock(T0, Pace(10.0))
    mirror = _mirror()
    fleet.share(mirror)
    fleet.anchor(T0 + 3600)
    follower = FollowingClock(mirror, Pace(10.0))
    before = fleet.now()
    seen = follower.now()
    after = fleet.now()
    assert T0 + 3600 <= before <= seen <= after


def test_a_clock_with_an_injected_wall_is_not_shared() -> None:
    with pytest.raises(ValueError, match="monotonic"):
        SimClock(T0, Pace(1.0), wall=lambda: 0.0).share(_mirror())


def test_while_serving_a_meter_the_head_end_reads_that_meters_time() -> None:
    fleet = SimClock(T0, Pace(None))
    mirror = _mirror(2)
    fleet.share(mirror)
    follower = FollowingClock(mirror, Pace(None), {"A": 0, "B": 1})
    mirror.set_meter(0, T0 + 15)
    mirror.set_meter(1, T0 + 600)
    with follower.serving("B"):
        assert follower.now() == T0 + 600
    with follower.serving("A"):
        assert follower.now() == T0 + 15
    with follower.serving("not a meter of the run"):
        assert follower.now() == T0
    assert follower.now() == T0
    paced = FollowingClock(mirror, Pace(1.0), {"A": 0})  # realtime: every meter on the one clock
    with paced.serving("A"):
        assert paced.now() != T0 + 15


def test_a_torn_write_is_never_read() -> None:
    mirror = _mirror()
    mirror.publish(1.0, 2.0)
    assert mirror.read() == (1.0, 2.0)
    mirror.publish(3.0, 4.0)
    assert mirror.read() == (3.0, 4.0)


def _spec(pki: Layout, tmp_path: Path, events: list[UtilityEvent] | None = None) -> HeadendSpec:
    return HeadendSpec(
        db=tmp_path / "headend.db",
        config=HeadendConfig(),
        events=events or [],
        layout=pki,
        tls_version="1.2",
        ciphers=["ECDHE-ECDSA-AES128-CCM8"],
        pace=Pace(None),
        slots={m: i for i, m in enumerate(METERS)},
    )


def _time(remote: HeadendProcess, pki: Layout, meter: str) -> int:
    credentials = Credentials(pki.meter_cert(meter), pki.meter_key(meter), pki.ca_cert)
    session = MeterSession(remote.url, credentials, TlsSettings(), HANG, HANG)
    try:
        x = session.send("GET", "/tm")
        assert x.status == 200, x
        return parse_as(x.response_body, Time).currentTime
    finally:
        session.close()


def test_the_process_serves_at_the_fleets_time_and_each_meters_own(pki: Layout, tmp_path: Path) -> None:
    clock = SimClock(T0, Pace(None))
    event = UtilityEvent("dr", "PEAK", "DR", 1, T0 + 3600, 1800, spec={})
    remote = HeadendProcess(_spec(pki, tmp_path, events=[event]), clock).start()
    try:
        assert remote.url.startswith("https://127.0.0.1:")
        remote.mirror.set_meter(0, T0 + 45)
        remote.mirror.set_meter(1, T0 + 7200)
        assert _time(remote, pki, METERS[0]) == T0 + 45
        assert _time(remote, pki, METERS[1]) == T0 + 7200
        assert remote.check_notifications() == 0  # no subscriptions: a round that sends nothing
    finally:
        stopped = remote.stop()
    assert stopped.schema_invalid == 0 and stopped.notifications_sent == 0 and stopped.cpu_seconds > 0
    assert remote.stop() is stopped  # once
    assert remote._process is not None and remote._process.returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "headend.db") as db:  # the events it was given are in its store
        assert db.execute("SELECT event_id FROM event").fetchall() == [("PEAK",)]


def test_a_head_end_that_cannot_start_says_why(pki: Layout, tmp_path: Path) -> None:
    """A start that fails unforeseen (its database is a directory) comes back with the process's traceback."""
    spec = dataclasses.replace(_spec(pki, tmp_path), db=tmp_path)
    with pytest.raises(HeadendError, match="did not start") as caught:
        HeadendProcess(spec, SimClock(T0, Pace(None))).start()
    assert "Traceback" in str(caught.value) and "sqlite3" in str(caught.value)


def test_a_head_end_without_certificates_says_so(tmp_path: Path) -> None:
    with pytest.raises(AmiscenError) as caught:
        HeadendProcess(_spec(Layout(tmp_path / "no-certs"), tmp_path), SimClock(T0, Pace(None))).start()
    assert "ca.pem: missing" in caught.value.message and "amiscen certs generate" in str(caught.value)


def test_a_head_end_refused_for_the_users_reason_says_that_reason(pki: Layout, tmp_path: Path) -> None:
    """A start refused for what the user can fix (here a damaged crl.pem) comes back as that usage error (exit 2),
    not as a traceback of the head-end's process (exit 3, "a bug")."""
    shutil.copytree(pki.root, tmp_path / "certs")
    damaged = Layout(tmp_path / "certs")
    damaged.crl.write_text("not a CRL\n")
    with pytest.raises(AmiscenError) as caught:
        HeadendProcess(_spec(damaged, tmp_path), SimClock(T0, Pace(None))).start()
    assert caught.value.exit_code == 2
    assert "crl.pem" in caught.value.message and "Traceback" not in str(caught.value)


def test_a_head_end_gone_while_serving_is_told_by_ended(pki: Layout, tmp_path: Path) -> None:
    remote = HeadendProcess(_spec(pki, tmp_path), SimClock(T0, Pace(None))).start()
    assert remote.ended() is None and remote._process is not None
    remote._process.kill()
    remote._process.wait(HANG)
    gone = remote.ended()
    assert isinstance(gone, HeadendGone)
    assert "killed by SIGKILL" in gone.message and "--resume" in str(gone)
    with pytest.raises(HeadendError):
        remote.stop()


def test_the_process_ends_when_its_run_goes_away(pki: Layout, tmp_path: Path) -> None:
    """A run killed outright (no stop): the head-end's channel closes and it stops by itself."""
    script = f"""
import sys
from pathlib import Path
from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import HeadendConfig
from amiscen.pki.layout import Layout
from amiscen.play.headend_process import HeadendProcess, HeadendSpec
spec = HeadendSpec(Path({str(tmp_path / "orphan.db")!r}), HeadendConfig(), [], Layout(Path({str(pki.root)!r})), "1.2",
                   ["ECDHE-ECDSA-AES128-CCM8"], Pace(None))
remote = HeadendProcess(spec, SimClock(0, Pace(None))).start()
print(remote._process.pid, flush=True)
sys.stdin.read()
"""
    run = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert run.stdout is not None
    child = int(run.stdout.readline())
    os.kill(run.pid, signal.SIGKILL)
    run.wait(HANG)
    # the orphan sees its channel close and exits: wait for that on a pidfd (it is not this process's child)
    try:
        pidfd = os.pidfd_open(child)
    except ProcessLookupError:
        return  # gone already
    try:
        ready, _, _ = select.select([pidfd], [], [], HANG)
    finally:
        os.close(pidfd)
    assert ready, "the head-end outlived its run"


def test_the_clock_file_is_shared_memory(tmp_path: Path) -> None:
    """What the process maps: the same bytes the fleet writes."""
    with tempfile.TemporaryFile() as f:
        f.truncate(ClockMirror.size(1))
        a = mmap.mmap(f.fileno(), 0)
        b = mmap.mmap(f.fileno(), 0)
        ClockMirror(a).publish(5.0, 6.0)
        ClockMirror(a).set_meter(0, 7.0)
        assert ClockMirror(b).read() == (5.0, 6.0) and ClockMirror(b).meter(0) == 7.0


def test_a_head_end_that_died_is_told_at_the_stop(pki: Layout, tmp_path: Path) -> None:
    remote = HeadendProcess(_spec(pki, tmp_path), SimClock(T0, Pace(None))).start()
    assert remote._process is not None
    remote._process.kill()
    remote._process.wait(HANG)
    with pytest.raises(HeadendError, match=r"its process ended \(exit code -9\)"):
        remote.check_notifications()
    with pytest.raises(HeadendError, match=r"its process ended \(exit code -9\)"):
        remote.stop()


def test_a_head_end_dropped_without_a_stop_stops_by_itself(pki: Layout, tmp_path: Path) -> None:
    """A run that fails after the head-end started and before it played never calls stop(): the process must not
    outlive the object."""
    remote = HeadendProcess(_spec(pki, tmp_path), SimClock(T0, Pace(None))).start()
    process = remote._process
    assert process is not None and process.poll() is None
    del remote
    gc.collect()
    assert process.wait(HANG) == 0

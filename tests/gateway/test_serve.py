"""`amiscen serve` as a process: it serves over mutual TLS, an operator adds and cancels an event while it runs
(meters see it at their next poll), SIGTERM stops it gracefully with a status summary, --status reads the db."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from amiscen.pki.layout import Layout
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings
from amiscen.sep.model.device import EndDevice
from amiscen.sep.model.events import DemandResponseProgramList, DERControlList, DERProgramList, EndDeviceControlList
from amiscen.sep.parse import parse_as
from amiscen.sep.render import render_bytes

from ..cli.test_validate import amiscen
from ..fixtures import HANG, METERS, T0, Running, start_serve

ROOT = Path(__file__).resolve().parents[2]


def test_serve_event_admin_and_graceful_stop(tmp_path: Path) -> None:
    db, certs = tmp_path / "headend.db", tmp_path / "certs"
    process, url = start_serve(
        ["examples/smoke_3_meters.yaml", "--port", "0", "--db", str(db), "--certs", str(certs), "--pace", "fast"], ROOT
    )
    try:
        layout = Layout(certs)
        meter = "AMI_METER_SMOKE_001"
        session = MeterSession(
            url,
            Credentials(layout.meter_cert(meter), layout.meter_key(meter), layout.ca_cert),
            TlsSettings(),
            HANG,
            HANG,
        )
        from amiscen.pki.fleet import read_index

        ident = read_index(layout)[meter]
        assert (
            session.send(
                "POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
            ).status
            == 201
        )
        assert session.send("GET", "/dr").status == 200
        added = amiscen(
            "event",
            "add",
            "OPERATOR_DR",
            "--db",
            str(db),
            "--start",
            "2026-03-02T10:30:00+07:00",
            "--duration",
            "15m",
            "--kw",
            "20",
        )
        assert added.returncode == 0, added.stderr
        programs = parse_as(
            session.send("GET", "/dr", params={"s": 0, "l": 10}).response_body, DemandResponseProgramList
        )
        link = programs.DemandResponseProgram[0].EndDeviceControlListLink
        assert link is not None
        controls = parse_as(
            session.send("GET", link.href, params={"s": 0, "l": 10}).response_body, EndDeviceControlList
        )
        assert [c.description for c in controls.EndDeviceControl] == ["OPERATOR_DR"]
        cancelled = amiscen("event", "cancel", "OPERATOR_DR", "--db", str(db))
        assert cancelled.returncode == 0, cancelled.stderr
        listed = amiscen("event", "list", "--db", str(db))
        assert "OPERATOR_DR" in listed.stdout and "cancelled at" in listed.stdout
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=HANG)
        assert process.returncode == 0
        assert "devices registered: 1" in out
    finally:
        if process.poll() is None:
            process.kill()
    status = amiscen("serve", "--status", "--db", str(db))
    assert status.returncode == 0 and "devices registered: 1" in status.stdout


def test_serve_keeps_its_database_in_runs_not_the_working_directory(tmp_path: Path) -> None:
    """issue #19: `serve` wrote headend.db into whatever directory it was started from."""
    scenario = str(ROOT / "examples" / "smoke_3_meters.yaml")
    process, _ = start_serve([scenario, "--port", "0", "--certs", str(tmp_path / "certs")], tmp_path)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=HANG)
    assert (tmp_path / "runs" / "headend.db").is_file()
    assert not (tmp_path / "headend.db").exists()


def test_an_operator_publishes_any_der_control_fields(headend: Running) -> None:
    """issue #15: `amiscen event add` publishes a DERControl with any DERControlBase fields, CSIP-AUS limits
    included, in 2030.5's units; meters see it at their next poll."""
    meter = METERS[0]
    ident = headend.identity(meter)
    session = headend.session(meter)
    assert session.send("POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))).ok

    def add(event_id: str, *options: str) -> subprocess.CompletedProcess[str]:
        at = ["--start", "2026-03-02T10:30:00+07:00", "--duration", "15m"]
        return amiscen("event", "add", event_id, "--db", str(headend.app.store.path), *at, *options)

    added = add(
        "OPERATOR_DER",
        "--disconnect",
        "--max-w-percent",
        "40",
        "--ramp-s",
        "2.5",
        "--export-kw",
        "5",
        "--generation-kw",
        "12.5",
    )
    assert added.returncode == 0 and added.stdout == "added OPERATOR_DER\n", added.stderr
    headend.clock.advance_to(T0 + 10 * 3600)  # 10:00, when the control is listed (it was created an hour ahead)
    programs = parse_as(session.send("GET", "/derp", params={"s": 0, "l": 10}).response_body, DERProgramList)
    (program,) = programs.DERProgram
    assert program.DERControlListLink is not None and program.primacy == 1
    controls = parse_as(
        session.send("GET", program.DERControlListLink.href, params={"s": 0, "l": 10}).response_body, DERControlList
    )
    (control,) = controls.DERControl
    base = control.DERControlBase
    assert (base.opModConnect, base.opModMaxLimW, base.rampTms) == (False, 4000, 250)
    assert base.opModExpLimW is not None and base.opModExpLimW.watts == 5000
    assert base.opModGenLimW is not None and base.opModGenLimW.watts == 12500
    mixed = add("X", "--kw", "5", "--disconnect")
    assert mixed.returncode == 2
    assert mixed.stderr.startswith("a DR reduction (--kw, --percent) and DER options do not mix in one event")


def test_with_time_start_now_the_time_resource_is_the_wall_clock(tmp_path: Path) -> None:
    """The clock counts from when `time.start: now` was read, not from when serve was ready to listen."""
    import time

    from amiscen.sep.model.device import Time

    text = (ROOT / "examples" / "smoke_3_meters.yaml").read_text()
    scenario = tmp_path / "now.yaml"
    start_line = next(line for line in text.splitlines() if line.strip().startswith("start:"))
    scenario.write_text(text.replace(start_line, start_line.split("start:")[0] + "start: now", 1))
    db, certs = tmp_path / "headend.db", tmp_path / "certs"
    process, url = start_serve([str(scenario), "--port", "0", "--db", str(db), "--certs", str(certs)], ROOT)
    try:
        layout = Layout(certs)
        meter = "AMI_METER_SMOKE_001"
        session = MeterSession(
            url,
            Credentials(layout.meter_cert(meter), layout.meter_key(meter), layout.ca_cert),
            TlsSettings(),
            HANG,
            HANG,
        )
        before = time.time()
        served = parse_as(session.send("GET", "/tm").response_body, Time).currentTime
        after = time.time()
        # "now" is read to the second; the answer may be that much behind, never the start-up time
        assert before - 2 <= served <= after + 1, (before, served, after)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=HANG)


def test_the_start_up_time_is_not_lost() -> None:
    from amiscen.cli.serve import catch_up
    from amiscen.clock import Pace, SimClock

    wall = [500.0]
    clock = SimClock(T0, Pace.parse("realtime"), wall=lambda: wall[0])
    wall[0] = 518.0  # 18 s to generate certificates and publish events
    catch_up(clock, T0, loaded=500.0, now=518.0)
    assert clock.now() == T0 + 18
    fast = SimClock(T0, Pace.parse("fast"), wall=lambda: wall[0])
    catch_up(fast, T0, loaded=500.0, now=518.0)
    assert fast.now() == T0  # fast pace moves only when the run moves it


def test_event_default_changes_the_default_der_control_of_a_running_head_end(headend: Running) -> None:
    from amiscen.sep.model.events import DefaultDERControl

    session = headend.session(METERS[0])
    ident = headend.identity(METERS[0])
    edev = session.send("POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0)))
    db = headend.app.store.path
    done = amiscen("event", "default", "--db", str(db), "--export-kw", "5", "--grad-percent-per-s", "0.27")
    assert done.returncode == 0, done.stderr
    assert "opModExpLimW=5000" in done.stdout
    href = f"{edev.header('Location')}/derp"
    program = parse_as(session.send("GET", href).response_body, DERProgramList).DERProgram[0]
    default = parse_as(session.send("GET", program.DefaultDERControlLink.href).response_body, DefaultDERControl)
    limit = default.DERControlBase.opModExpLimW
    assert limit is not None and limit.value * 10**limit.multiplier == 5000 and default.setGradW == 27
    refused = amiscen("event", "default", "--db", str(db))
    assert refused.returncode == 2 and "at least one" in refused.stderr

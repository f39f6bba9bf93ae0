"""The head-end's CSIP-AUS profile and CSIP aggregators, as CACTUS checks them (real head-end, real certificates)."""

from __future__ import annotations

import dataclasses

import pytest

from amiscen.gateway.operator import Operator
from amiscen.gateway.routes.der import valid_nmi
from amiscen.sep.ids import sfdi_from_lfdi
from amiscen.sep.model.device import ConnectionPoint, DeviceCapability, EndDevice, EndDeviceList
from amiscen.sep.model.events import DefaultDERControl, DERControlList, DERProgramList
from amiscen.sep.model.misc import Response
from amiscen.sep.parse import parse_as
from amiscen.sep.render import render_bytes

from ..fixtures import METERS, Running

SITE = "0123456789ABCDEF0123456789ABCDEF01234567"  # a site device an aggregator registers


@pytest.fixture
def csipaus(headend: Running) -> Running:
    headend.app.config = dataclasses.replace(headend.app.config, profile="csip-aus")
    headend.app.csipaus = True
    return headend


def _register(h: Running, meter_id: str) -> tuple[int, str]:
    ident = h.identity(meter_id)
    x = h.session(meter_id).send(
        "POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
    )
    return x.status, x.header("Location") or ""


def test_the_profile_is_declared_on_device_capability(csipaus: Running) -> None:
    body = csipaus.session(METERS[0]).send("GET", "/dcap").response_body.decode()
    assert 'xmlns:csipaus="https://csipaus.org/ns"' in body
    parse_as(body, DeviceCapability)


def test_a_duplicate_registration_is_refused(csipaus: Running) -> None:
    assert _register(csipaus, METERS[0])[0] == 201
    assert _register(csipaus, METERS[0])[0] == 409


@pytest.mark.parametrize(
    ("nmi", "ok"),
    [
        ("4102000000", True),
        ("41020000002", True),
        ("41020000026", True),
        ("41020000027", False),
        ("NOTAVALIDID", False),
        ("41O2", False),
    ],
)
def test_a_connection_point_is_an_nmi(nmi: str, ok: bool) -> None:
    assert valid_nmi(nmi) is ok


def test_connection_point_put_creates_then_updates(csipaus: Running) -> None:
    _, edev = _register(csipaus, METERS[0])
    session = csipaus.session(METERS[0])
    first = session.send("PUT", f"{edev}/cp", render_bytes(ConnectionPoint(connectionPointId="41020000002")))
    assert (first.status, first.header("Location")) == (201, f"{edev}/cp")
    again = session.send("PUT", f"{edev}/cp", render_bytes(ConnectionPoint(connectionPointId="4102000002")))
    assert again.status == 204
    bad = session.send("PUT", f"{edev}/cp", render_bytes(ConnectionPoint(connectionPointId="NOTAVALIDID")))
    assert bad.status == 400


def test_an_aggregator_registers_and_acts_for_its_site_devices_only(csipaus: Running) -> None:
    agg = csipaus.identity(METERS[2])
    operator = Operator(csipaus.app)
    operator.register_aggregator(agg.lfdi)
    operator.ensure_der_program("site controls", 1)
    session = csipaus.session(METERS[2])
    site = EndDevice(sFDI=sfdi_from_lfdi(SITE), lFDI=SITE, changedTime=0)
    created = session.send("POST", "/edev", render_bytes(site))
    assert created.status == 201
    listed = parse_as(session.send("GET", "/edev", params={"l": 10}).response_body, EndDeviceList)
    own, registered = listed.EndDevice
    assert own.lFDI == agg.lfdi and own.SubscriptionListLink is not None and own.DERListLink is None
    assert registered.lFDI == SITE and registered.SubscriptionListLink is None and registered.DERListLink
    # a device certificate may not do the same
    _register(csipaus, METERS[0])
    other = EndDevice(sFDI=sfdi_from_lfdi(SITE[::-1]), lFDI=SITE[::-1], changedTime=0)
    assert csipaus.session(METERS[0]).send("POST", "/edev", render_bytes(other)).status == 403
    # and one device's DER programs are not another's
    edev = created.header("Location")
    assert session.send("GET", f"{edev}/derp").status == 200
    assert csipaus.session(METERS[0]).send("GET", f"{edev}/derp").status == 403


def test_responses_must_name_a_control_of_their_device(csipaus: Running) -> None:
    _, edev = _register(csipaus, METERS[0])
    ident = csipaus.identity(METERS[0])
    Operator(csipaus.app).publish_der_control({"opModConnect": False})
    session = csipaus.session(METERS[0])
    program = parse_as(session.send("GET", f"{edev}/derp").response_body, DERProgramList).DERProgram[0]
    control = parse_as(session.send("GET", program.DERControlListLink.href).response_body, DERControlList)
    mrid = control.DERControl[0].mRID

    def respond(subject: str) -> int:
        body = Response(createdDateTime=0, endDeviceLFDI=ident.lfdi, status=1, subject=subject)
        return session.send("POST", "/rsps/1/rsp", render_bytes(body)).status

    assert respond(mrid) == 201
    assert respond("FFFFFFFF") == 400

    reserved = Response(createdDateTime=0, endDeviceLFDI=ident.lfdi, status=15, subject=mrid)
    assert session.send("POST", "/rsps/1/rsp", render_bytes(reserved)).status == 400


def test_defaults_and_controls_go_to_the_program_of_the_primacy_asked(csipaus: Running) -> None:
    _, edev = _register(csipaus, METERS[0])
    operator = Operator(csipaus.app)
    operator.ensure_fsa("fsa1")
    operator.ensure_fsa("fsa2")
    operator.ensure_der_program("first", 1, "fsa1")
    operator.ensure_der_program("second", 2, "fsa2")
    operator.set_default_der_control({"opModExpLimW": 1500}, primacy=1)
    session = csipaus.session(METERS[0])
    programs = {
        p.primacy: p
        for f in (1, 2)
        for p in parse_as(session.send("GET", f"{edev}/fsa/{f}/derp").response_body, DERProgramList).DERProgram
    }
    assert sorted(programs) == [1, 2]
    default = parse_as(session.send("GET", programs[1].DefaultDERControlLink.href).response_body, DefaultDERControl)
    assert default.DERControlBase.opModExpLimW is not None
    second = parse_as(session.send("GET", programs[2].DefaultDERControlLink.href).response_body, DefaultDERControl)
    assert second.DERControlBase.opModExpLimW is None


def test_a_later_overlapping_control_of_the_program_supersedes_the_earlier(csipaus: Running) -> None:
    _, edev = _register(csipaus, METERS[0])
    operator = Operator(csipaus.app)
    start = csipaus.app.now()
    first = operator.publish_der_control({"opModExpLimW": 10000}, start=start + 600, duration=600)
    csipaus.clock.advance_to(start + 5)
    operator.publish_der_control({"opModExpLimW": 0}, start=start + 5, duration=700)  # created later, overlapping
    operator.publish_der_control({"opModExpLimW": 500}, start=start + 3600, duration=60)  # later, not overlapping
    session = csipaus.session(METERS[0])
    program = parse_as(session.send("GET", f"{edev}/derp").response_body, DERProgramList).DERProgram[0]
    listed = parse_as(
        session.send("GET", program.DERControlListLink.href, params={"l": 10}).response_body, DERControlList
    )
    status = {c.description: c.EventStatus.currentStatus for c in listed.DERControl}
    assert status[first.event_id[:32]] == 4  # superseded
    assert sorted(status.values()) == [0, 1, 4]  # the new one active, the far one scheduled


def test_an_active_control_published_later_supersedes_a_scheduled_one_published_earlier(csipaus: Running) -> None:
    """CACTUS S-ALL-41 step 9: the new control starts in the past ("active") but was created last: it wins."""
    _, edev = _register(csipaus, METERS[0])
    operator = Operator(csipaus.app)
    start = csipaus.app.now()
    scheduled = operator.publish_der_control({"opModExpLimW": 10000}, start=start + 600, duration=600)
    active = operator.publish_der_control({"opModExpLimW": 0}, start=start - 60, duration=700)  # the same second
    session = csipaus.session(METERS[0])
    program = parse_as(session.send("GET", f"{edev}/derp").response_body, DERProgramList).DERProgram[0]
    listed = parse_as(
        session.send("GET", program.DERControlListLink.href, params={"l": 10}).response_body, DERControlList
    )
    status = {c.description: c.EventStatus.currentStatus for c in listed.DERControl}
    assert (status[active.event_id[:32]], status[scheduled.event_id[:32]]) == (1, 4)

"""The operator API: what it changes, meters see over 2030.5 (real head-end on loopback, real certificates)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amiscen.gateway.operator_api import OperatorServer
from amiscen.sep.model.device import DeviceCapability, EndDevice, EndDeviceList, Registration
from amiscen.sep.model.events import DefaultDERControl, DERControlList, DERCurve, DERProgramList
from amiscen.sep.model.metering import MirrorUsagePointList
from amiscen.sep.parse import parse_as
from amiscen.sep.xsd import validator

from ..fixtures import METERS, T0, Running


@pytest.fixture
def operator(headend: Running) -> Iterator[OperatorServer]:
    server = OperatorServer(headend.app).start()
    yield server
    server.stop()


def call(op: OperatorServer, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(op.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_listens_on_loopback_only(operator: OperatorServer) -> None:
    assert operator.server_address[0] == "127.0.0.1"


def test_out_of_band_registration_is_what_the_device_discovers(headend: Running, operator: OperatorServer) -> None:
    ident = headend.identity(METERS[0])
    status, answer = call(operator, "PUT", "/EndDevice", {"lfdi": ident.lfdi.lower(), "pin": 111115})
    assert status == 200 and answer["href"].startswith("/edev/")
    session = headend.session(METERS[0])
    listed = parse_as(session.send("GET", "/edev", params={"l": 10}).response_body, EndDeviceList)
    assert [(d.lFDI, d.sFDI) for d in listed.EndDevice] == [(ident.lfdi, ident.sfdi)]
    rg = parse_as(session.send("GET", answer["href"] + "/rg").response_body, Registration)
    assert rg.pIN == 111115
    call(operator, "PUT", "/EndDevice", {"lfdi": ident.lfdi, "registered": False})
    assert parse_as(session.send("GET", "/edev").response_body, EndDeviceList).all == 0


def test_der_control_and_default_reach_the_device(headend: Running, operator: OperatorServer) -> None:
    ident = headend.identity(METERS[0])
    call(operator, "PUT", "/EndDevice", {"lfdi": ident.lfdi})
    call(operator, "PUT", "/DERProgram", {"program": "export limits", "primacy": 2})
    status, published = call(
        operator, "POST", "/DERControl", {"fields": {"opModExpLimW": 1500, "rampTms": 300}, "duration": 600}
    )
    assert status == 201 and published["start"] == T0
    call(operator, "PUT", "/DefaultDERControl", {"fields": {"opModExpLimW": 5000, "setGradW": 27}})
    session = headend.session(METERS[0])
    programs = parse_as(session.send("GET", "/derp", params={"l": 10}).response_body, DERProgramList)
    (program,) = programs.DERProgram
    assert program.primacy == 2
    controls = parse_as(session.send("GET", program.DERControlListLink.href, params={"l": 10}).response_body,
                        DERControlList)  # fmt: skip
    (control,) = controls.DERControl
    base = control.DERControlBase
    assert (base.opModExpLimW.value * 10**base.opModExpLimW.multiplier, base.rampTms) == (1500, 300)
    assert (control.interval.start, control.interval.duration) == (T0, 600)
    default = parse_as(session.send("GET", program.DefaultDERControlLink.href).response_body, DefaultDERControl)
    limit = default.DERControlBase.opModExpLimW
    assert limit.value * 10**limit.multiplier == 5000 and default.setGradW == 27
    assert default.DERControlBase.opModConnect is None  # the operator's fields, not amiscen's built-in default


def test_cancel_the_latest_or_all(headend: Running, operator: OperatorServer) -> None:
    for limit in (1000, 2000):
        call(operator, "POST", "/DERControl", {"fields": {"opModExpLimW": limit}})
    status, answer = call(operator, "POST", "/DERControl/cancel", {"all": False})
    assert status == 200 and len(answer["cancelled"]) == 1
    _, answer = call(operator, "POST", "/DERControl/cancel", {"all": True})
    assert len(answer["cancelled"]) == 1  # the one left


def test_poll_and_post_rates_change_while_running(headend: Running, operator: OperatorServer) -> None:
    ident = headend.identity(METERS[0])
    call(operator, "PUT", "/EndDevice", {"lfdi": ident.lfdi})
    session = headend.session(METERS[0])
    assert parse_as(session.send("GET", "/dcap").response_body, DeviceCapability).pollRate == 900
    call(operator, "PUT", "/pollRate", {"resource": "DeviceCapability", "seconds": 300})
    call(operator, "PUT", "/pollRate", {"resource": "MirrorUsagePointList", "seconds": 60})
    assert parse_as(session.send("GET", "/dcap").response_body, DeviceCapability).pollRate == 300
    mups = parse_as(session.send("GET", "/mup").response_body, MirrorUsagePointList)
    assert mups.pollRate == 60
    status, answer = call(operator, "PUT", "/pollRate", {"resource": "Nonsense", "seconds": 5})
    assert status == 400 and "Nonsense" in answer["error"]


def test_revoked_access_is_403_until_granted(headend: Running, operator: OperatorServer) -> None:
    ident = headend.identity(METERS[1])
    session = headend.session(METERS[1])
    call(operator, "PUT", "/access", {"lfdi": ident.lfdi, "granted": False})
    assert session.send("GET", "/dcap").status == 403
    call(operator, "PUT", "/access", {"lfdi": ident.lfdi, "granted": True})
    assert session.send("GET", "/dcap").status == 200


def test_bad_requests_say_what_is_wrong(operator: OperatorServer) -> None:
    assert call(operator, "PUT", "/EndDevice", {"lfdi": "xyz"})[1] == {"error": "an LFDI is 40 hex digits (got 'xyz')"}
    status, answer = call(operator, "POST", "/DERControl", {"fields": {"opModWrong": 1}})
    assert status == 400 and "opModWrong" in answer["error"]
    assert call(operator, "GET", "/nowhere")[0] == 404


def test_reset_forgets_everything(headend: Running, operator: OperatorServer) -> None:
    session = headend.session(METERS[0])
    ident = headend.identity(METERS[0])
    session.send("POST", "/edev", _edev(ident.lfdi, ident.sfdi))
    call(operator, "POST", "/DERControl", {"fields": {"opModConnect": False}})
    call(operator, "POST", "/reset")
    _, status = call(operator, "GET", "/status")
    assert (status["devices"], status["controls"], status["programs"]) == ([], [], [])


def _edev(lfdi: str, sfdi: int) -> bytes:
    from amiscen.sep.render import render_bytes

    return render_bytes(EndDevice(sFDI=sfdi, lFDI=lfdi, changedTime=0))


def test_a_curve_control_links_a_der_curve_the_device_can_read(
    headend: Running, operator: OperatorServer, sep_xsd: Path
) -> None:
    ident = headend.identity(METERS[1])
    call(operator, "PUT", "/EndDevice", {"lfdi": ident.lfdi})
    call(operator, "PUT", "/DERProgram", {"program": "rule 21", "primacy": 1})
    points = [[9200, 3000], [9800, 0], [10200, 0], [10800, -3000]]
    status, curve = call(
        operator,
        "POST",
        "/DERCurve",
        {"mode": "opModVoltVar", "points": points, "x_multiplier": -2, "y_multiplier": -2},
    )
    assert status == 201 and curve["y_ref"] == 2  # %setMaxVar for a var curve
    pf = {"displacement": 95, "excitation": True, "multiplier": -2}
    fields = {"opModVoltVar": curve["href"], "opModFixedPFInjectW": pf, "opModFixedVar": {"refType": 2, "value": -500}}
    assert call(operator, "POST", "/DERControl", {"fields": fields, "duration": 600})[0] == 201
    assert call(operator, "POST", "/DERCurve", {"mode": "opModSpin", "points": points})[0] == 400
    assert call(operator, "POST", "/DERControl", {"fields": {"opModFixedVar": {"value": 1}}})[0] == 400
    session = headend.session(METERS[1])
    (program,) = parse_as(session.send("GET", "/derp").response_body, DERProgramList).DERProgram
    assert program.DERCurveListLink is not None and program.DERCurveListLink.all == 1
    (control,) = parse_as(session.send("GET", program.DERControlListLink.href).response_body, DERControlList).DERControl
    base = control.DERControlBase
    assert base.opModVoltVar.href == curve["href"] and base.opModFixedPFInjectW.factor == 0.95
    served = session.send("GET", base.opModVoltVar.href)
    der_curve = parse_as(served.response_body, DERCurve)
    assert der_curve.curveType == 11 and der_curve.points()[0] == (92.0, 30.0)
    pytest.importorskip("lxml")
    for body in (served.response_body, session.send("GET", program.DERCurveListLink.href).response_body):
        assert validator(sep_xsd).errors(body.decode()) == []

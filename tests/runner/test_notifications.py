"""The meters' notification listener against the head-end's real Notifier, over mutual TLS on loopback: what a
head-end POSTs reaches the right meter, parsed; what is not a Notification, or not for a meter of the run, or from
a client without a certificate, is refused."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator

import pytest

from amiscen.gateway.notify import Notifier
from amiscen.gateway.operator import Operator
from amiscen.gateway.tls import notification_context
from amiscen.runner.notifications import NotificationListener, listener_context
from amiscen.sep.model.common import Resource
from amiscen.sep.model.device import EndDevice
from amiscen.sep.model.events import DERControlList
from amiscen.sep.model.pubsub import Notification, Subscription
from amiscen.sep.parse import SepParseError, parse_notification
from amiscen.sep.render import render_bytes

from ..fixtures import HANG, METERS, Running

Taken = list[tuple[str, Notification, Resource | None]]


@pytest.fixture
def taken() -> Taken:
    return []


@pytest.fixture
def listener(headend: Running, taken: Taken) -> Iterator[NotificationListener]:
    lay = headend.layout

    def deliver(meter_id: str, notification: Notification, resource: Resource | None) -> int:
        if meter_id not in METERS:
            return 404
        taken.append((meter_id, notification, resource))
        return 201

    context = listener_context(lay.meter_cert(METERS[0]), lay.meter_key(METERS[0]), lay.ca_cert)
    running = NotificationListener(deliver, context).start()
    yield running
    running.stop()


def _subscribe(headend: Running, meter_id: str, resource: str, uri: str) -> str:
    ident = headend.identity(meter_id)
    session = headend.session(meter_id)
    edev = session.send(
        "POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
    ).header("Location")
    sub = Subscription(
        subscribedResource=resource.format(edev=edev), encoding=0, level="+S1", limit=50, notificationURI=uri
    )
    x = session.send("POST", f"{edev}/sub", render_bytes(sub))
    assert x.status == 201, x.response_body
    return str(edev)


def test_a_head_end_notification_reaches_its_meter_parsed(
    headend: Running, listener: NotificationListener, taken: Taken
) -> None:
    operator = Operator(headend.app)
    operator.ensure_der_program("limits", 1)
    edev = _subscribe(headend, METERS[1], "{edev}/derp/1/derc", listener.url_for(METERS[1]))
    operator.publish_der_control({"opModExpLimW": 1500}, duration=600)
    notifier = Notifier(headend.app, notification_context(headend.layout))
    assert notifier.check(now=0) == 1
    ((meter_id, notification, resource),) = taken
    assert meter_id == METERS[1] and listener.received == 1
    assert notification.subscribedResource == f"{edev}/derp/1/derc" and notification.status == 0
    assert isinstance(resource, DERControlList) and resource.all == 1
    assert resource.DERControl[0].DERControlBase.opModExpLimW.watts == 1500  # type: ignore[union-attr]


def test_a_deleted_resource_is_told_without_a_resource(
    headend: Running, listener: NotificationListener, taken: Taken
) -> None:
    Operator(headend.app).ensure_der_program("withdrawn", 1)
    _subscribe(headend, METERS[2], "{edev}/derp/1/derc", listener.url_for(METERS[2]))
    headend.app.store.execute("DELETE FROM program")  # the utility withdraws the program
    assert Notifier(headend.app, notification_context(headend.layout)).check(now=0) == 1
    ((_, notification, resource),) = taken
    assert notification.status == 4 and resource is None


def _post(listener: NotificationListener, path: str, body: bytes, context: ssl.SSLContext) -> tuple[int, str]:
    port = int(listener.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=HANG)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/sep+xml"})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def test_what_is_not_a_notification_for_a_meter_of_the_run_is_refused(
    headend: Running, listener: NotificationListener, taken: Taken
) -> None:
    client = notification_context(headend.layout)
    good = render_bytes(Notification(subscribedResource="/x", status=4, subscriptionURI="/edev/1/sub/1"))
    assert _post(listener, "/ntfy/NOT_A_METER", good, client)[0] == 404
    assert _post(listener, "/elsewhere", good, client)[0] == 404
    status, detail = _post(listener, f"/ntfy/{METERS[0]}", b"<EndDevice/>", client)
    assert status == 400 and "Notification" in detail
    assert _post(listener, f"/ntfy/{METERS[0]}", good, client)[0] == 201
    assert len(taken) == 1 and listener.refused == 3


def test_a_client_without_a_certificate_is_refused_in_the_handshake(
    headend: Running, listener: NotificationListener
) -> None:
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.load_verify_locations(cafile=str(headend.layout.ca_cert))
    anonymous.check_hostname = False
    anonymous.set_ciphers("ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0")
    body = render_bytes(Notification(subscribedResource="/x", status=4, subscriptionURI="/s"))
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        _post(listener, f"/ntfy/{METERS[0]}", body, anonymous)


def test_parse_notification_needs_a_typed_resource() -> None:
    head = '<Notification xmlns="urn:ieee:std:2030.5:ns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    tail = "<status>0</status><subscriptionURI>/s</subscriptionURI></Notification>"
    listed = '<Resource xsi:type="DERControlList" all="0" results="0"/>'
    typed = f"{head}<subscribedResource>/l</subscribedResource>{listed}{tail}"
    _, resource = parse_notification(typed)
    assert isinstance(resource, DERControlList)
    with pytest.raises(SepParseError, match="xsi:type"):
        parse_notification(f"{head}<subscribedResource>/l</subscribedResource><Resource/>{tail}")
    with pytest.raises(SepParseError, match="unknown type"):
        parse_notification(f'{head}<subscribedResource>/l</subscribedResource><Resource xsi:type="Nope"/>{tail}')
    with pytest.raises(SepParseError, match="Notification"):
        parse_notification('<EndDevice xmlns="urn:ieee:std:2030.5:ns"/>')

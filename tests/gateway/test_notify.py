"""Subscription/Notification: subscribe over 2030.5, change the resource, a Notification arrives at the
notificationURI (a real receiver on loopback, plain and over mutual TLS). Rounds are run by hand: no sleeps."""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509

from amiscen.gateway.notify import Notifier, as_resource_element
from amiscen.gateway.operator import Operator
from amiscen.gateway.tls import notification_context, server_context
from amiscen.sep.ids import lfdi_from_der
from amiscen.sep.model.device import EndDevice, EndDeviceList
from amiscen.sep.model.pubsub import Subscription, SubscriptionList
from amiscen.sep.parse import parse_as
from amiscen.sep.render import render_bytes
from amiscen.sep.xsd import validator

from ..fixtures import METERS, Running


class Receiver(HTTPServer):
    """A subscriber's notification endpoint: keeps what is POSTed, answers ``status``."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.received: list[tuple[str, bytes, str | None]] = []  # (content type, body, client certificate LFDI)
        self.status = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                peer = self.connection.getpeercert(binary_form=True) if context else None
                outer.received.append((self.headers["Content-Type"], body, lfdi_from_der(peer) if peer else None))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if context else "http"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/notify"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.shutdown()
    r.server_close()


def _register(h: Running, meter_id: str) -> str:
    ident = h.identity(meter_id)
    x = h.session(meter_id).send(
        "POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
    )
    return x.header("Location")


def _subscribe(h: Running, meter_id: str, edev: str, resource: str, uri: str) -> tuple[int, str]:
    sub = Subscription(subscribedResource=resource, encoding=0, level="+S1", limit=10, notificationURI=uri)
    x = h.session(meter_id).send("POST", f"{edev}/sub", render_bytes(sub))
    return x.status, (x.header("Location") if x.status == 201 else x.response_body.decode())


def test_a_new_control_is_notified_with_the_list_inside(headend: Running, receiver: Receiver, sep_xsd: Path) -> None:
    edev = _register(headend, METERS[0])
    own = parse_as(headend.session(METERS[0]).send("GET", "/edev").response_body, EndDeviceList).EndDevice[0]
    assert own.SubscriptionListLink is not None and own.SubscriptionListLink.href == f"{edev}/sub"
    operator = Operator(headend.app)
    operator.ensure_der_program("limits", 1)
    status, location = _subscribe(headend, METERS[0], edev, f"{edev}/derp/1/derc", receiver.url)
    assert status == 201 and location == f"{edev}/sub/1"
    notifier = Notifier(headend.app)
    assert notifier.check(now=0) == 0 and receiver.received == []  # nothing changed since it subscribed
    operator.publish_der_control({"opModExpLimW": 1500}, duration=600)
    assert notifier.check(now=1) == 1
    ((media, body, _),) = receiver.received
    text = body.decode()
    assert media == "application/sep+xml"
    assert f"<subscribedResource>{edev}/derp/1/derc</subscribedResource>" in text
    assert '<Resource xsi:type="DERControlList"' in text and "<csipaus:opModExpLimW>" in text
    assert f"<subscriptionURI>{location}</subscriptionURI>" in text
    pytest.importorskip("lxml")
    assert validator(sep_xsd).errors(text) == [], text
    assert notifier.check(now=2) == 0  # told once


def test_an_undeliverable_notification_is_retried_with_backoff_never_dropped(
    headend: Running, receiver: Receiver
) -> None:
    edev = _register(headend, METERS[1])
    operator = Operator(headend.app)
    _subscribe(headend, METERS[1], edev, "/edev", receiver.url)
    notifier = Notifier(headend.app)
    receiver.status = 503
    operator.set_poll_rate("EndDeviceList", 30)
    assert notifier.check(now=100) == 0
    row = headend.app.store.one("SELECT failures, last_error FROM subscription")
    assert (row["failures"], row["last_error"]) == (1, "HTTP 503")
    assert notifier.check(now=101) == 0 and len(receiver.received) == 1  # backing off: 2 s after the first try
    receiver.status = 201
    assert notifier.check(now=102) == 1 and len(receiver.received) == 2
    assert 'pollRate="30"' in receiver.received[-1][1].decode()


def test_subscriptions_are_checked_like_any_request(headend: Running, receiver: Receiver) -> None:
    edev_a = _register(headend, METERS[0])
    edev_b = _register(headend, METERS[1])
    assert _subscribe(headend, METERS[0], edev_a, "/tm", receiver.url)[0] == 400  # Time is not subscribable
    assert _subscribe(headend, METERS[0], edev_a, f"{edev_b}/fsa", receiver.url)[0] == 403  # not its own
    assert _subscribe(headend, METERS[0], edev_a, "/edev", "ftp://x/y")[0] == 400
    assert _subscribe(headend, METERS[0], edev_b, "/edev", receiver.url)[0] == 403  # another's list
    _, location = _subscribe(headend, METERS[0], edev_a, f"{edev_a}/fsa", receiver.url)
    session = headend.session(METERS[0])
    listed = parse_as(session.send("GET", f"{edev_a}/sub", params={"l": 10}).response_body, SubscriptionList)
    assert [s.href for s in listed.Subscription] == [location]
    assert session.send("DELETE", location).status == 204
    assert session.send("GET", location).status == 404


def test_over_https_the_head_end_presents_its_certificate(headend: Running) -> None:
    receiver = Receiver(server_context(headend.layout))  # a subscriber that requires a client certificate
    try:
        edev = _register(headend, METERS[2])
        _subscribe(headend, METERS[2], edev, "/edev", receiver.url)
        Operator(headend.app).set_poll_rate("EndDeviceList", 45)
        notifier = Notifier(headend.app, notification_context(headend.layout))
        assert notifier.check(now=0) == 1
        gateway = x509.load_pem_x509_certificate(headend.layout.gateway_cert.read_bytes())
        from cryptography.hazmat.primitives.serialization import Encoding

        assert receiver.received[0][2] == lfdi_from_der(gateway.public_bytes(Encoding.DER))
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_a_deleted_resource_ends_its_subscription_with_status_4(headend: Running, receiver: Receiver) -> None:
    edev = _register(headend, METERS[0])
    operator = Operator(headend.app)
    operator.ensure_der_program("limits", 1)
    _subscribe(headend, METERS[0], edev, f"{edev}/derp/1/dderc", receiver.url)
    headend.app.store.execute("DELETE FROM program")
    assert Notifier(headend.app).check(now=0) == 1
    assert "<status>4</status>" in receiver.received[0][1].decode()
    assert headend.app.store.scalar("SELECT count(*) FROM subscription") == 0


def test_the_resource_element_keeps_attributes_and_content() -> None:
    doc = '<DERControlList xmlns="urn:ieee:std:2030.5:ns" href="/x" all="0" results="0">\n</DERControlList>\n'
    assert as_resource_element(doc) == '<Resource xsi:type="DERControlList" href="/x" all="0" results="0">\n</Resource>'
    assert re.match(r'<Resource xsi:type="Time"/>', as_resource_element('<Time xmlns="urn:ieee:std:2030.5:ns"/>'))

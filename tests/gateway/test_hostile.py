"""Hostile input to the head-end (issue #17, item 8): numbers past 64 bits, entities, a damaged CRL. Each is a
clear 4xx or a refusal to start, never a 500 or a head-end that fails every request."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import ssl
import time
from pathlib import Path

import pytest

from amiscen.clock import Pace, SimClock
from amiscen.errors import UsageError
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.http import Request
from amiscen.gateway.server import IDLE_DEADLINE_S, HeadendServer
from amiscen.gateway.store import Store
from amiscen.gateway.tls import RevocationList, server_context
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.runner.transport import Credentials, TlsSettings, client_context
from amiscen.sep.ids import sfdi_from_lfdi
from amiscen.sep.xsd import SchemaValidator

from ..fixtures import HANG, METERS, Running

LFDI = "AB" * 20
SFDI = sfdi_from_lfdi(LFDI)


def _app(tmp_path: Path, validator: SchemaValidator | None = None) -> Headend:
    return Headend(Store(tmp_path / "h.db"), SimClock(0, Pace(None)), HeadendConfig(), validator)


def _send(app: Headend, method: str, path: str, body: bytes = b"", query: dict[str, str] | None = None) -> int:
    media = "application/sep+xml" if body else None
    return app.handle(Request(method, path, query or {}, body, media, LFDI, SFDI, "M")).status


def _device(sfdi: int | str) -> bytes:
    return (
        f'<EndDevice xmlns="urn:ieee:std:2030.5:ns"><sFDI>{sfdi}</sFDI><lFDI>{LFDI}</lFDI>'
        "<changedTime>0</changedTime></EndDevice>"
    ).encode()


def test_numbers_past_64_bits_are_400_or_404_not_500(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert _send(app, "POST", "/edev", _device(2**70)) == 400
    assert _send(app, "POST", "/edev", _device(SFDI)) == 201
    assert _send(app, "GET", "/edev/99999999999999999999") == 404
    assert _send(app, "GET", "/edev", query={"s": str(2**64)}) == 400
    assert _send(app, "GET", "/edev", query={"a": str(-(2**64))}) == 400
    assert _send(app, "GET", "/edev", query={"s": "0", "l": "1"}) == 200


def test_an_entity_never_reaches_the_schema_validator(tmp_path: Path, sep_xsd: Path) -> None:
    pytest.importorskip("lxml")
    app = _app(tmp_path, SchemaValidator(sep_xsd))
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _device("&e;")
    assert _send(app, "POST", "/edev", xxe) == 400
    assert app.store.scalar("SELECT count(*) FROM end_device") == 0


def test_a_damaged_crl_stops_the_head_end_from_starting_and_cannot_stop_it_running(pki: Layout, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "certs")
    shutil.copytree(pki.root, layout.root)
    layout.crl.write_text("-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n")
    with pytest.raises(UsageError, match="not a PEM certificate revocation list"):
        RevocationList(layout.crl)
    with pytest.raises(UsageError, match="not a PEM certificate revocation list"):
        server_context(layout)
    layout.crl.unlink()
    gone = fleet.revoke(layout, METERS[0], dt.datetime.now(dt.timezone.utc))  # a real CRL, one serial in it
    serial = int(gone.serial, 16)
    revocations = RevocationList(layout.crl)
    assert revocations.revoked(serial) and not revocations.revoked(serial + 1)
    layout.crl.write_text("garbage")  # damaged while running: the last good list stays, requests go on
    os.utime(layout.crl, (0, 12345))
    assert revocations.revoked(serial) and not revocations.revoked(serial + 1)


def _idle_tls(server: HeadendServer, layout: Layout, meter_id: str) -> ssl.SSLSocket:
    """A mutual-TLS connection that completes its handshake and then sends nothing."""
    creds = Credentials(layout.meter_cert(meter_id), layout.meter_key(meter_id), layout.ca_cert)
    raw = socket.create_connection(server.server_address[:2], timeout=HANG)
    tls = client_context(creds, TlsSettings()).wrap_socket(raw, server_hostname="localhost")
    tls.do_handshake()
    return tls


def _closed(connection: ssl.SSLSocket) -> bool:
    """Whether the server closed it (an open, idle one has nothing to read yet)."""
    connection.setblocking(False)
    try:
        return connection.recv(1) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True


def _wait_open(server: HeadendServer, count: int) -> None:
    """Until the server holds ``count`` connections (their handler threads start on their own)."""
    deadline = time.monotonic() + HANG
    while len(server._connections) < count:
        assert time.monotonic() < deadline, f"the server never held {count} connections"
        time.sleep(0.01)


def test_at_the_connection_cap_the_longest_idle_connection_makes_room(pki: Layout, tmp_path: Path) -> None:
    app = _app(tmp_path)
    server = HeadendServer(app, server_context(pki), pki.crl, port=0, max_connections=4).start()
    try:
        idle = [_idle_tls(server, pki, METERS[0]) for _ in range(4)]
        _wait_open(server, 4)
        meter = Running(server, app, app.clock, pki).session(METERS[1])
        assert meter.send("GET", "/dcap").status == 200  # a meter still gets in: the oldest idle one was closed
        assert sum(_closed(c) for c in idle) == 1 and server.refused == 0  # one idle connection made room
    finally:
        server.stop()


def test_a_connection_idle_past_the_deadline_is_closed(pki: Layout, tmp_path: Path) -> None:
    """Keep-alive left idle, or headers trickled a byte at a time: closed once no request completed for
    IDLE_DEADLINE_S (the reaper is run here at a chosen time: no waiting)."""
    app = _app(tmp_path)
    server = HeadendServer(app, server_context(pki), pki.crl, port=0).start()
    try:
        trickler = _idle_tls(server, pki, METERS[0])
        trickler.sendall(b"GET /dcap HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        _wait_open(server, 1)
        assert server.reap(time.monotonic()) == 0  # not yet
        assert server.reap(time.monotonic() + IDLE_DEADLINE_S + 1) == 1
        assert trickler.recv(1) == b""
    finally:
        server.stop()


def test_a_body_that_does_not_arrive_in_time_ends_the_connection(pki: Layout, tmp_path: Path) -> None:
    app = _app(tmp_path)
    server = HeadendServer(app, server_context(pki), pki.crl, port=0).start()
    server.body_deadline = 0.0  # so that the trickle is late at once (BODY_DEADLINE_S in service)
    try:
        slow = _idle_tls(server, pki, METERS[0])
        slow.sendall(
            b"POST /edev HTTP/1.1\r\nHost: x\r\nContent-Type: application/sep+xml\r\nContent-Length: 1000\r\n\r\n<"
        )
        slow.settimeout(30)
        assert slow.recv(100) == b""  # cut off, no answer, nothing stored
        assert app.store.scalar("SELECT count(*) FROM end_device") == 0
    finally:
        server.stop()


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3"])
def test_a_content_length_that_is_not_a_length_is_answered_400(pki: Layout, tmp_path: Path, declared: str) -> None:
    app = _app(tmp_path)
    server = HeadendServer(app, server_context(pki), pki.crl, port=0).start()
    try:
        client = _idle_tls(server, pki, METERS[0])
        client.sendall(f"POST /edev HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n<x/>".encode())
        client.settimeout(30)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = client.recv(4096)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), answer[:100]
    finally:
        server.stop()

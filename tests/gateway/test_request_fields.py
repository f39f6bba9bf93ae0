"""The head-end reads a request's header fields without the email package (issue #16): what it reads must be what
http.server (http.client.parse_headers) read, field by field, and a refusal the same status."""

from __future__ import annotations

import http.client
import io
from http.server import BaseHTTPRequestHandler

import pytest

from amiscen.gateway.server import _Handler

BLOCKS = {
    "plain": b"Host: x\r\nContent-Type: application/sep+xml\r\nContent-Length: 12\r\n\r\n",
    "case": b"content-type: text/xml\r\nCONTENT-LENGTH: 7\r\n\r\n",
    "repeated": b"Content-Length: 7\r\nContent-Length: 9\r\n\r\n",
    "folded": b"Content-Length:\r\n 12\r\nX: a\r\n\tb\r\n\r\n",
    "spaces": b"Content-Type:    application/sep+xml   \r\nX:\r\n\r\n",
    "not_a_field": b"Content-Type: a\r\nnonsense\r\nContent-Length: 3\r\n\r\n",
    "bare_lf": b"Content-Length: 4\nConnection: close\n\n",
    "connection": b"Connection: Keep-Alive\r\n\r\n",
    "latin1": b"X-Name: caf\xe9\r\n\r\n",
}


def _handler(request_line: bytes, block: bytes) -> tuple[_Handler, io.BytesIO]:
    handler = _Handler.__new__(_Handler)  # no socket: parse_request reads rfile, writes wfile
    handler.rfile = io.BytesIO(block)
    handler.wfile = out = io.BytesIO()
    handler.raw_requestline = request_line
    handler.request_version = handler.default_request_version
    handler.command = None  # type: ignore[assignment]  # as http.server starts a request
    handler.client_address = ("127.0.0.1", 0)
    handler.meter_id = "M1"
    return handler, out


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_fields_read_as_http_server_reads_them(name: str) -> None:
    block = BLOCKS[name]
    expected = http.client.parse_headers(io.BytesIO(block))
    handler, _ = _handler(b"POST /mup/1 HTTP/1.1\r\n", block)
    assert handler.parse_request()
    names = {"host", "content-type", "content-length", "connection", "x", "x-name", "absent"}
    assert {n: handler.headers.get(n) for n in names} == {n: expected.get(n) for n in names}
    assert handler.close_connection == (expected.get("Connection", "").lower() == "close")


@pytest.mark.parametrize(
    "request_line, block",
    [
        (b"GET /dcap HTTP/1.1\r\n", b"".join(b"X-%d: y\r\n" % i for i in range(120)) + b"\r\n"),
        (b"GET /dcap HTTP/1.1\r\n", b"X: " + b"a" * 70_000 + b"\r\n\r\n"),
        (b"GET /dcap HTTP/2.0\r\n", b"\r\n"),
        (b"GET /dcap HTTP/1.1 extra\r\n", b"\r\n"),
        (b"GET /dcap\r\n", b""),
        (b"GET //dcap HTTP/1.0\r\n", b"Host: x\r\n\r\n"),
    ],
)
def test_what_is_refused_or_odd_gets_the_answer_http_server_gives(request_line: bytes, block: bytes) -> None:
    ours, ours_out = _handler(request_line, block)
    theirs, theirs_out = _handler(request_line, block)
    ok = ours.parse_request()
    assert ok == BaseHTTPRequestHandler.parse_request(theirs)
    assert (ours.command, ours.path if ok else None, ours.request_version, ours.close_connection) == (
        theirs.command,
        theirs.path if ok else None,
        theirs.request_version,
        theirs.close_connection,
    )
    strip = lambda b: b.split(b"\r\nDate: ")[0] + b.split(b"\r\n", 3)[-1]  # noqa: E731
    assert strip(ours_out.getvalue()) == strip(theirs_out.getvalue())

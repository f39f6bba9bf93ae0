"""The meters read a response's header section without the email package (issue #16): what they read must be
what http.client reads (its own HTTPResponse, whose ``begin`` hands the section to the email parser), field by
field, with the same framing (length, chunked, will the connection close) and the same refusals."""

from __future__ import annotations

import http.client
import io

import pytest

from amiscen.runner.transport import _Response

FIELDS = {
    "plain": b"Content-Type: application/sep+xml\r\nContent-Length: 5\r\n\r\n",
    "case": b"content-type: text/xml\r\nCONTENT-LENGTH: 5\r\nlocation: /mup/1\r\n\r\n",
    "repeated": b"Content-Length: 5\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 9\r\n\r\n",
    "folded": b"Content-Length:\r\n 5\r\nX: a\r\n\tb\r\n\r\n",
    "spaces": b"Content-Type:    application/sep+xml   \r\nX:\r\nContent-Length: 5\r\n\r\n",
    "not_a_field": b"Content-Type: a\r\nnonsense\r\nContent-Length: 3\r\n\r\n",
    "bare_lf": b"Content-Length: 5\nConnection: close\n\n",
    "close": b"Connection: close\r\nContent-Length: 5\r\n\r\n",
    "no_length": b"Content-Type: a\r\n\r\n",
    "negative": b"Content-Length: -4\r\n\r\n",
    "bad_length": b"Content-Length: five\r\n\r\n",
    "chunked": b"Transfer-Encoding: Chunked\r\nContent-Length: 99\r\n\r\n",
    "latin1": b"X-Name: caf\xe9\r\nContent-Length: 5\r\n\r\n",
    "retry": b"Retry-After: 120\r\nContent-Length: 5\r\n\r\n",
    "99 fields": b"".join(b"X-%d: y\r\n" % i for i in range(99)) + b"Content-Length: 5\r\n\r\n",
}
BODY = b"hello"
CHUNKED_BODY = b"5\r\nhello\r\n0\r\n\r\n"


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


def _read(cls: type[http.client.HTTPResponse], raw: bytes, method: str = "GET") -> tuple[object, ...]:
    response = cls(_Socket(raw), method=method)  # type: ignore[arg-type]
    try:
        response.begin()
    except Exception as exc:  # the refusal itself is what is compared
        return (type(exc), str(exc))
    names = ("content-type", "Content-Length", "location", "connection", "x", "x-name", "retry-after", "absent")
    return (
        response.status,
        response.reason,
        response.version,
        response.will_close,
        response.length,
        response.chunked,  # type: ignore[attr-defined]
        response.getheaders(),
        [response.getheader(n) for n in names],
        [response.headers.get(n) for n in names],
        response.read() if method != "HEAD" else b"",
    )


@pytest.mark.parametrize("name", sorted(FIELDS))
@pytest.mark.parametrize("status_line", [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 201 Created\r\n"])
def test_a_response_is_read_as_http_client_reads_it(name: str, status_line: bytes) -> None:
    raw = status_line + FIELDS[name] + (CHUNKED_BODY if name == "chunked" else BODY)
    assert _read(_Response, raw) == _read(http.client.HTTPResponse, raw)


@pytest.mark.parametrize(
    "raw, method",
    [
        (b"HTTP/1.1 100 Continue\r\nX: 1\r\n\r\nHTTP/1.1 204 No Content\r\nLocation: /r/1\r\n\r\n", "PUT"),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "HEAD"),
        (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(100)) + b"\r\n", "GET"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "GET"),
        (b"HTTP/2 200 OK\r\n\r\n", "GET"),
        (b"", "GET"),
    ],
)
def test_framing_and_refusals_are_http_clients(raw: bytes, method: str) -> None:
    assert _read(_Response, raw, method) == _read(http.client.HTTPResponse, raw, method)

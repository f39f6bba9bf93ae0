"""The one transport boundary: each meter's HTTPS session (mutual TLS, 2030.5 suite), one attempt per call,
every failure classified with a suggested fix, and the retry backoff policy (tenacity's wait strategies).

Retries are scheduled by the caller in simulated time (so a backoff costs no wall time in fast pace), using
``RetrySchedule``; a request that has used its attempts waits in the durable outbox, never dropped.
"""

from __future__ import annotations

import http.client
import random
import select
import socket
import ssl
import time
import typing
import urllib.request
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import tenacity

from amiscen.fields import Fields, FieldsTooLarge, read_fields
from amiscen.sep.constants import MEDIA_TYPE

FailureClass = Literal[
    "tls", "connect", "timeout", "http_4xx", "http_5xx", "http_429", "protocol", "registration", "internal"
]

FIXES: dict[str, str] = {
    "tls": "certificate or cipher rejected: run `amiscen certs list`, check the gateway trusts certs/ca.pem and "
    "offers the 2030.5 suite (or add ECDHE-ECDSA-AES128-GCM-SHA256 to gateway.tls.ciphers)",
    "connect": "cannot connect: is the gateway running at that URL and port? (`amiscen test --gateway URL`)",
    "timeout": "the gateway did not answer in time: raise gateway.timeouts.read or check its load",
    "http_4xx": "the gateway refused the request: see its <Error> body in ieee2030_5.log",
    "http_5xx": "the gateway failed: see its logs; amiscen retries with backoff",
    "http_429": "the gateway asks to slow down: amiscen honours Retry-After",
    "protocol": "the gateway's answer is not valid 2030.5 or lacks what the protocol needs (a link, a Location): "
    "see ieee2030_5.log",
    "registration": "the server's Registration pIN is not the meter's: set gateway.registration.pin (or the meter's "
    "pin) to what the head-end issued, or gateway.registration.pin_policy: warn",
    "internal": "amiscen itself failed (a bug, not the gateway): please report it with ami_simulator.log",
}


@dataclass(frozen=True)
class TlsSettings:
    version: str = "1.2"
    ciphers: tuple[str, ...] = ("ECDHE-ECDSA-AES128-CCM8",)
    verify_server: bool = True


@dataclass(frozen=True)
class Credentials:
    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it happened: for logs, the record, and the caller. Header names are kept in lower
    case: they are case-insensitive (RFC 9110 section 5.1), and servers differ (uvicorn sends ``location``)."""

    method: str
    url: str
    status: int | None  # None when no response arrived
    request_body: bytes
    response_body: bytes
    headers: dict[str, str]
    elapsed: float
    failure: FailureClass | None = None
    detail: str = ""
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if any(not k.islower() for k in self.headers):
            object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        """A response header by name, whatever its case on the wire."""
        return self.headers.get(name.lower())

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        """Worth retrying: everything but an explicit 4xx refusal (a TLS or protocol failure may be a restart,
        a misconfiguration being fixed: the data waits in the outbox with backoff, it is never dropped)."""
        return self.failure is not None and self.failure != "http_4xx"


class Session(Protocol):
    """What a meter needs from its connection: one attempt per ``send``, classified."""

    def send(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange: ...

    def close(self) -> None: ...


def classify(status: int) -> FailureClass | None:
    if status == 429:
        return "http_429"
    if status >= 500:
        return "http_5xx"
    if status >= 400:
        return "http_4xx"
    return None


def client_context(creds: Credentials, tls: TlsSettings, present_certificate: bool = True) -> ssl.SSLContext:
    """The meter's TLS settings; without ``present_certificate``, the same client with no certificate to show (a
    probe of whether the server refuses it)."""
    ctx = ssl.create_default_context(cafile=str(creds.ca))
    if present_certificate:
        ctx.load_cert_chain(str(creds.cert), str(creds.key))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if tls.version == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.set_ciphers(":".join(tls.ciphers) + ":@SECLEVEL=0")  # CCM8 is below OpenSSL 3's default level
    if not tls.verify_server:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


HEADERS = {"Accept": MEDIA_TYPE, "User-Agent": "amiscen"}
REDIRECTS = {301, 302, 303, 307, 308}


def _environ_proxy(url: str) -> tuple[str, int] | None:
    """The proxy the environment names for ``url`` (https_proxy, all_proxy; no_proxy honoured), read once."""
    host = urlsplit(url).hostname or ""
    proxies = urllib.request.getproxies()
    if not proxies or urllib.request.proxy_bypass(host):
        return None
    proxy = proxies.get("https") or proxies.get("all")
    if not proxy:
        return None
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    return parts.hostname or "", parts.port or 8080


def failure_of(exc: BaseException) -> FailureClass:
    """The failure class of what one attempt raised."""
    text = str(exc)
    if isinstance(exc, ssl.SSLError):
        # an EOF or reset during the handshake is the connection dropping, not a refusal of our certificate
        dropped = "EOF" in text or "reset" in text.lower() or isinstance(exc, ssl.SSLEOFError)
        return "connect" if dropped else "tls"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError | http.client.HTTPException):
        return "tls" if "SSL" in text or "certificate" in text.lower() else "connect"
    return "protocol"


def _dropped(sock: socket.socket) -> bool:
    """Whether the server closed an idle keep-alive connection (it is readable while no request is in flight:
    its end of stream, or something it should not have sent). Checked before each reuse, as urllib3 does."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _Response(http.client.HTTPResponse):
    """http.client's response with its header section read by ``amiscen.fields`` instead of the email package
    (24 us of every response; the same fields, first value of a repeated one for ``get``, all in order for
    ``getheaders``). ``begin`` is http.client's own (3.11) otherwise, step for step."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:  # read until a non-100 response
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            self._fields()  # the 100 response's header section, skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = self._fields()
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding and encoding.lower() == "chunked")
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200:
            self.length = 0
        if self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True

    def _fields(self) -> Fields:
        try:
            return Fields(read_fields(self.fp.readline))
        except FieldsTooLarge as exc:  # http.client's own exceptions: the failure is classified as before
            if exc.what == "line":
                raise http.client.LineTooLong("header line") from None
            raise http.client.HTTPException(str(exc)) from None


class _Connection(http.client.HTTPSConnection):
    response_class = _Response


class MeterSession:
    """One meter's connection to the head-end: keep-alive, its own certificate, one attempt per ``send``.

    Built on http.client directly: a meter sends one request at a time on one connection (a connection per host it
    is sent to), which is all it needs of an HTTP client, and a third of what requests and urllib3 spend per request
    (bench/transport.py). Timeouts: ``connect_timeout`` for the TCP connect and TLS handshake, ``read_timeout`` for
    each read. Redirects are followed (up to 10; a 301-303 after a POST becomes a GET, as browsers do)."""

    def __init__(
        self, base_url: str, creds: Credentials, tls: TlsSettings, connect_timeout: float, read_timeout: float
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.context = client_context(creds, tls)  # trusts the scenario's CA only; presents the meter's certificate
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._proxy = _environ_proxy(self.base_url)  # read once; .netrc or CA variables never change a meter
        self._connections: dict[tuple[str, int], http.client.HTTPSConnection] = {}

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else self.base_url + path

    def send(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange:
        url = self.url(path)  # as logged: the query (list paging) is not part of it
        target = url + ("&" if "?" in url else "?") + urlencode(params) if params else url
        started = time.perf_counter()
        try:
            status, data, headers = self._request(method, target, body)
            for _ in range(10):
                location = headers.get("location")
                if status not in REDIRECTS or not location:
                    break
                target = urljoin(target, location)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, body = "GET", b""
                status, data, headers = self._request(method, target, body)
        except Exception as exc:
            detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            return Exchange(method, url, None, body, b"", {}, time.perf_counter() - started, failure_of(exc), detail)
        failure = classify(status)
        return Exchange(
            method,
            url,
            status,
            body,
            data,
            headers,
            time.perf_counter() - started,
            failure,
            "" if failure is None else f"HTTP {status}",
            retry_after(headers.get("retry-after")),
        )

    def _request(self, method: str, url: str, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise http.client.InvalidURL(f"not an https URL: {url[:200]}")
        connection = self._connection(parts.hostname, parts.port or 443)
        headers = {**HEADERS, "Content-Type": MEDIA_TYPE} if body else HEADERS
        try:
            if connection.sock is None:
                connection.connect()  # TCP and the TLS handshake, within the connect timeout
                typing.cast(socket.socket, connection.sock).settimeout(self._read_timeout)
            connection.request(
                method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body or None, headers
            )
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()  # a connection that failed mid-exchange is never reused
            raise
        if response.will_close:
            connection.close()
        return response.status, data, {k.lower(): v for k, v in response.getheaders()}

    def _connection(self, host: str, port: int) -> http.client.HTTPSConnection:
        connection = self._connections.get((host, port))
        if connection is not None and connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the server closed it while idle: a new connection, not a failed attempt
        if connection is None:
            if self._proxy is not None:
                connection = _Connection(*self._proxy, timeout=self._connect_timeout, context=self.context)
                connection.set_tunnel(host, port)
            else:
                connection = _Connection(host, port, timeout=self._connect_timeout, context=self.context)
            self._connections[(host, port)] = connection
        return connection

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


class RetrySchedule:
    """Exponential backoff with jitter (tenacity's strategy) for attempt n, honouring Retry-After."""

    def __init__(
        self, max_attempts: int, initial: float, maximum: float, multiplier: float, jitter: float, seed: int
    ) -> None:
        self.max_attempts = max_attempts
        self._wait = tenacity.wait_exponential(multiplier=initial, exp_base=multiplier, max=maximum)
        self._jitter = jitter
        self._random = random.Random(seed)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); past ``max_attempts`` the data
        waits the longest backoff each time (it stays in the outbox, it is never dropped)."""
        state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = attempt if attempt <= self.max_attempts else 10_000
        wait = float(self._wait(state)) + self._random.uniform(0, self._jitter)
        return max(wait, retry_after or 0.0)

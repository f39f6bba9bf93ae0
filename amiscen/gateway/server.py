"""The head-end on the network: HTTPS with mutual TLS, HTTP/1.1 keep-alive, one thread per connection,
graceful shutdown that finishes requests in flight."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509

from amiscen.errors import is_disk_full
from amiscen.fields import Fields, FieldsTooLarge, read_fields
from amiscen.gateway.app import Headend
from amiscen.gateway.http import Reply, Request
from amiscen.gateway.tls import RevocationList, server_context
from amiscen.pki.issue import device_name
from amiscen.pki.layout import Layout
from amiscen.sep.constants import ErrorReason
from amiscen.sep.ids import lfdi_from_der, sfdi_from_lfdi
from amiscen.sep.parse import MAX_BODY_BYTES

# a body over the limit but under this is read and dropped before the 413 (a client that sends the whole body
# before it reads the answer, as most HTTP clients do, would otherwise see the connection reset, not the 413);
# a larger one is refused with the connection closed at once
DRAINED_BYTES = 64 * 1024 * 1024
BODY_DEADLINE_S = 60.0  # a request body must arrive within this (a trickling client is cut off)
IDLE_DEADLINE_S = 120.0  # a connection with no request completed for this long is closed (header trickling too)
DISK_FULL_RETRY_S = 60  # the Retry-After of a 503 while the database cannot write
MAX_CONNECTIONS = 4096  # open connections at most; at the cap the longest idle one makes room, else refused


def connection_cap(wanted: int = MAX_CONNECTIONS) -> int:
    """``wanted``, or fewer where the process may not open that many files: the cap must bite before accept()
    fails for want of a descriptor (which would leave the accept loop spinning)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - 128))  # room for the database, logs, certificates, notifications


access_log = logging.getLogger("amiscen.headend.access")
log = logging.getLogger("amiscen.headend")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HeadendServer
    raw_requestline: bytes
    timeout = 60  # an idle keep-alive connection is closed after this many seconds
    # headers and body are separate writes: without TCP_NODELAY, Nagle meets the client's delayed ACK (~40 ms)
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        der = self.connection.getpeercert(binary_form=True)
        cert = x509.load_der_x509_certificate(der)
        self.lfdi = lfdi_from_der(der)
        self.sfdi = sfdi_from_lfdi(self.lfdi)
        self.meter_id = device_name(cert) or self.lfdi
        self.serial = cert.serial_number

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: " + format, self.meter_id, *args)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        if self.server.app.faults.outage(self.server.app.clock.now()):
            self.close_connection = True  # an outage also ends connections already open
            self.connection.close()
            return
        delay = self.server.app.faults.delay(self.server.app.clock.now())
        if delay and self.server.app.clock.pace.factor is not None:
            time.sleep(delay / self.server.app.clock.pace.factor)
        self.server.enter(self.connection)
        try:
            reply = self._reply()
            if self.server.stopping:
                self.close_connection = True
                reply.headers["Connection"] = "close"
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            access_log.info(
                "%s %s %s %d %.1fms",
                self.meter_id,
                self.command,
                self.path,
                reply.status,
                (time.perf_counter() - started) * 1000,
            )
        finally:
            self.server.leave(self.connection)

    def parse_request(self) -> bool:
        """The request line and header fields of an HTTP/1.1 or 1.0 request, read with http.client's limits (a line
        of 65,536 bytes, 100 lines) with amiscen.fields instead of the email package (12 % of the head-end's CPU
        in a realtime fleet); anything else (HTTP/0.9, 2.0, a malformed request line) goes to http.server's own
        parse_request, which answers it as it always did."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return bool(super().parse_request())
        self.requestline = requestline
        self.command, path, self.request_version = words
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path  # as http.server (gh-87389)
        self.close_connection = self.request_version != "HTTP/1.1"
        try:
            fields = Fields(read_fields(self.rfile.readline))
        except FieldsTooLarge as exc:
            reason = "Line too long" if exc.what == "line" else "Too many headers"
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, reason, str(exc))
            return False
        self.headers = fields  # type: ignore[assignment]
        connection = (fields.get("connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if (fields.get("expect") or "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return bool(self.handle_expect_100())
        return True

    def _read(self, length: int, keep: bool = True) -> bytes:
        """``length`` bytes of body within the server's body deadline in all (each read also times out on its
        own); ``keep`` False: read and dropped (an over-limit body, so the client hears the 413)."""
        deadline = time.monotonic() + self.server.body_deadline
        chunks: list[bytes] = []
        left = length
        while left > 0:
            if time.monotonic() > deadline:
                self.close_connection = True
                raise TimeoutError(f"{self.meter_id}: a {length:,}-byte body took over {self.server.body_deadline:g} s")
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                if not keep:
                    return b""
                raise ConnectionError("the client closed the connection mid-body")
            if keep:
                chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _reply(self) -> Reply:
        if self.server.revocations.revoked(self.serial):
            return Reply.error(403, f"certificate of {self.meter_id} is revoked")
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():  # "-1" would read to the end of the stream, past every limit (issue #17)
            self.close_connection = True
            return Reply.error(
                400, f"Content-Length {declared[:20]!r} is not a length", ErrorReason.INVALID_REQUEST_FORMAT
            )
        length = int(declared)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            # read and dropped, so the client (still sending) hears the 413
            if length <= DRAINED_BYTES and self.server.app.config.quirks.drain_oversized_bodies:
                self._read(length, keep=False)
            return Reply.error(413, f"body of {length:,} bytes is over the limit", ErrorReason.RESOURCE_LIMIT_REACHED)
        if self.command in ("POST", "PUT") and self.headers.get("Content-Length") is None:
            self.close_connection = True
            return Reply.error(411, "a Content-Length is required", ErrorReason.INVALID_REQUEST_FORMAT)
        body = self._read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path.rstrip("/") or "/",
            query=dict(parse_qsl(parts.query)),
            body=body,
            content_type=self.headers.get("Content-Type"),
            lfdi=self.lfdi,
            sfdi=self.sfdi,
            meter_id=self.meter_id,
        )
        try:
            return self.server.app.handle(request)
        except Exception as exc:  # one bad request must not take the server down
            if is_disk_full(exc):  # the store cannot write: a client may try again later (told once, not per request)
                if not self.server.disk_full:
                    self.server.disk_full = True
                    log.error("no space left on the disk of the head-end's database (%s): answering 503", exc)
                reply = Reply.error(503, f"no space left on the disk: {exc}", ErrorReason.RESOURCE_LIMIT_REACHED)
                reply.headers["Retry-After"] = str(DISK_FULL_RETRY_S)
                return reply
            log.exception("internal error on %s %s", self.command, self.path)
            return Reply.error(500, "internal error", ErrorReason.INVALID_REQUEST_FORMAT)

    # every method goes through the router: an unsupported one gets a 2030.5 <Error> with 405 and Allow, not
    # http.server's HTML 501
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_TRACE = _dispatch


class HeadendServer(socketserver.ThreadingMixIn, HTTPServer):
    """Accepts TCP on the main thread; the TLS handshake and requests run in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        app: Headend,
        context: ssl.SSLContext,
        crl: Path | None,
        host: str = "127.0.0.1",
        port: int = 8443,
        max_connections: int | None = None,
    ) -> None:
        self.app = app
        self.context = context
        self.revocations = RevocationList(crl)
        self.stopping = False
        self._in_flight = 0
        self._idle = threading.Condition()
        self._connections: dict[socket.socket, tuple[bool, float]] = {}  # -> (busy, since when)
        self._open = 0  # accepted and not yet closed, handshakes included
        self._count = threading.Lock()
        self._reaped_at = 0.0
        self.max_connections = connection_cap() if max_connections is None else max_connections
        self.disk_full = False  # told once in the log; each request that fails to write is answered 503
        self.body_deadline = BODY_DEADLINE_S
        self.refused = 0  # connections turned away at the cap
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = str(host)
        return f"https://{'[' + host + ']' if ':' in host else host}:{port}"

    def enter(self, connection: Any) -> None:
        """A request on ``connection`` is being answered (a stop waits for it; the reaper leaves it alone)."""
        with self._idle:
            self._in_flight += 1
        self._mark(connection, busy=True)

    def leave(self, connection: Any) -> None:
        self._mark(connection, busy=False)
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def _mark(self, connection: Any, busy: bool) -> None:
        with self._count:
            if connection in self._connections:
                self._connections[connection] = (busy, time.monotonic())

    def process_request(self, request: Any, client_address: Any) -> None:
        """At the cap, the connection idle longest is closed to make room; with none idle, the new one is
        refused (closed at once): a flood of idle or trickling connections cannot lock meters out."""
        with self._count:
            full = self._open >= self.max_connections
            victim = None
            if full:  # only then is the idle one looked for (every open connection is looked at)
                idle = [(since, c) for c, (busy, since) in self._connections.items() if not busy]
                victim = min(idle, key=lambda x: x[0])[1] if idle else None
            if full and victim is None:
                self.refused += 1
            else:
                self._open += 1
        if victim is not None:
            _close(victim)
        elif full:
            if self.refused in (1, 10, 100) or self.refused % 1000 == 0:
                log.warning("%d connections open (the cap): refused %d so far", self.max_connections, self.refused)
            with contextlib.suppress(OSError):
                request.close()
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            with self._count:
                self._open -= 1
            raise

    def service_actions(self) -> None:
        """Once a second, from the accept loop: close connections with no request completed for
        IDLE_DEADLINE_S (keep-alive left idle, or headers trickling in a byte at a time)."""
        now = time.monotonic()
        if now - self._reaped_at >= 1.0:
            self._reaped_at = now
            self.reap(now)

    def reap(self, now: float) -> int:
        with self._count:
            stale = [c for c, (busy, since) in self._connections.items() if not busy and now - since > IDLE_DEADLINE_S]
        for connection in stale:
            _close(connection)
        return len(stale)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            self._finish(request, client_address)
        finally:
            with self._count:
                self._open -= 1

    def _finish(self, request: Any, client_address: Any) -> None:
        if self.app.faults.outage(self.app.clock.now()):
            request.close()  # an injected outage: the connection drops before any TLS
            return
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS handshake from %s refused: %s", client_address[0], getattr(exc, "reason", None) or exc)
            return
        with self._count:
            self._connections[tls] = (False, time.monotonic())
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            pass
        finally:
            with self._count:
                self._connections.pop(tls, None)
            with contextlib.suppress(OSError):
                tls.close()

    def start(self) -> HeadendServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="headend", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish (up to ``grace`` seconds), close idle connections."""
        self.stopping = True
        self.shutdown()
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=grace)
        with self._count:
            open_now = list(self._connections)
        for conn in open_now:
            _close(conn)
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=grace)


def _close(connection: Any) -> None:
    """End a connection from another thread: its handler's blocked read returns and it finishes."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def serve_on_loopback(headend: Headend, layout: Layout, version: str, ciphers: list[str]) -> HeadendServer:
    """``headend`` served on a free loopback port with the layout's head-end certificate, the TLS ``version`` and
    ``ciphers``; started (stop it with ``.stop()``)."""
    return HeadendServer(headend, server_context(layout, version, ciphers), layout.crl, port=0).start()

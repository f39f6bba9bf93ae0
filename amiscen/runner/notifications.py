"""The meters' side of Subscription/Notification: one HTTPS listener for the run that takes the head-end's
Notifications (POST to each meter's notificationURI, ``<base>/ntfy/<meter id>``) and hands each to its meter.

2030.5 devices are their own notification servers; a fleet of thousands shares one listener here, with a path per
meter and the first subscribing meter's certificate (the head-end checks the chain, as 2030.5 identifies by
certificate and not by host name). The head-end must show a certificate our CA signed; a body that is not a
Notification is answered 400, a meter we do not run 404, a meter offline by the scenario 503 (the head-end tries
again), and what is accepted is answered 201 only once it is in the meter's inbox: never acknowledged and lost.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from amiscen.sep.constants import SEP2_CIPHER
from amiscen.sep.model.common import Resource
from amiscen.sep.model.pubsub import Notification
from amiscen.sep.parse import MAX_BODY_BYTES, SepParseError, parse_notification

log = logging.getLogger("amiscen.runner.notifications")
PATH = "/ntfy/"
# (meter id, Notification, resource) -> the HTTP status to answer: 201 taken, 404 no such meter, 503 meter offline
Deliver = Callable[[str, Notification, Resource | None], int]


def listener_context(
    cert: Path, key: Path, ca: Path | None, ciphers: tuple[str, ...] = (SEP2_CIPHER,)
) -> ssl.SSLContext:
    """Server side of a notification POST: a meter certificate, the head-end's certificate required and checked
    against ``ca`` (None: not checked, as with ``tls.verify_server: false``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    if ca is not None:
        ctx.load_verify_locations(cafile=str(ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_ciphers(":".join(ciphers) + ":@SECLEVEL=0")
    return ctx


class NotificationListener:
    """Started with ``start()``; ``url_for(meter_id)`` is what a meter puts in its Subscription; ``stop()``."""

    def __init__(
        self,
        deliver: Deliver,
        context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
    ) -> None:
        self.deliver = deliver
        self.received = 0
        self.refused = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                status, detail = outer._take(self)
                self.send_response(status)
                body = detail.encode()
                self.send_header("Content-Length", str(len(body)))
                if body:
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("%s " + format, self.address_string(), *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        if context is not None:
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if context is not None else "http"
        bound = self._server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = (public_url or f"{scheme}://{shown}:{bound}").rstrip("/")
        self._thread: threading.Thread | None = None

    def url_for(self, meter_id: str) -> str:
        return f"{self.base_url}{PATH}{meter_id}"

    def _take(self, request: BaseHTTPRequestHandler) -> tuple[int, str]:
        path = urlsplit(request.path).path
        try:
            length = int(request.headers.get("Content-Length", ""))
        except ValueError:
            return self._refuse(411, "a Notification needs a Content-Length")
        if not 0 <= length <= MAX_BODY_BYTES:
            return self._refuse(413, f"a Notification is at most {MAX_BODY_BYTES:,} bytes")
        body = request.rfile.read(length)
        if not path.startswith(PATH):
            return self._refuse(404, f"notifications are POSTed to {PATH}<meter id>")
        meter_id = unquote(path[len(PATH) :])
        try:
            notification, resource = parse_notification(body)
        except SepParseError as exc:
            return self._refuse(400, f"not a 2030.5 Notification: {exc}")
        status = self.deliver(meter_id, notification, resource)
        if status == 404:
            return self._refuse(404, f"no meter {meter_id!r} in this run")
        if status == 503:
            return self._refuse(503, f"meter {meter_id} is offline (a scenario fault): try again later")
        self.received += 1
        return 201, ""

    def _refuse(self, status: int, detail: str) -> tuple[int, str]:
        self.refused += 1
        log.warning("notification refused (%d): %s", status, detail)
        return status, detail

    def start(self) -> NotificationListener:
        self._thread = threading.Thread(target=self._server.serve_forever, name="notifications", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

"""Notifications: when a subscribed resource changes, POST a Notification holding it to the subscriber's
notificationURI (over mutual TLS with the head-end's certificate for https).

A change is any difference in the resource's representation as its subscriber reads it (GET with the
subscription's limit), so every kind of change is caught the same way: an operator's new control, a control
becoming active, a client's own PUT, a pollRate set. The notifier looks at every accepted write and once a second.
A notification that cannot be delivered is retried with backoff (2 s doubling to 5 min) until it is, and every
failure is logged and counted on its subscription: never dropped in silence. What is retried is the resource's
latest state (a subscriber wants the resource, not its history). A resource that goes away (404) is notified with
status 4 (subscription cancelled: resource deleted) and the subscription ends.
"""

from __future__ import annotations

import bisect
import http.client
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from amiscen.gateway.http import Request
from amiscen.gateway.routes.pubsub import digest
from amiscen.sep.constants import MEDIA_TYPE
from amiscen.sep.model.pubsub import Notification
from amiscen.sep.render import render_bytes

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend

log = logging.getLogger("amiscen.headend.notify")
CHANGED = 0
CANCELLED_RESOURCE_DELETED = 4
FIRST_RETRY = 2.0
LAST_RETRY = 300.0
_ROOT = re.compile(r"^\s*<(?P<name>[A-Za-z]+)(?P<ns>(\s+xmlns(:\w+)?=\"[^\"]*\")*)")


def as_resource_element(document: str) -> str:
    """A rendered resource as Notification's ``Resource`` element: ``<DERControlList xmlns=...>...
    </DERControlList>`` becomes ``<Resource xsi:type="DERControlList">...</Resource>`` (the Notification declares
    the namespaces)."""
    match = _ROOT.match(document)
    if match is None:
        raise ValueError("not a rendered 2030.5 document")
    name = match.group("name")
    csipaus = ' xmlns:csipaus="https://csipaus.org/ns"' if "xmlns:csipaus" in (match.group("ns") or "") else ""
    head = f'<Resource xsi:type="{name}"{csipaus}'
    body = head + document[match.end() :]
    closing = f"</{name}>"
    end = body.rstrip()
    if not end.endswith(closing):  # an empty element: <Name .../>
        return body.rstrip()
    return end[: -len(closing)] + "</Resource>"


def at_changes(times: list[int], round_: Callable[[], Any]) -> Callable[[float], None]:
    """A function of the simulated time that calls ``round_`` whenever that time has passed one of ``times`` since
    it last called it (fast pace: a round of Notifications at each moment an event changes)."""
    ordered = sorted(set(times))
    passed = [0]  # how many of ordered had passed at the last round

    def at(now: float) -> None:
        reached = bisect.bisect_right(ordered, now)
        if reached > passed[0]:
            passed[0] = reached
            round_()

    return at


@dataclass
class _Retry:
    failures: int = 0
    not_before: float = 0.0


class Notifier:
    """Sends the Notifications of one head-end's subscriptions. ``check()`` does one round (tests call it);
    ``start()`` runs rounds on a thread, at every write the head-end accepts and once a ``interval``."""

    def __init__(
        self, app: Headend, tls: ssl.SSLContext | None = None, interval: float = 1.0, timeout: float = 10.0
    ) -> None:
        """``tls``: the client context for https notificationURIs (gateway/tls.py notification_context)."""
        self.app = app
        self.interval = interval
        self.timeout = timeout
        self.tls = tls or ssl.create_default_context()
        self.sent = 0
        self.failed = 0
        self._retry: dict[int, _Retry] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ------------------------------------------------------------------------------------------
    def check(self, now: float | None = None) -> int:
        """Compare every subscribed resource with what was last delivered; notify the changed. How many sent."""
        wall = time.monotonic() if now is None else now
        sent = 0
        for row in self.app.store.all("SELECT * FROM subscription ORDER BY id"):
            retry = self._retry.get(row["id"])
            if retry is not None and wall < retry.not_before:
                continue
            sent += self._check_one(row, wall)
        return sent

    def _check_one(self, row: Any, wall: float) -> int:
        subscriber = Request(
            method="GET",
            path=row["resource"],
            query={},
            body=b"",
            content_type=None,
            lfdi=row["lfdi"],
            sfdi=row["sfdi"],
            meter_id=row["meter_id"],
        )
        current = self.app.view(subscriber, row["resource"], {"l": str(row["lim"])})
        href = f"/edev/{row['edev_id']}/sub/{row['id']}"
        if current.status == 404:
            notification = Notification(
                subscribedResource=row["resource"], status=CANCELLED_RESOURCE_DELETED, subscriptionURI=href
            )
            if self._deliver(row, render_bytes(notification), wall):
                self.app.store.execute("DELETE FROM subscription WHERE id = ?", (row["id"],))
                return 1
            return 0
        if current.status != 200:
            return 0  # not readable now (revoked access): nothing to tell until it is
        seen = digest(current.body)
        if seen == row["digest"]:
            return 0
        notification = Notification(
            subscribedResource=row["resource"],
            status=CHANGED,
            subscriptionURI=href,
            Resource=as_resource_element(current.body.decode("utf-8")),
        )
        if not self._deliver(row, render_bytes(notification), wall):
            return 0
        self.app.store.execute(
            "UPDATE subscription SET digest = ?, delivered = delivered + 1 WHERE id = ?", (seen, row["id"])
        )
        return 1

    def _deliver(self, row: Any, body: bytes, wall: float) -> bool:
        try:
            status = self._post(row["notification_uri"], body)
            problem = None if status < 300 else f"HTTP {status}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"[:300]
        if problem is None:
            self._retry.pop(row["id"], None)
            self.sent += 1
            return True
        retry = self._retry.setdefault(row["id"], _Retry())
        retry.failures += 1
        retry.not_before = wall + min(LAST_RETRY, FIRST_RETRY * 2 ** (retry.failures - 1))
        self.failed += 1
        self.app.store.execute(
            "UPDATE subscription SET failures = failures + 1, last_error = ? WHERE id = ?", (problem, row["id"])
        )
        log.warning(
            "notification for %s to %s failed (%s); retry %d in %.0f s",
            row["resource"],
            row["notification_uri"],
            problem,
            retry.failures,
            retry.not_before - wall,
        )
        return False

    def _post(self, uri: str, body: bytes) -> int:
        """POST one notification (a connection of its own: subscribers are few and notifications rare)."""
        parts = urlsplit(uri)
        if parts.hostname is None:
            raise ValueError(f"no host in {uri!r}")
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=self.timeout, context=self.tls)
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
            connection.request("POST", target, body=body, headers={"Content-Type": MEDIA_TYPE})
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()

    def at_changes(self, times: list[int]) -> Callable[[float], None]:
        """For fast pace, where simulated time outruns any thread: a function of the simulated time that runs one
        round whenever that time has passed one of ``times`` (when events change) since it last ran."""
        return at_changes(times, lambda: self.check(time.monotonic()))

    # -- on a thread ----------------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> Notifier:
        self.app.changed = self.wake
        self._thread = threading.Thread(target=self._loop, name="notifier", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.check()
            except Exception:  # one bad round must not end notifications for good
                log.exception("notification round failed")

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
        self.app.changed = None

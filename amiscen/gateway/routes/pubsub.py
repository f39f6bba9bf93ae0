"""Subscription/Notification: a client's SubscriptionList under its own EndDevice. What it subscribes to must be
a resource it may read and that says it is subscribable; notify.py sends the Notifications."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.sep.model.common import Resource
from amiscen.sep.model.pubsub import Subscription, SubscriptionList

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend

XML_ENCODING = 0  # Subscription.encoding: application/sep+xml, the one this head-end sends
MAX_SUBSCRIPTIONS = 100  # per client
_SUBSCRIBABLE = re.compile(rb'^\s*<[A-Za-z]+[^>]*\ssubscribable="[12]"')


def register(app: Headend) -> None:
    app.router.add("/edev/{e}/sub", GET=subscription_list, POST=create_subscription)
    app.router.add("/edev/{e}/sub/{n}", GET=subscription, DELETE=delete_subscription)


def _subscriber(app: Headend, req: Request, e: int) -> Any:
    """The EndDevice holding the requester's subscriptions: its own (an aggregator's, not its site devices')."""
    row = app.own_device(req, e)
    if row["lfdi"] != req.lfdi:
        raise HttpError(404, f"no SubscriptionList at /edev/{e}/sub: subscriptions live under your own EndDevice")
    return row


def digest(body: bytes) -> str:
    """What a notification compares: the resource's representation as its subscriber reads it."""
    return hashlib.sha256(body).hexdigest()


def _subscription(row: Any) -> Subscription:
    return Subscription(
        href=f"/edev/{row['edev_id']}/sub/{row['id']}",
        subscribedResource=row["resource"],
        encoding=XML_ENCODING,
        level=row["level"],
        limit=row["lim"],
        notificationURI=row["notification_uri"],
    )


def subscription_list(app: Headend, req: Request, e: int) -> Reply:
    _subscriber(app, req, e)
    rows = app.store.all("SELECT * FROM subscription WHERE edev_id = ? ORDER BY id", (e,))
    items, total = window(rows, page(req.query, app.config.default_list_limit))
    return Reply.of(
        SubscriptionList(
            all=total,
            results=len(items),
            href=f"/edev/{e}/sub",
            pollRate=app.poll_rate("SubscriptionList"),
            Subscription=[_subscription(r) for r in items],
        )
    )


def create_subscription(app: Headend, req: Request, body: Resource, e: int) -> Reply:
    _subscriber(app, req, e)
    if not isinstance(body, Subscription):
        raise HttpError(400, f"expected a Subscription, got {type(body).__name__}")
    if body.encoding != XML_ENCODING:
        raise HttpError(400, f"encoding {body.encoding} is not supported (0: application/sep+xml)")
    if body.limit <= 0:
        raise HttpError(400, "limit must be at least 1")
    uri = urlsplit(body.notificationURI)
    if uri.scheme not in ("http", "https") or not uri.hostname:
        raise HttpError(400, f"notificationURI {body.notificationURI!r} is not an absolute http(s) URI")
    path = urlsplit(body.subscribedResource).path.rstrip("/") or "/"
    current = app.view(req, path)
    if current.status != 200:
        raise HttpError(
            403 if current.status == 403 else 400, f"cannot subscribe to {path}: GET answers {current.status}"
        )
    if not _SUBSCRIBABLE.match(current.body):
        raise HttpError(400, f"{path} is not subscribable")
    count = app.store.scalar("SELECT count(*) FROM subscription WHERE edev_id = ?", (e,))
    if count >= MAX_SUBSCRIPTIONS:
        raise HttpError(400, f"at most {MAX_SUBSCRIPTIONS} subscriptions per client")
    n = app.store.execute(
        "INSERT INTO subscription(edev_id, lfdi, sfdi, meter_id, resource, notification_uri, lim, level, created, "
        "digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e,
            req.lfdi,
            req.sfdi,
            req.meter_id,
            path,
            body.notificationURI,
            body.limit,
            body.level,
            app.clock.now(),
            digest(app.view(req, path, {"l": str(body.limit)}).body),  # changes from now on are notified
        ),
    )
    return Reply.created(f"/edev/{e}/sub/{n}")


def _own_subscription(app: Headend, req: Request, e: int, n: int) -> Any:
    _subscriber(app, req, e)
    row = app.store.one("SELECT * FROM subscription WHERE edev_id = ? AND id = ?", (e, n))
    if row is None:
        raise HttpError(404, f"no Subscription {n}")
    return row


def subscription(app: Headend, req: Request, e: int, n: int) -> Reply:
    return Reply.of(_subscription(_own_subscription(app, req, e, n)))


def delete_subscription(app: Headend, req: Request, e: int, n: int) -> Reply:
    _own_subscription(app, req, e, n)
    app.store.execute("DELETE FROM subscription WHERE id = ?", (n,))
    return Reply(204)

"""Subscription/Notification: a client subscribes to a resource; the server POSTs a Notification to the client's
notificationURI whenever that resource changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from amiscen.sep.model.common import Resource

__all__ = ["Notification", "Subscription", "SubscriptionList"]


@dataclass(frozen=True)
class Subscription(Resource):
    subscribedResource: str
    encoding: int  # 0: application/sep+xml
    level: str  # "+S1": the resource's whole representation
    limit: int  # at most this many list items in a notification
    notificationURI: str
    href: str | None = None


@dataclass(frozen=True)
class SubscriptionList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    Subscription: list[Subscription] = field(default_factory=list)


@dataclass(frozen=True)
class Notification(Resource):
    subscribedResource: str
    status: int  # 0: the resource changed (Resource holds it); 1-4: the subscription was cancelled
    subscriptionURI: str
    href: str | None = None
    newResourceURI: str | None = None
    # the changed resource, already rendered as an element named Resource with xsi:type (see notify.py)
    Resource: str | None = None

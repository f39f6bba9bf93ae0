"""What the runner reports as it goes. The runner never prints: handlers (console, logs, record, metrics)
consume these."""

from __future__ import annotations

from dataclasses import dataclass

from amiscen.runner.quantities import Interval
from amiscen.runner.transport import Exchange


@dataclass(frozen=True)
class Exchanged:
    meter: str
    sim_time: float
    exchange: Exchange


@dataclass(frozen=True)
class Generated:
    meter: str
    intervals: tuple[Interval, ...]
    quantities: int  # readings per interval


@dataclass(frozen=True)
class Delivered:
    meter: str
    kind: str
    readings: int
    sim_time: float


@dataclass(frozen=True)
class Failed:
    meter: str
    sim_time: float
    what: str
    failure: str  # tls / connect / timeout / http_4xx / http_5xx / http_429 / protocol
    detail: str
    will_retry: bool


@dataclass(frozen=True)
class Connected:
    meter: str
    sim_time: float
    mirror: str


@dataclass(frozen=True)
class Responded:
    meter: str
    event_id: str
    kind: str
    status: int
    sim_time: float


@dataclass(frozen=True)
class Note:
    meter: str | None
    sim_time: float
    message: str
    level: str = "info"


@dataclass(frozen=True)
class Progress:
    sim_time: float
    end_time: float


@dataclass(frozen=True)
class Subscribed:
    """A meter subscribed to an event list (``subscription``: the Subscription's href on the server)."""

    meter: str
    sim_time: float
    resource: str
    subscription: str


@dataclass(frozen=True)
class Notified:
    """A Notification a meter took: ``status`` 0 a changed resource (``controls`` in it), 1-4 an ended
    subscription."""

    meter: str
    sim_time: float
    resource: str
    status: int
    controls: int


RunEvent = Exchanged | Generated | Delivered | Failed | Connected | Responded | Note | Progress | Subscribed | Notified

"""Building blocks shared by many resources: links, intervals, event status, power values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

__all__ = [
    "ATTRIBUTES",
    "ActivePower",
    "DateTimeInterval",
    "EventStatus",
    "Hex",
    "Link",
    "ListLink",
    "Resource",
    "SignedRealEnergy",
]

# names that are XML attributes rather than elements
ATTRIBUTES = frozenset({"href", "pollRate", "all", "results", "replyTo", "responseRequired", "subscribable"})


@dataclass(frozen=True)
class Hex:
    """Marks an int field that travels as hexBinary with this many digits (always an even number)."""

    digits: int


Hex8 = Annotated[int, Hex(2)]
Hex16 = Annotated[int, Hex(4)]
Hex32 = Annotated[int, Hex(8)]


class Resource:
    """Base of every top-level resource; the template is ``<class name>.xml.j2``."""


@dataclass(frozen=True)
class Link:
    href: str


@dataclass(frozen=True)
class ListLink:
    href: str
    all: int | None = None


@dataclass(frozen=True)
class DateTimeInterval:
    duration: int
    start: int


@dataclass(frozen=True)
class EventStatus:
    currentStatus: int
    dateTime: int
    potentiallySuperseded: bool = False
    potentiallySupersededTime: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ActivePower:
    """Watts as value x 10^multiplier; value is an Int16."""

    multiplier: int
    value: int

    @classmethod
    def of_watts(cls, watts: float) -> ActivePower:
        multiplier = 0
        value = round(watts)
        while abs(value) > 32767:
            multiplier += 1
            value = round(watts / 10**multiplier)
        return cls(multiplier=multiplier, value=value)

    @property
    def watts(self) -> float:
        return float(self.value * 10**self.multiplier)


@dataclass(frozen=True)
class SignedRealEnergy:
    """Wh as value x 10^multiplier; value is an Int48."""

    multiplier: int
    value: int

    @classmethod
    def of_wh(cls, wh: float) -> SignedRealEnergy:
        return cls(multiplier=0, value=round(wh))

    @property
    def wh(self) -> float:
        return float(self.value * 10**self.multiplier)

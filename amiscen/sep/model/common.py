"""Building blocks shared by many resources: links, intervals, event status, power values."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated

__all__ = [
    "ATTRIBUTES",
    "CSIPAUS",
    "ActivePower",
    "DateTimeInterval",
    "EventStatus",
    "Hex",
    "HexValue",
    "Link",
    "ListLink",
    "Resource",
    "SignedRealEnergy",
    "scaled",
]

# names that are XML attributes rather than elements
ATTRIBUTES = frozenset({"href", "pollRate", "all", "results", "replyTo", "responseRequired", "subscribable"})


@dataclass(frozen=True)
class Hex:
    """Marks an int field that travels as hexBinary with this many digits (always an even number)."""

    digits: int


class HexValue(int):
    """A hexBinary number as it was written: ``03`` and ``00000003`` are the same number, and a resource stored
    and served again keeps the writer's digits (clients compare what they PUT with what they GET)."""

    width: int

    def __new__(cls, value: int, width: int = 0) -> HexValue:
        number = super().__new__(cls, value)
        number.width = width
        return number

    def __getnewargs__(self) -> tuple[int, int]:  # type: ignore[override]  # copies and pickles keep the width
        return int(self), self.width


Hex8 = Annotated[int, Hex(2)]
Hex16 = Annotated[int, Hex(4)]
Hex32 = Annotated[int, Hex(8)]


class Resource:
    """Base of every top-level resource; the template is ``<class name>.xml.j2``."""


# metadata of a field that is a CSIP-AUS extension element (``csipaus:NAME`` in https://csipaus.org/ns): parsed
# from that namespace only, rendered with its prefix, and left out of the 2030.5 core
CSIPAUS = MappingProxyType({"ns": "csipaus"})


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


def scaled(amount: float, low: int, high: int) -> tuple[int, int]:
    """(multiplier, value) with amount ~ value x 10^multiplier and value in [low, high]: the smallest multiplier
    that fits, as 2030.5's power and energy types (an integer with a power-of-ten multiplier) need."""
    multiplier = 0
    value = round(amount)
    while not low <= value <= high:
        multiplier += 1
        value = round(amount / 10**multiplier)
    return multiplier, value


@dataclass(frozen=True)
class Scaled:
    """A 2030.5 quantity as value x 10^multiplier (ActivePower, ReactivePower, ApparentPower)."""

    multiplier: int
    value: int

    @property
    def amount(self) -> float:
        return float(self.value * 10**self.multiplier)


@dataclass(frozen=True)
class ActivePower(Scaled):
    """Watts; value is an Int16."""

    @classmethod
    def of_watts(cls, watts: float) -> ActivePower:
        return cls(*scaled(watts, -32768, 32767))

    @property
    def watts(self) -> float:
        return self.amount


@dataclass(frozen=True)
class ReactivePower(Scaled):
    """var; value is an Int16."""

    @classmethod
    def of_var(cls, var: float) -> ReactivePower:
        return cls(*scaled(var, -32768, 32767))

    @property
    def var(self) -> float:
        return self.amount


@dataclass(frozen=True)
class ApparentPower(Scaled):
    """VA; value is a UInt16."""

    @classmethod
    def of_va(cls, va: float) -> ApparentPower:
        return cls(*scaled(va, 0, 65535))


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

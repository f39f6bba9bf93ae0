"""Metering mirror and the usage points it exposes: readings, reading types, reading sets."""

from __future__ import annotations

from dataclasses import dataclass, field

from amiscen.sep.model.common import DateTimeInterval, Hex16, Link, ListLink, Resource

__all__ = [
    "MeterReading",
    "MeterReadingList",
    "MirrorMeterReading",
    "MirrorMeterReadingList",
    "MirrorReadingSet",
    "MirrorUsagePoint",
    "MirrorUsagePointList",
    "Reading",
    "ReadingList",
    "ReadingSet",
    "ReadingSetList",
    "ReadingType",
    "UsagePoint",
    "UsagePointList",
]


@dataclass(frozen=True)
class ReadingType(Resource):
    href: str | None = None
    accumulationBehaviour: int | None = None
    commodity: int | None = None
    dataQualifier: int | None = None
    flowDirection: int | None = None
    intervalLength: int | None = None
    kind: int | None = None
    phase: int | None = None
    powerOfTenMultiplier: int | None = None
    uom: int | None = None


@dataclass(frozen=True)
class Reading(Resource):
    href: str | None = None
    qualityFlags: Hex16 | None = None
    timePeriod: DateTimeInterval | None = None
    value: int | None = None
    localID: Hex16 | None = None


@dataclass(frozen=True)
class MirrorReadingSet:
    mRID: str
    timePeriod: DateTimeInterval
    description: str | None = None
    version: int | None = None
    Reading: list[Reading] = field(default_factory=list)


@dataclass(frozen=True)
class MirrorMeterReading(Resource):
    mRID: str
    href: str | None = None
    description: str | None = None
    version: int | None = None
    lastUpdateTime: int | None = None
    MirrorReadingSet: list[MirrorReadingSet] = field(default_factory=list)
    nextUpdateTime: int | None = None
    Reading: Reading | None = None
    ReadingType: ReadingType | None = None


@dataclass(frozen=True)
class MirrorMeterReadingList(Resource):
    """Several quantities in one POST to a MirrorUsagePoint."""

    all: int
    results: int
    href: str | None = None
    MirrorMeterReading: list[MirrorMeterReading] = field(default_factory=list)


@dataclass(frozen=True)
class MirrorUsagePoint(Resource):
    mRID: str
    roleFlags: Hex16
    serviceCategoryKind: int
    status: int
    deviceLFDI: str
    href: str | None = None
    description: str | None = None
    version: int | None = None
    MirrorMeterReading: list[MirrorMeterReading] = field(default_factory=list)
    postRate: int | None = None


@dataclass(frozen=True)
class MirrorUsagePointList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    MirrorUsagePoint: list[MirrorUsagePoint] = field(default_factory=list)


@dataclass(frozen=True)
class UsagePoint(Resource):
    mRID: str
    roleFlags: Hex16
    serviceCategoryKind: int
    status: int
    href: str | None = None
    description: str | None = None
    version: int | None = None
    deviceLFDI: str | None = None
    MeterReadingListLink: ListLink | None = None


@dataclass(frozen=True)
class UsagePointList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    UsagePoint: list[UsagePoint] = field(default_factory=list)


@dataclass(frozen=True)
class MeterReading(Resource):
    mRID: str
    ReadingTypeLink: Link
    href: str | None = None
    description: str | None = None
    version: int | None = None
    ReadingLink: Link | None = None
    ReadingSetListLink: ListLink | None = None


@dataclass(frozen=True)
class MeterReadingList(Resource):
    all: int
    results: int
    href: str | None = None
    MeterReading: list[MeterReading] = field(default_factory=list)


@dataclass(frozen=True)
class ReadingList(Resource):
    all: int
    results: int
    href: str | None = None
    Reading: list[Reading] = field(default_factory=list)


@dataclass(frozen=True)
class ReadingSet(Resource):
    mRID: str
    timePeriod: DateTimeInterval
    href: str | None = None
    description: str | None = None
    version: int | None = None
    ReadingListLink: ListLink | None = None


@dataclass(frozen=True)
class ReadingSetList(Resource):
    all: int
    results: int
    href: str | None = None
    ReadingSet: list[ReadingSet] = field(default_factory=list)

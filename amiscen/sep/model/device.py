"""Discovery and the device: DeviceCapability, EndDevice, Registration, FunctionSetAssignments, Time."""

from __future__ import annotations

from dataclasses import dataclass, field

from amiscen.sep.model.common import CSIPAUS, Hex32, Link, ListLink, Resource

__all__ = [
    "ConnectionPoint",
    "DeviceCapability",
    "EndDevice",
    "EndDeviceList",
    "FunctionSetAssignments",
    "FunctionSetAssignmentsList",
    "Registration",
    "Time",
]


@dataclass(frozen=True)
class DeviceCapability(Resource):
    href: str | None = None
    pollRate: int | None = None
    DemandResponseProgramListLink: ListLink | None = None
    DERProgramListLink: ListLink | None = None
    ResponseSetListLink: ListLink | None = None
    TimeLink: Link | None = None
    UsagePointListLink: ListLink | None = None
    EndDeviceListLink: ListLink | None = None
    MirrorUsagePointListLink: ListLink | None = None
    SelfDeviceLink: Link | None = None


@dataclass(frozen=True)
class EndDevice(Resource):
    sFDI: int
    changedTime: int
    href: str | None = None
    subscribable: int | None = None
    DERListLink: ListLink | None = None
    deviceCategory: Hex32 | None = None
    lFDI: str | None = None
    LogEventListLink: ListLink | None = None
    enabled: bool | None = None
    FlowReservationRequestListLink: ListLink | None = None
    FlowReservationResponseListLink: ListLink | None = None
    FunctionSetAssignmentsListLink: ListLink | None = None
    postRate: int | None = None
    RegistrationLink: Link | None = None
    SubscriptionListLink: ListLink | None = None
    ConnectionPointLink: Link | None = field(default=None, metadata=CSIPAUS)


@dataclass(frozen=True)
class ConnectionPoint(Resource):
    """CSIP-AUS: where an EndDevice is connected to the network (its NMI), PUT to the EndDevice's
    csipaus:ConnectionPointLink."""

    connectionPointId: str | None = field(default=None, metadata=CSIPAUS)
    href: str | None = None


@dataclass(frozen=True)
class EndDeviceList(Resource):
    all: int
    results: int
    href: str | None = None
    subscribable: int | None = None
    pollRate: int | None = None
    EndDevice: list[EndDevice] = field(default_factory=list)


@dataclass(frozen=True)
class Registration(Resource):
    dateTimeRegistered: int
    pIN: int
    href: str | None = None
    pollRate: int | None = None


@dataclass(frozen=True)
class FunctionSetAssignments(Resource):
    mRID: str
    href: str | None = None
    subscribable: int | None = None
    DemandResponseProgramListLink: ListLink | None = None
    DERProgramListLink: ListLink | None = None
    ResponseSetListLink: ListLink | None = None
    TimeLink: Link | None = None
    UsagePointListLink: ListLink | None = None
    description: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class FunctionSetAssignmentsList(Resource):
    all: int
    results: int
    href: str | None = None
    subscribable: int | None = None
    pollRate: int | None = None
    FunctionSetAssignments: list[FunctionSetAssignments] = field(default_factory=list)


@dataclass(frozen=True)
class Time(Resource):
    currentTime: int
    dstEndTime: int
    dstOffset: int
    dstStartTime: int
    quality: int
    tzOffset: int
    href: str | None = None
    pollRate: int | None = None
    localTime: int | None = None

"""Responses, flow reservations (P2P trading), log events and errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from amiscen.sep.model.common import (
    ActivePower,
    DateTimeInterval,
    EventStatus,
    Hex8,
    ListLink,
    Resource,
    SignedRealEnergy,
)

__all__ = [
    "DERControlResponse",
    "DrResponse",
    "Error",
    "FlowReservationRequest",
    "FlowReservationRequestList",
    "FlowReservationResponse",
    "FlowReservationResponseList",
    "LogEvent",
    "LogEventList",
    "RequestStatus",
    "Response",
    "ResponseList",
    "ResponseSet",
    "ResponseSetList",
]


@dataclass(frozen=True)
class Response(Resource):
    endDeviceLFDI: str
    subject: str
    href: str | None = None
    createdDateTime: int | None = None
    status: int | None = None


@dataclass(frozen=True)
class DERControlResponse(Response):
    pass


@dataclass(frozen=True)
class DrResponse(Response):
    pass


@dataclass(frozen=True)
class ResponseList(Resource):
    all: int
    results: int
    href: str | None = None
    Response: list[Response] = field(default_factory=list)


@dataclass(frozen=True)
class ResponseSet(Resource):
    mRID: str
    href: str | None = None
    description: str | None = None
    version: int | None = None
    ResponseListLink: ListLink | None = None


@dataclass(frozen=True)
class ResponseSetList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    ResponseSet: list[ResponseSet] = field(default_factory=list)


@dataclass(frozen=True)
class RequestStatus:
    dateTime: int
    requestStatus: int


@dataclass(frozen=True)
class FlowReservationRequest(Resource):
    mRID: str
    creationTime: int
    energyRequested: SignedRealEnergy
    intervalRequested: DateTimeInterval
    powerRequested: ActivePower
    RequestStatus: RequestStatus
    href: str | None = None
    description: str | None = None
    version: int | None = None
    durationRequested: int | None = None


@dataclass(frozen=True)
class FlowReservationRequestList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    FlowReservationRequest: list[FlowReservationRequest] = field(default_factory=list)


@dataclass(frozen=True)
class FlowReservationResponse(Resource):
    mRID: str
    creationTime: int
    EventStatus: EventStatus
    interval: DateTimeInterval
    energyAvailable: SignedRealEnergy
    powerAvailable: ActivePower
    subject: str
    href: str | None = None
    replyTo: str | None = None
    responseRequired: Hex8 | None = None
    subscribable: int | None = None
    description: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class FlowReservationResponseList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    FlowReservationResponse: list[FlowReservationResponse] = field(default_factory=list)


@dataclass(frozen=True)
class LogEvent(Resource):
    createdDateTime: int
    functionSet: int
    logEventCode: int
    logEventID: int
    logEventPEN: int
    profileID: int
    href: str | None = None
    details: str | None = None
    extendedData: int | None = None


@dataclass(frozen=True)
class LogEventList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    LogEvent: list[LogEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Error(Resource):
    reasonCode: int
    maxRetryDuration: int | None = None

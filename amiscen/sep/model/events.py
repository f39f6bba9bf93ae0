"""Utility events: demand response (EndDeviceControl) and DER control programs."""

from __future__ import annotations

from dataclasses import dataclass, field

from amiscen.sep.model.common import (
    CSIPAUS,
    ActivePower,
    DateTimeInterval,
    EventStatus,
    Hex8,
    Hex32,
    Link,
    ListLink,
    Resource,
)

__all__ = [
    "DERControl",
    "DERControlBase",
    "DERControlList",
    "DERProgram",
    "DERProgramList",
    "DefaultDERControl",
    "DemandResponseProgram",
    "DemandResponseProgramList",
    "EndDeviceControl",
    "EndDeviceControlList",
    "Offset",
    "TargetReduction",
]


@dataclass(frozen=True)
class TargetReduction:
    type: int  # UnitType: 0 kWh, 1 kW, 2 W
    value: int  # UInt16


@dataclass(frozen=True)
class Offset:
    loadAdjustmentPercentageOffset: int | None = None  # hundredths of a percent


@dataclass(frozen=True)
class DemandResponseProgram(Resource):
    mRID: str
    primacy: int
    href: str | None = None
    description: str | None = None
    version: int | None = None
    ActiveEndDeviceControlListLink: ListLink | None = None
    EndDeviceControlListLink: ListLink | None = None


@dataclass(frozen=True)
class DemandResponseProgramList(Resource):
    all: int
    results: int
    href: str | None = None
    subscribable: int | None = None
    pollRate: int | None = None
    DemandResponseProgram: list[DemandResponseProgram] = field(default_factory=list)


@dataclass(frozen=True)
class EndDeviceControl(Resource):
    mRID: str
    creationTime: int
    EventStatus: EventStatus
    interval: DateTimeInterval
    deviceCategory: Hex32
    href: str | None = None
    replyTo: str | None = None
    responseRequired: Hex8 | None = None
    description: str | None = None
    version: int | None = None
    randomizeDuration: int | None = None
    randomizeStart: int | None = None
    drProgramMandatory: bool = False
    loadShiftForward: bool = False
    Offset: Offset | None = None
    TargetReduction: TargetReduction | None = None


@dataclass(frozen=True)
class EndDeviceControlList(Resource):
    all: int
    results: int
    href: str | None = None
    subscribable: int | None = None
    EndDeviceControl: list[EndDeviceControl] = field(default_factory=list)


@dataclass(frozen=True)
class DERControlBase:
    opModConnect: bool | None = None
    opModEnergize: bool | None = None
    opModFixedW: int | None = None  # SignedPerCent: hundredths of a percent of setMaxW
    opModMaxLimW: int | None = None  # PerCent: hundredths of a percent of setMaxW
    opModTargetW: ActivePower | None = None
    rampTms: int | None = None
    # CSIP-AUS dynamic operating envelope, at the connection point (imp/exp) or per DER (gen/load)
    opModImpLimW: ActivePower | None = field(default=None, metadata=CSIPAUS)
    opModExpLimW: ActivePower | None = field(default=None, metadata=CSIPAUS)
    opModGenLimW: ActivePower | None = field(default=None, metadata=CSIPAUS)
    opModLoadLimW: ActivePower | None = field(default=None, metadata=CSIPAUS)


@dataclass(frozen=True)
class DERProgram(Resource):
    mRID: str
    primacy: int
    href: str | None = None
    subscribable: int | None = None
    description: str | None = None
    version: int | None = None
    ActiveDERControlListLink: ListLink | None = None
    DefaultDERControlLink: Link | None = None
    DERControlListLink: ListLink | None = None


@dataclass(frozen=True)
class DERProgramList(Resource):
    all: int
    results: int
    href: str | None = None
    subscribable: int | None = None
    pollRate: int | None = None
    DERProgram: list[DERProgram] = field(default_factory=list)


@dataclass(frozen=True)
class DERControl(Resource):
    mRID: str
    creationTime: int
    EventStatus: EventStatus
    interval: DateTimeInterval
    DERControlBase: DERControlBase
    href: str | None = None
    replyTo: str | None = None
    responseRequired: Hex8 | None = None
    description: str | None = None
    version: int | None = None
    randomizeDuration: int | None = None
    randomizeStart: int | None = None
    deviceCategory: Hex32 | None = None


@dataclass(frozen=True)
class DERControlList(Resource):
    all: int
    results: int
    href: str | None = None
    subscribable: int | None = None
    DERControl: list[DERControl] = field(default_factory=list)


@dataclass(frozen=True)
class DefaultDERControl(Resource):
    mRID: str
    DERControlBase: DERControlBase
    href: str | None = None
    subscribable: int | None = None
    description: str | None = None
    version: int | None = None
    setGradW: int | None = None

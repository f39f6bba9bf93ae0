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
    ReactivePower,
    Resource,
)

__all__ = [
    "CurveData",
    "DERControl",
    "DERControlBase",
    "DERControlList",
    "DERCurve",
    "DERCurveList",
    "DERProgram",
    "DERProgramList",
    "DefaultDERControl",
    "DemandResponseProgram",
    "DemandResponseProgramList",
    "EndDeviceControl",
    "EndDeviceControlList",
    "FixedVar",
    "FreqDroopType",
    "Offset",
    "PowerFactorWithExcitation",
    "ReactivePower",
    "TargetReduction",
]

# DERControlBase's curve modes (a DERCurveLink each), in sep.xsd's order, with their DERCurve.curveType
CURVE_MODES = {
    "opModFreqWatt": 0,
    "opModHFRTMayTrip": 1,
    "opModHFRTMustTrip": 2,
    "opModHVRTMayTrip": 3,
    "opModHVRTMomentaryCessation": 4,
    "opModHVRTMustTrip": 5,
    "opModLFRTMayTrip": 6,
    "opModLFRTMustTrip": 7,
    "opModLVRTMayTrip": 8,
    "opModLVRTMomentaryCessation": 9,
    "opModLVRTMustTrip": 10,
    "opModVoltVar": 11,
    "opModVoltWatt": 12,
    "opModWattPF": 13,
    "opModWattVar": 14,
}


def _scaled(value: int, multiplier: int) -> float:
    """value x 10^multiplier, exact where it can be (95 x 10^-2 is 0.95, not 0.9500000000000001)."""
    return value / 10**-multiplier if multiplier < 0 else float(value * 10**multiplier)


@dataclass(frozen=True)
class PowerFactorWithExcitation:
    displacement: int  # UInt16: cos(phi) x 10^-multiplier
    excitation: bool  # True: absorbing reactive power (under-excited)
    multiplier: int

    @property
    def factor(self) -> float:
        return _scaled(self.displacement, self.multiplier)


@dataclass(frozen=True)
class FreqDroopType:
    """Frequency-watt as parameters: dead bands in thousandths of Hz, droops in thousandths (per-unit frequency
    change for a per-unit power change), the open-loop time in hundredths of a second."""

    dBOF: int
    dBUF: int
    kOF: int
    kUF: int
    openLoopTms: int


@dataclass(frozen=True)
class FixedVar:
    refType: int  # DERUnitRefType: 2 %setMaxVar, 3 %statVarAvail
    value: int  # SignedPerCent: hundredths of a percent, + injecting


# DERControlBase fields that are records of their own, by their type
RECORD_TYPES: dict[str, type] = {
    "opModFixedPFAbsorbW": PowerFactorWithExcitation,
    "opModFixedPFInjectW": PowerFactorWithExcitation,
    "opModFixedVar": FixedVar,
    "opModFreqDroop": FreqDroopType,
}


@dataclass(frozen=True)
class CurveData:
    xvalue: int
    yvalue: int
    excitation: bool | None = None


@dataclass(frozen=True)
class DERCurve(Resource):
    """A curve a DERControl points to (volt-var, volt-watt, freq-watt, ...): x and y scaled by their multipliers,
    y in the unit ``yRefType`` names (a percent of setMaxW, setMaxVar, ...)."""

    mRID: str
    creationTime: int
    curveType: int
    xMultiplier: int
    yMultiplier: int
    yRefType: int
    href: str | None = None
    description: str | None = None
    version: int | None = None
    CurveData: list[CurveData] = field(default_factory=list)
    openLoopTms: int | None = None
    rampDecTms: int | None = None
    rampIncTms: int | None = None
    rampPT1Tms: int | None = None
    vRef: int | None = None

    def points(self) -> list[tuple[float, float]]:
        """(x, y) in the curve's units, x ascending."""
        return sorted((d.xvalue * 10.0**self.xMultiplier, d.yvalue * 10.0**self.yMultiplier) for d in self.CurveData)


@dataclass(frozen=True)
class DERCurveList(Resource):
    all: int
    results: int
    href: str | None = None
    DERCurve: list[DERCurve] = field(default_factory=list)


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
    opModFixedPFAbsorbW: PowerFactorWithExcitation | None = None  # while absorbing active power (charging)
    opModFixedPFInjectW: PowerFactorWithExcitation | None = None  # while injecting active power
    opModFixedVar: FixedVar | None = None
    opModFixedW: int | None = None  # SignedPerCent: hundredths of a percent of setMaxW
    opModFreqDroop: FreqDroopType | None = None
    opModFreqWatt: Link | None = None  # the curve modes: a DERCurveLink each (CURVE_MODES)
    opModHFRTMayTrip: Link | None = None
    opModHFRTMustTrip: Link | None = None
    opModHVRTMayTrip: Link | None = None
    opModHVRTMomentaryCessation: Link | None = None
    opModHVRTMustTrip: Link | None = None
    opModLFRTMayTrip: Link | None = None
    opModLFRTMustTrip: Link | None = None
    opModLVRTMayTrip: Link | None = None
    opModLVRTMomentaryCessation: Link | None = None
    opModLVRTMustTrip: Link | None = None
    opModMaxLimW: int | None = None  # PerCent: hundredths of a percent of setMaxW
    opModTargetVar: ReactivePower | None = None
    opModTargetW: ActivePower | None = None
    opModVoltVar: Link | None = None
    opModVoltWatt: Link | None = None
    opModWattPF: Link | None = None
    opModWattVar: Link | None = None
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
    DERCurveListLink: ListLink | None = None


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

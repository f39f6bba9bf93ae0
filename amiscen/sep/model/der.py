"""DER singletons a prosumer PUTs under its EndDevice's DER: capability, settings, status, availability."""

from __future__ import annotations

from dataclasses import dataclass, field

from amiscen.sep.model.common import (
    CSIPAUS,
    ActivePower,
    ApparentPower,
    Hex8,
    Hex32,
    Link,
    ReactivePower,
    Resource,
    scaled,
)

__all__ = [
    "DER",
    "ConnectStatus",
    "DERAvailability",
    "DERCapability",
    "DERList",
    "DERSettings",
    "DERStatus",
    "ManufacturerStatus",
    "StateOfCharge",
    "StatusValue",
    "WattHour",
]


@dataclass(frozen=True)
class WattHour:
    """Wh as value x 10^multiplier; value is a UInt16."""

    multiplier: int
    value: int

    @classmethod
    def of_wh(cls, wh: float) -> WattHour:
        return cls(*scaled(max(wh, 0.0), 0, 65535))


@dataclass(frozen=True)
class ConnectStatus:
    dateTime: int
    value: Hex8


@dataclass(frozen=True)
class StatusValue:
    """DERStatus's inverterStatus, localControlModeStatus, operationalModeStatus, storageModeStatus."""

    dateTime: int
    value: int  # UInt8, the enumeration of its kind


@dataclass(frozen=True)
class ManufacturerStatus:
    dateTime: int
    value: str  # String6


@dataclass(frozen=True)
class StateOfCharge:
    dateTime: int
    value: int  # PerCent: hundredths of a percent


@dataclass(frozen=True)
class DER(Resource):
    href: str | None = None
    AssociatedUsagePointLink: Link | None = None
    CurrentDERProgramLink: Link | None = None
    DERAvailabilityLink: Link | None = None
    DERCapabilityLink: Link | None = None
    DERSettingsLink: Link | None = None
    DERStatusLink: Link | None = None


@dataclass(frozen=True)
class DERList(Resource):
    all: int
    results: int
    href: str | None = None
    pollRate: int | None = None
    DER: list[DER] = field(default_factory=list)


@dataclass(frozen=True)
class DERCapability(Resource):
    modesSupported: Hex32
    rtgMaxW: ActivePower
    type: int
    href: str | None = None
    rtgMaxChargeRateW: ActivePower | None = None
    rtgMaxDischargeRateW: ActivePower | None = None
    rtgMaxVA: ApparentPower | None = None
    rtgMaxVar: ReactivePower | None = None
    rtgMaxWh: WattHour | None = None
    doeModesSupported: Hex8 | None = field(
        default=None, metadata=CSIPAUS
    )  # CSIP-AUS DOE modes: bit 0 export, 1 import, 2 generation, 3 load


@dataclass(frozen=True)
class DERSettings(Resource):
    setGradW: int
    setMaxW: ActivePower
    updatedTime: int
    href: str | None = None
    subscribable: int | None = None
    modesEnabled: Hex32 | None = None
    setMaxChargeRateW: ActivePower | None = None
    setMaxDischargeRateW: ActivePower | None = None
    setMaxVA: ApparentPower | None = None
    setMaxVar: ReactivePower | None = None
    setMaxWh: WattHour | None = None
    doeModesEnabled: Hex8 | None = field(default=None, metadata=CSIPAUS)


@dataclass(frozen=True)
class DERStatus(Resource):
    readingTime: int
    href: str | None = None
    subscribable: int | None = None
    alarmStatus: Hex32 | None = None
    genConnectStatus: ConnectStatus | None = None
    inverterStatus: StatusValue | None = None
    localControlModeStatus: StatusValue | None = None
    manufacturerStatus: ManufacturerStatus | None = None
    operationalModeStatus: StatusValue | None = None
    stateOfChargeStatus: StateOfCharge | None = None
    storageModeStatus: StatusValue | None = None
    storConnectStatus: ConnectStatus | None = None


@dataclass(frozen=True)
class DERAvailability(Resource):
    readingTime: int
    href: str | None = None
    subscribable: int | None = None
    availabilityDuration: int | None = None
    maxChargeDuration: int | None = None
    reserveChargePercent: int | None = None
    reservePercent: int | None = None
    statWAvail: ActivePower | None = None

"""The documents a meter sends, built in one place: the runner sends them and `amiscen validate --xsd` checks
samples of them against the user's schema."""

from __future__ import annotations

import dataclasses
import hashlib

from amiscen.runner.physics import VAR_SHARE
from amiscen.runner.quantities import Interval, Quantity, mmr_mrid, mup_mrid
from amiscen.scenario.events import FlowReservation
from amiscen.scenario.model import MeterSpec
from amiscen.sep import constants as c
from amiscen.sep.ids import mrid
from amiscen.sep.model.common import ActivePower, ApparentPower, DateTimeInterval, ReactivePower, SignedRealEnergy
from amiscen.sep.model.der import (
    ConnectStatus,
    DERAvailability,
    DERCapability,
    DERSettings,
    DERStatus,
    StateOfCharge,
    WattHour,
)
from amiscen.sep.model.device import EndDevice
from amiscen.sep.model.metering import (
    MirrorMeterReading,
    MirrorMeterReadingList,
    MirrorReadingSet,
    MirrorUsagePoint,
    Reading,
)
from amiscen.sep.model.misc import FlowReservationRequest, LogEvent, RequestStatus, Response
from amiscen.sep.parse import SepParseError, parse_as
from amiscen.sep.render import render_bytes


def end_device(lfdi: str, sfdi: int, device_category: int) -> EndDevice:
    return EndDevice(sFDI=sfdi, lFDI=lfdi, changedTime=0, deviceCategory=device_category)


def mirror_usage_point(
    pen: int, meter_id: str, lfdi: str, quantities: list[Quantity], post_rate: int, role_flags: int
) -> MirrorUsagePoint:
    """The site's mirror, or the DER's when ``role_flags`` say isDER (CSIP, CSIP-AUS)."""
    der = bool(role_flags & c.RoleFlags.IS_DER)
    return MirrorUsagePoint(
        mRID=mup_mrid(pen, meter_id, lfdi, der),
        description=(meter_id[:28] + " DER") if der else meter_id[:32],
        roleFlags=role_flags,
        serviceCategoryKind=int(c.ServiceKind.ELECTRICITY),
        status=1,
        deviceLFDI=lfdi,
        postRate=post_rate,
        MirrorMeterReading=[
            MirrorMeterReading(
                mRID=mmr_mrid(pen, meter_id, lfdi, q.key), description=q.description, ReadingType=q.reading_type
            )
            for q in quantities
        ],
    )


def readings(
    pen: int, meter_id: str, lfdi: str, quantities: list[Quantity], intervals: list[Interval]
) -> MirrorMeterReadingList:
    """One MirrorMeterReading per quantity, each with one MirrorReadingSet covering the intervals."""
    first, last = intervals[0], intervals[-1]
    period = DateTimeInterval(last.start + last.duration - first.start, first.start)
    items = []
    for q in quantities:
        values = [
            Reading(
                qualityFlags=int(c.QualityFlags.VALID),
                timePeriod=DateTimeInterval(x.duration, x.start),
                value=q.value(x),
            )
            for x in intervals
        ]
        set_id = mrid(pen, "mrs", meter_id, q.key, str(first.start))
        items.append(
            MirrorMeterReading(
                mRID=mmr_mrid(pen, meter_id, lfdi, q.key),
                MirrorReadingSet=[MirrorReadingSet(mRID=set_id, timePeriod=period, Reading=values)],
            )
        )
    return MirrorMeterReadingList(all=len(items), results=len(items), MirrorMeterReading=items)


def split_readings(body: bytes) -> list[tuple[bytes, int]] | None:
    """A readings post in two (each quantity's readings split at the same time): the bodies and how many
    readings each carries; None when it cannot be split (one interval, or not a readings list)."""
    try:
        posted = parse_as(body, MirrorMeterReadingList, max_bytes=None)  # our own body, however large
    except SepParseError:
        return None
    starts = sorted({r.timePeriod.start for m in posted.MirrorMeterReading for s in m.MirrorReadingSet
                     for r in s.Reading if r.timePeriod is not None})  # fmt: skip
    if len(starts) < 2:
        return None
    cut = starts[len(starts) // 2]
    halves = []
    for keep in (lambda t: t < cut, lambda t: t >= cut):
        items = []
        count = 0
        for m in posted.MirrorMeterReading:
            sets = []
            for s in m.MirrorReadingSet:
                values = [r for r in s.Reading if r.timePeriod is not None and keep(r.timePeriod.start)]
                if not values:
                    continue
                count += len(values)
                first = values[0].timePeriod
                last = values[-1].timePeriod
                assert first is not None and last is not None
                # a set of its own: its mRID from the original's and its start, the PEN (last 8 hex) kept
                digest = hashlib.sha256(f"{s.mRID}/{first.start}".encode()).hexdigest()[:24].upper()
                sets.append(
                    dataclasses.replace(
                        s,
                        mRID=digest + s.mRID[-8:],
                        timePeriod=DateTimeInterval(last.start + last.duration - first.start, first.start),
                        Reading=values,
                    )
                )
            if sets:
                items.append(dataclasses.replace(m, MirrorReadingSet=sets))
        halves.append(
            (render_bytes(MirrorMeterReadingList(all=len(items), results=len(items), MirrorMeterReading=items)), count)
        )
    return halves


def response(lfdi: str, subject: str, status: int, created: int) -> Response:
    return Response(createdDateTime=created, endDeviceLFDI=lfdi, status=status, subject=subject)


def _der_type(meter: MeterSpec) -> int:
    if meter.pv is not None and meter.battery is not None:
        return int(c.DERType.COMBINED_PV_AND_STORAGE)
    return int(c.DERType.PHOTOVOLTAIC if meter.pv is not None else c.DERType.OTHER_STORAGE)


def _rated_w(meter: MeterSpec) -> float:
    return (meter.pv.ac_kw if meter.pv else 0.0) * 1000 + (meter.battery.kw if meter.battery else 0.0) * 1000


# what every DER inverter here does (runner/physics.py): connect, and the Rule 21 reactive power and curve modes
INVERTER_MODES = (
    c.DERControlModes.OP_MOD_CONNECT
    | c.DERControlModes.OP_MOD_ENERGIZE
    | c.DERControlModes.OP_MOD_FIXED_PF_ABSORB_W
    | c.DERControlModes.OP_MOD_FIXED_PF_INJECT_W
    | c.DERControlModes.OP_MOD_FIXED_VAR
    | c.DERControlModes.OP_MOD_FREQ_DROOP
    | c.DERControlModes.OP_MOD_FREQ_WATT
    | c.DERControlModes.OP_MOD_HFRT_MAY_TRIP  # the ride-through settings: trip, cease; a may-trip is kept
    | c.DERControlModes.OP_MOD_HFRT_MUST_TRIP
    | c.DERControlModes.OP_MOD_HVRT_MAY_TRIP
    | c.DERControlModes.OP_MOD_HVRT_MOMENTARY_CESSATION
    | c.DERControlModes.OP_MOD_HVRT_MUST_TRIP
    | c.DERControlModes.OP_MOD_LFRT_MAY_TRIP
    | c.DERControlModes.OP_MOD_LFRT_MUST_TRIP
    | c.DERControlModes.OP_MOD_LVRT_MAY_TRIP
    | c.DERControlModes.OP_MOD_LVRT_MOMENTARY_CESSATION
    | c.DERControlModes.OP_MOD_LVRT_MUST_TRIP
    | c.DERControlModes.OP_MOD_TARGET_VAR
    | c.DERControlModes.OP_MOD_VOLT_VAR
    | c.DERControlModes.OP_MOD_VOLT_WATT
    | c.DERControlModes.OP_MOD_WATT_PF
    | c.DERControlModes.OP_MOD_WATT_VAR
)


def _modes(meter: MeterSpec) -> int:
    """DERControlType bits: what runner/participation.py applies for this meter's DER (and nothing else)."""
    modes = INVERTER_MODES
    if meter.pv is not None:
        modes |= c.DERControlModes.OP_MOD_MAX_LIM_W
    if meter.battery is not None:
        modes |= (
            c.DERControlModes.CHARGE_MODE
            | c.DERControlModes.DISCHARGE_MODE
            | c.DERControlModes.OP_MOD_FIXED_W
            | c.DERControlModes.OP_MOD_TARGET_W
        )
    return int(modes)


def der_capability(meter: MeterSpec, doe_modes: int = 0) -> DERCapability:
    """What the DER can do; ``doe_modes``: the CSIP-AUS envelope limits it supports (0: no csipaus element)."""
    battery = meter.battery
    return DERCapability(
        modesSupported=_modes(meter),
        rtgMaxW=ActivePower.of_watts(_rated_w(meter)),
        rtgMaxVA=ApparentPower.of_va(_rated_w(meter)),
        rtgMaxVar=ReactivePower.of_var(VAR_SHARE * _rated_w(meter)),
        type=_der_type(meter),
        rtgMaxChargeRateW=ActivePower.of_watts(battery.kw * 1000) if battery else None,
        rtgMaxDischargeRateW=ActivePower.of_watts(battery.kw * 1000) if battery else None,
        rtgMaxWh=WattHour.of_wh(battery.kwh * 1000) if battery else None,
        doeModesSupported=doe_modes or None,
    )


def der_settings(meter: MeterSpec, now: int, doe_modes: int = 0) -> DERSettings:
    battery = meter.battery
    return DERSettings(
        setGradW=1000,
        setMaxW=ActivePower.of_watts(_rated_w(meter)),
        setMaxVA=ApparentPower.of_va(_rated_w(meter)),
        setMaxVar=ReactivePower.of_var(VAR_SHARE * _rated_w(meter)),
        updatedTime=now,
        modesEnabled=_modes(meter),
        setMaxChargeRateW=ActivePower.of_watts(battery.kw * 1000) if battery else None,
        setMaxDischargeRateW=ActivePower.of_watts(battery.kw * 1000) if battery else None,
        setMaxWh=WattHour.of_wh(battery.kwh * 1000) if battery else None,
        doeModesEnabled=doe_modes or None,
    )


def der_status(meter: MeterSpec, now: int, operating: bool, connected: bool, soc: float | None) -> DERStatus:
    """genConnectStatus bits: 0 connected, 1 available, 2 operating."""
    gen = (int(c.ConnectStatus.CONNECTED | c.ConnectStatus.AVAILABLE) if connected else 0) | (
        int(c.ConnectStatus.OPERATING) if connected and operating else 0
    )
    return DERStatus(
        readingTime=now,
        genConnectStatus=ConnectStatus(now, gen),
        stateOfChargeStatus=StateOfCharge(now, round(soc * 10000)) if soc is not None else None,
        storConnectStatus=ConnectStatus(now, 0x07) if meter.battery is not None else None,
    )


def der_availability(meter: MeterSpec, now: int, available_w: float) -> DERAvailability:
    return DERAvailability(readingTime=now, statWAvail=ActivePower.of_watts(max(0.0, available_w)))


def flow_reservation_request(pen: int, event: FlowReservation, start: int, created: int) -> FlowReservationRequest:
    """A P2P trading request; exported energy is negative (received from the customer)."""
    sign = -1 if event.direction == "export" else 1
    seconds = int(event.duration.total_seconds())
    return FlowReservationRequest(
        mRID=mrid(pen, "frq", event.id),
        description=event.id[:32],
        creationTime=created,
        durationRequested=seconds,
        energyRequested=SignedRealEnergy.of_wh(sign * event.energy_kwh * 1000),
        intervalRequested=DateTimeInterval(seconds, start),
        powerRequested=ActivePower.of_watts(event.power_kw * 1000),
        RequestStatus=RequestStatus(created, int(c.RequestStatusCode.REQUESTED)),
    )


def tamper_event(pen: int, created: int, log_id: int) -> LogEvent:
    return LogEvent(
        createdDateTime=created,
        details="tamper: meter cover opened",
        functionSet=int(c.FunctionSet.SECURITY),
        logEventCode=c.LOG_EVENT_TAMPER,
        logEventID=log_id,
        logEventPEN=pen,
        profileID=c.PROFILE_SEP2,
    )

"""Representative instances of every 2030.5 resource amiscen renders, including edge values."""

from __future__ import annotations

import dataclasses

from amiscen.sep import constants as c
from amiscen.sep.ids import mrid
from amiscen.sep.model.common import (
    ActivePower,
    DateTimeInterval,
    EventStatus,
    Link,
    ListLink,
    Resource,
    SignedRealEnergy,
)
from amiscen.sep.model.der import (
    DER,
    ConnectStatus,
    DERAvailability,
    DERCapability,
    DERList,
    DERSettings,
    DERStatus,
    ManufacturerStatus,
    StateOfCharge,
    StatusValue,
    WattHour,
)
from amiscen.sep.model.device import (
    ConnectionPoint,
    DeviceCapability,
    EndDevice,
    EndDeviceList,
    FunctionSetAssignments,
    FunctionSetAssignmentsList,
    Registration,
    Time,
)
from amiscen.sep.model.events import (
    CurveData,
    DefaultDERControl,
    DemandResponseProgram,
    DemandResponseProgramList,
    DERControl,
    DERControlBase,
    DERControlList,
    DERCurve,
    DERCurveList,
    DERProgram,
    DERProgramList,
    EndDeviceControl,
    EndDeviceControlList,
    FixedVar,
    FreqDroopType,
    Offset,
    PowerFactorWithExcitation,
    ReactivePower,
    TargetReduction,
)
from amiscen.sep.model.metering import (
    MeterReading,
    MeterReadingList,
    MirrorMeterReading,
    MirrorMeterReadingList,
    MirrorReadingSet,
    MirrorUsagePoint,
    MirrorUsagePointList,
    Reading,
    ReadingList,
    ReadingSet,
    ReadingSetList,
    ReadingType,
    UsagePoint,
    UsagePointList,
)
from amiscen.sep.model.misc import (
    DERControlResponse,
    DrResponse,
    Error,
    FlowReservationRequest,
    FlowReservationRequestList,
    FlowReservationResponse,
    FlowReservationResponseList,
    LogEvent,
    LogEventList,
    RequestStatus,
    Response,
    ResponseList,
    ResponseSet,
    ResponseSetList,
)
from amiscen.sep.model.pubsub import Notification, Subscription, SubscriptionList

PEN = 32473
LFDI = "3E4F45AB31EDFE5B67E343E5E4562E31984E23E5"
T0 = 1_772_384_400  # 2026-03-02T00:00:00+07:00
MAX_INT48 = 2**47 - 1


def _m(*parts: str) -> str:
    return mrid(PEN, *parts)


READING_TYPE = ReadingType(
    accumulationBehaviour=c.Accumulation.SUMMATION,
    commodity=c.Commodity.ELECTRICITY_SECONDARY_METERED,
    dataQualifier=c.DataQualifier.NONE,
    flowDirection=c.FlowDirection.FORWARD,
    intervalLength=15,
    kind=c.Kind.ENERGY,
    phase=c.Phase.ABC,
    powerOfTenMultiplier=0,
    uom=c.Uom.WH,
)
READING = Reading(qualityFlags=c.QualityFlags.VALID, timePeriod=DateTimeInterval(15, T0), value=12_345)
MMR_SET = MirrorMeterReading(
    mRID=_m("mmr", "import"),
    description="import energy & <total>",
    version=0,
    lastUpdateTime=T0 + 60,
    MirrorReadingSet=[
        MirrorReadingSet(
            mRID=_m("set", "1"),
            timePeriod=DateTimeInterval(60, T0),
            Reading=[
                Reading(qualityFlags=1, timePeriod=DateTimeInterval(15, T0 + 15 * i), value=v, localID=i)
                for i, v in enumerate([0, -250_000, MAX_INT48, -MAX_INT48])
            ],
        ),
    ],
    nextUpdateTime=T0 + 120,
)
MMR_SINGLE = MirrorMeterReading(mRID=_m("mmr", "power"), Reading=READING)
MMR_DECLARE = MirrorMeterReading(mRID=_m("mmr", "import"), description="import energy", ReadingType=READING_TYPE)
MUP = MirrorUsagePoint(
    mRID=_m("mup", "AMI_METER_UTCC_001"),
    description="AMI_METER_UTCC_001",
    roleFlags=c.ROLE_REVENUE_PREMISES,
    serviceCategoryKind=c.ServiceKind.ELECTRICITY,
    status=1,
    deviceLFDI=LFDI,
    MirrorMeterReading=[MMR_DECLARE],
    postRate=60,
)
EDEV = EndDevice(
    href="/edev/1",
    sFDI=167261211391,
    changedTime=T0,
    DERListLink=ListLink("/edev/1/der", 1),
    deviceCategory=c.DeviceCategory.SMART_ENERGY_MODULE | c.DeviceCategory.COMBINED_PV_AND_STORAGE,
    lFDI=LFDI,
    LogEventListLink=ListLink("/edev/1/lel", 0),
    enabled=True,
    FlowReservationRequestListLink=ListLink("/edev/1/frq", 0),
    FlowReservationResponseListLink=ListLink("/edev/1/frp"),
    FunctionSetAssignmentsListLink=ListLink("/edev/1/fsa", 1),
    postRate=60,
    RegistrationLink=Link("/edev/1/rg"),
    SubscriptionListLink=ListLink("/edev/1/sub", 0),
)
EDEV_MINIMAL = EndDevice(sFDI=0, changedTime=0)
STATUS = EventStatus(currentStatus=c.EventStatusCode.ACTIVE, dateTime=T0, potentiallySuperseded=False)
EDC = EndDeviceControl(
    href="/dr/1/edc/1",
    replyTo="/rsps/1/rsp",
    responseRequired=0x03,
    mRID=_m("edc", "DR_EVENT_001"),
    description="DR_EVENT_001",
    version=0,
    creationTime=T0,
    EventStatus=STATUS,
    interval=DateTimeInterval(3600, T0 + 14 * 3600),
    randomizeDuration=0,
    randomizeStart=-3600,
    deviceCategory=0xFFFFFFFF,
    drProgramMandatory=True,
    loadShiftForward=False,
    TargetReduction=TargetReduction(type=c.UnitType.KW, value=65535),
)
EDC_PERCENT = EndDeviceControl(
    mRID=_m("edc", "p"),
    creationTime=T0,
    EventStatus=EventStatus(0, T0, True, T0, "superseded soon"),
    interval=DateTimeInterval(0, T0),
    deviceCategory=0,
    Offset=Offset(loadAdjustmentPercentageOffset=2000),
)
DERC = DERControl(
    href="/derp/1/derc/1",
    replyTo="/rsps/2/rsp",
    responseRequired=0x03,
    mRID=_m("derc", "NOON"),
    description="DERC_NOON_CURTAIL",
    creationTime=T0,
    EventStatus=STATUS,
    interval=DateTimeInterval(1800, T0),
    randomizeStart=3600,
    DERControlBase=DERControlBase(opModMaxLimW=5000),
    deviceCategory=0x200000,
)
DERC_ALL = DERControl(
    mRID=_m("derc", "all"),
    creationTime=T0,
    EventStatus=STATUS,
    interval=DateTimeInterval(60, T0),
    DERControlBase=DERControlBase(
        opModConnect=False,
        opModEnergize=True,
        opModFixedW=-10000,
        opModMaxLimW=0,
        opModTargetW=ActivePower.of_watts(-150_000),
        rampTms=0,
    ),
)
DERC_CSIP = DERControl(  # the Rule 21 modes: power factor, fixed var, curves by link
    mRID=_m("derc", "CSIP"),
    creationTime=T0,
    EventStatus=STATUS,
    interval=DateTimeInterval(900, T0),
    DERControlBase=DERControlBase(
        opModFixedPFAbsorbW=PowerFactorWithExcitation(98, False, -2),
        opModFixedPFInjectW=PowerFactorWithExcitation(95, True, -2),
        opModFixedVar=FixedVar(2, -2500),
        opModFreqDroop=FreqDroopType(dBOF=36, dBUF=36, kOF=50, kUF=50, openLoopTms=500),
        opModFreqWatt=Link("/derp/1/dc/2"),
        opModHVRTMustTrip=Link("/derp/1/dc/4"),
        opModTargetVar=ReactivePower(2, 15),
        opModVoltVar=Link("/derp/1/dc/1"),
        opModVoltWatt=Link("/derp/1/dc/3"),
        rampTms=100,
    ),
)
CURVE = DERCurve(
    href="/derp/1/dc/1",
    mRID=_m("dc", "1"),
    description="opModVoltVar",
    creationTime=T0,
    CurveData=[CurveData(9200, 3000), CurveData(9800, 0), CurveData(10200, 0), CurveData(10800, -3000, True)],
    curveType=11,
    openLoopTms=500,
    xMultiplier=-2,
    yMultiplier=-2,
    yRefType=2,
)
DERC_DOE = DERControl(  # CSIP-AUS: a dynamic operating envelope, csipaus elements after 2030.5's
    mRID=_m("derc", "DOE"),
    description="DOE_EXPORT_5KW",
    creationTime=T0,
    EventStatus=STATUS,
    interval=DateTimeInterval(300, T0),
    DERControlBase=DERControlBase(
        opModConnect=True,
        opModImpLimW=ActivePower(3, 20),
        opModExpLimW=ActivePower(3, 5),
        opModGenLimW=ActivePower(0, 30000),
        opModLoadLimW=ActivePower(0, 0),
    ),
)
FRQ = FlowReservationRequest(
    href="/edev/1/frq/1",
    mRID=_m("frq", "P2P_GYM_EXPORT"),
    description="P2P_GYM_EXPORT",
    creationTime=T0,
    durationRequested=3600,
    energyRequested=SignedRealEnergy.of_wh(-40_000),
    intervalRequested=DateTimeInterval(3600, T0 + 11 * 3600),
    powerRequested=ActivePower.of_watts(60_000),
    RequestStatus=RequestStatus(T0, c.RequestStatusCode.REQUESTED),
)
FRP = FlowReservationResponse(
    href="/edev/1/frp/1",
    replyTo="/rsps/3/rsp",
    responseRequired=0,
    mRID=_m("frp", "1"),
    creationTime=T0,
    EventStatus=EventStatus(0, T0),
    interval=DateTimeInterval(3600, T0 + 11 * 3600),
    energyAvailable=SignedRealEnergy.of_wh(-30_000),
    powerAvailable=ActivePower.of_watts(45_000),
    subject=FRQ.mRID,
)
LOG = LogEvent(
    createdDateTime=T0,
    details="tamper: cover opened",
    extendedData=0,
    functionSet=c.FunctionSet.SECURITY,
    logEventCode=c.LOG_EVENT_TAMPER,
    logEventID=1,
    logEventPEN=PEN,
    profileID=c.PROFILE_SEP2,
)
RESPONSE = Response(createdDateTime=T0, endDeviceLFDI=LFDI, status=c.ResponseStatus.EVENT_RECEIVED, subject=EDC.mRID)
FSA = FunctionSetAssignments(
    href="/edev/1/fsa/1",
    mRID=_m("fsa", "1"),
    description="campus",
    DemandResponseProgramListLink=ListLink("/dr", 1),
    DERProgramListLink=ListLink("/derp", 1),
    ResponseSetListLink=ListLink("/rsps", 2),
    TimeLink=Link("/tm"),
)
UP = UsagePoint(
    href="/upt/1",
    mRID=_m("up", "1"),
    roleFlags=0x13,
    serviceCategoryKind=0,
    status=1,
    deviceLFDI=LFDI,
    MeterReadingListLink=ListLink("/upt/1/mr", 4),
)
MR = MeterReading(
    href="/upt/1/mr/1",
    mRID=_m("mr", "1"),
    description="import",
    ReadingTypeLink=Link("/upt/1/mr/1/rt"),
    ReadingLink=Link("/upt/1/mr/1/r"),
    ReadingSetListLink=ListLink("/upt/1/mr/1/rs", 0),
)
RS = ReadingSet(
    href="/upt/1/mr/1/rs/0",
    mRID=_m("rs", "1"),
    description="all readings",
    timePeriod=DateTimeInterval(86400, T0),
    ReadingListLink=ListLink("/upt/1/mr/1/rs/0/r", 5760),
)
DRP = DemandResponseProgram(
    href="/dr/1",
    mRID=_m("drp", "campus_dr"),
    description="campus_dr",
    primacy=0,
    ActiveEndDeviceControlListLink=ListLink("/dr/1/actedc", 0),
    EndDeviceControlListLink=ListLink("/dr/1/edc", 1),
)
DERP = DERProgram(
    href="/derp/1",
    mRID=_m("derp", "campus_der"),
    description="campus_der",
    primacy=1,
    ActiveDERControlListLink=ListLink("/derp/1/actderc", 0),
    DefaultDERControlLink=Link("/derp/1/dderc"),
    DERControlListLink=ListLink("/derp/1/derc", 1),
)
DDERC = DefaultDERControl(
    href="/derp/1/dderc",
    mRID=_m("dderc", "1"),
    description="default",
    DERControlBase=DERControlBase(opModConnect=True, opModMaxLimW=10000),
    setGradW=1000,
)
DER_RES = DER(
    href="/edev/1/der/1",
    DERAvailabilityLink=Link("/edev/1/der/1/dera"),
    DERCapabilityLink=Link("/edev/1/der/1/dercap"),
    DERSettingsLink=Link("/edev/1/der/1/derg"),
    DERStatusLink=Link("/edev/1/der/1/ders"),
)
CAP = DERCapability(
    modesSupported=c.DERControlModes.OP_MOD_CONNECT | c.DERControlModes.OP_MOD_MAX_LIM_W,
    rtgMaxW=ActivePower.of_watts(130_435),
    type=c.DERType.COMBINED_PV_AND_STORAGE,
    rtgMaxChargeRateW=ActivePower.of_watts(150_000),
    rtgMaxDischargeRateW=ActivePower.of_watts(150_000),
    rtgMaxWh=WattHour(3, 300),
)
SETTINGS = DERSettings(
    setGradW=1000,
    setMaxW=ActivePower.of_watts(130_435),
    updatedTime=T0,
    modesEnabled=0x00700004,
    setMaxChargeRateW=ActivePower.of_watts(150_000),
    setMaxDischargeRateW=ActivePower.of_watts(150_000),
    setMaxWh=WattHour(3, 300),
)
STATUS_RES = DERStatus(
    readingTime=T0,
    alarmStatus=0,
    inverterStatus=StatusValue(T0, 4),
    localControlModeStatus=StatusValue(T0, 0),
    manufacturerStatus=ManufacturerStatus(T0, "OK"),
    operationalModeStatus=StatusValue(T0, 2),
    storageModeStatus=StatusValue(T0, 1),
    genConnectStatus=ConnectStatus(T0, 0x07),
    stateOfChargeStatus=StateOfCharge(T0, 5000),
    storConnectStatus=ConnectStatus(T0, 0x00),
)
AVAIL = DERAvailability(
    readingTime=T0,
    availabilityDuration=7200,
    maxChargeDuration=3600,
    reserveChargePercent=1000,
    reservePercent=10000,
    statWAvail=ActivePower.of_watts(0),
)


SUB = Subscription(
    href="/edev/1/sub/1",
    subscribedResource="/edev/1/derp/1/derc",
    encoding=0,
    level="+S1",
    limit=100,
    notificationURI="https://meter.example/notify?x=1&y=2",
)


def samples() -> dict[str, list[Resource]]:
    """Each resource type's samples; the first is the golden one."""
    return {
        "DeviceCapability": [
            DeviceCapability(
                href="/dcap",
                pollRate=900,
                DemandResponseProgramListLink=ListLink("/dr", 1),
                DERProgramListLink=ListLink("/derp", 1),
                ResponseSetListLink=ListLink("/rsps", 3),
                TimeLink=Link("/tm"),
                UsagePointListLink=ListLink("/upt", 25),
                EndDeviceListLink=ListLink("/edev", 25),
                MirrorUsagePointListLink=ListLink("/mup", 25),
                SelfDeviceLink=Link("/sdev"),
            )
        ],
        "EndDevice": [EDEV, EDEV_MINIMAL, EndDevice(sFDI=1, changedTime=0, ConnectionPointLink=Link("/edev/1/cp"))],
        "EndDeviceList": [
            EndDeviceList(all=2, results=2, href="/edev", subscribable=1, pollRate=900, EndDevice=[EDEV, EDEV_MINIMAL]),
            EndDeviceList(all=0, results=0),
        ],
        "Registration": [Registration(href="/edev/1/rg", dateTimeRegistered=T0, pIN=111115, pollRate=86400)],
        "FunctionSetAssignments": [FSA],
        "FunctionSetAssignmentsList": [
            FunctionSetAssignmentsList(all=1, results=1, href="/edev/1/fsa", FunctionSetAssignments=[FSA])
        ],
        "Time": [
            Time(
                href="/tm",
                pollRate=900,
                currentTime=T0,
                dstEndTime=0,
                dstOffset=0,
                dstStartTime=0,
                localTime=T0 + 25200,
                quality=c.TimeQuality.LEVEL_3,
                tzOffset=25200,
            )
        ],
        "ReadingType": [READING_TYPE],
        "Reading": [READING, Reading()],
        "MirrorMeterReading": [MMR_SET, MMR_SINGLE, MMR_DECLARE],
        "MirrorMeterReadingList": [MirrorMeterReadingList(all=2, results=2, MirrorMeterReading=[MMR_SET, MMR_SINGLE])],
        "MirrorUsagePoint": [MUP],
        "MirrorUsagePointList": [
            MirrorUsagePointList(all=1, results=1, href="/mup", pollRate=60, MirrorUsagePoint=[MUP]),
            MirrorUsagePointList(all=0, results=0),
        ],
        "UsagePoint": [UP],
        "UsagePointList": [UsagePointList(all=1, results=1, href="/upt", UsagePoint=[UP])],
        "MeterReading": [MR],
        "MeterReadingList": [MeterReadingList(all=1, results=1, href="/upt/1/mr", MeterReading=[MR])],
        "ReadingList": [ReadingList(all=2, results=2, href="/upt/1/mr/1/r", Reading=[READING, READING])],
        "ReadingSet": [RS],
        "ReadingSetList": [
            ReadingSetList(all=1, results=1, href="/upt/1/mr/1/rs", ReadingSet=[RS]),
            ReadingSetList(all=0, results=0),
        ],
        "DemandResponseProgram": [DRP],
        "DemandResponseProgramList": [
            DemandResponseProgramList(all=1, results=1, href="/dr", pollRate=60, DemandResponseProgram=[DRP])
        ],
        "EndDeviceControl": [EDC, EDC_PERCENT],
        "EndDeviceControlList": [
            EndDeviceControlList(all=2, results=2, href="/dr/1/edc", EndDeviceControl=[EDC, EDC_PERCENT])
        ],
        "DERProgram": [DERP],
        "DERProgramList": [DERProgramList(all=1, results=1, href="/derp", pollRate=60, DERProgram=[DERP])],
        "DERControl": [DERC, DERC_ALL, DERC_DOE, DERC_CSIP],
        "DERCurve": [CURVE],
        "DERCurveList": [
            DERCurveList(all=1, results=1, href="/derp/1/dc", DERCurve=[CURVE]),
            DERCurveList(all=0, results=0),
        ],
        "DERControlList": [DERControlList(all=2, results=2, href="/derp/1/derc", DERControl=[DERC, DERC_ALL])],
        "DefaultDERControl": [DDERC, dataclasses.replace(DDERC, subscribable=1)],
        "Subscription": [SUB],
        "SubscriptionList": [
            SubscriptionList(all=1, results=1, href="/edev/1/sub", pollRate=900, Subscription=[SUB]),
            SubscriptionList(all=0, results=0),
        ],
        "Notification": [  # one with the changed Resource inside is in tests/gateway/test_notify.py
            Notification(subscribedResource="/edev/1/derp/1/derc", status=1, subscriptionURI="/edev/1/sub/1")
        ],
        "DER": [DER_RES],
        "DERList": [DERList(all=1, results=1, href="/edev/1/der", pollRate=900, DER=[DER_RES])],
        "DERCapability": [
            CAP,
            DERCapability(modesSupported=0, rtgMaxW=ActivePower(0, 0), type=c.DERType.PHOTOVOLTAIC),
            DERCapability(modesSupported=0, rtgMaxW=ActivePower(0, 5000), type=4, doeModesSupported=0x0F),
        ],
        "DERSettings": [
            SETTINGS,
            DERSettings(setGradW=0, setMaxW=ActivePower(0, 5000), updatedTime=T0, doeModesEnabled=0x03),
        ],
        "ConnectionPoint": [ConnectionPoint(connectionPointId="4123456789"), ConnectionPoint(href="/edev/1/cp")],
        "DERStatus": [STATUS_RES, DERStatus(readingTime=0)],
        "DERAvailability": [AVAIL],
        "Response": [RESPONSE],
        "DERControlResponse": [DERControlResponse(createdDateTime=T0, endDeviceLFDI=LFDI, status=2, subject=DERC.mRID)],
        "DrResponse": [DrResponse(createdDateTime=T0, endDeviceLFDI=LFDI, status=3, subject=EDC.mRID)],
        "ResponseList": [ResponseList(all=1, results=1, href="/rsps/1/rsp", Response=[RESPONSE])],
        "ResponseSet": [
            ResponseSet(
                href="/rsps/1",
                mRID=_m("rsps", "1"),
                description="DR responses",
                ResponseListLink=ListLink("/rsps/1/rsp", 0),
            )
        ],
        "ResponseSetList": [
            ResponseSetList(
                all=1,
                results=1,
                href="/rsps",
                ResponseSet=[ResponseSet(mRID=_m("rsps", "1"), ResponseListLink=ListLink("/rsps/1/rsp"))],
            )
        ],
        "FlowReservationRequest": [FRQ],
        "FlowReservationRequestList": [
            FlowReservationRequestList(all=1, results=1, href="/edev/1/frq", FlowReservationRequest=[FRQ])
        ],
        "FlowReservationResponse": [FRP],
        "FlowReservationResponseList": [
            FlowReservationResponseList(all=1, results=1, href="/edev/1/frp", FlowReservationResponse=[FRP])
        ],
        "LogEvent": [LOG],
        "LogEventList": [LogEventList(all=1, results=1, href="/edev/1/lel", LogEvent=[LOG])],
        "Error": [Error(reasonCode=c.ErrorReason.INVALID_REQUEST_VALUES), Error(reasonCode=4, maxRetryDuration=60)],
    }

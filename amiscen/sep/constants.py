"""IEEE 2030.5 codes by name, so templates and code never carry magic numbers (see shared FACTS.md)."""

from __future__ import annotations

from enum import IntEnum, IntFlag

NAMESPACE = "urn:ieee:std:2030.5:ns"
LEGACY_NAMESPACE = "http://ieee.org/2030.5"  # 2030.5-2013 (schema 2.0.x), still spoken by EPRI's reference client
CSIPAUS_NAMESPACE = "https://csipaus.org/ns"  # CSIP-AUS extension elements, prefix csipaus
MEDIA_TYPE = "application/sep+xml"
SEP2_CIPHER = "ECDHE-ECDSA-AES128-CCM8"  # the one TLS 1.2 suite 2030.5 mandates
DEFAULT_POLL_RATE = 900  # DeviceCapability.pollRate default, seconds


class Uom(IntEnum):
    """ReadingType.uom (UomType)."""

    A = 5
    V = 29
    W = 38
    VAR = 63
    VA = 61
    HZ = 33
    WH = 72
    VARH = 73
    VAH = 71
    COS_THETA = 65  # displacement power factor
    AH = 106


class Kind(IntEnum):
    """ReadingType.kind."""

    CURRENCY = 3
    DEMAND = 8
    ENERGY = 12
    POWER = 37


class FlowDirection(IntEnum):
    """ReadingType.flowDirection."""

    NONE = 0
    FORWARD = 1  # delivered to the customer (import)
    REVERSE = 19  # received from the customer (export)


class Accumulation(IntEnum):
    """ReadingType.accumulationBehaviour."""

    NONE = 0
    CUMULATIVE = 3
    DELTA_DATA = 4
    INDICATING = 6
    SUMMATION = 9
    INSTANTANEOUS = 12


class DataQualifier(IntEnum):
    NONE = 0
    AVERAGE = 2
    MAXIMUM = 8
    MINIMUM = 9


class Commodity(IntEnum):
    NONE = 0
    ELECTRICITY_SECONDARY_METERED = 1
    ELECTRICITY_PRIMARY_METERED = 2


class Phase(IntEnum):
    NOT_APPLICABLE = 0
    ABC = 224


class ServiceKind(IntEnum):
    ELECTRICITY = 0
    GAS = 1
    WATER = 2


class RoleFlags(IntFlag):
    """roleFlags bits (RoleFlagsType, HexBinary16)."""

    IS_MIRROR = 1 << 0
    IS_PREMISES_AGGREGATION_POINT = 1 << 1
    IS_PEV = 1 << 2
    IS_DER = 1 << 3
    IS_REVENUE_QUALITY = 1 << 4
    IS_DC = 1 << 5
    IS_SUBMETER = 1 << 6


# a revenue premises meter = mirror | premises aggregation point | revenue quality (0x13 in hex = "13")
ROLE_REVENUE_PREMISES = RoleFlags.IS_MIRROR | RoleFlags.IS_PREMISES_AGGREGATION_POINT | RoleFlags.IS_REVENUE_QUALITY
ROLE_DER = RoleFlags.IS_MIRROR | RoleFlags.IS_DER | RoleFlags.IS_SUBMETER


class QualityFlags(IntFlag):
    """Reading.qualityFlags bits (HexBinary16)."""

    VALID = 1 << 0
    MANUALLY_EDITED = 1 << 1
    ESTIMATED_REFERENCE_DAY = 1 << 2
    ESTIMATED_LINEAR = 1 << 3
    QUESTIONABLE = 1 << 4
    DERIVED = 1 << 5
    PROJECTED = 1 << 6


class DeviceCategory(IntFlag):
    """EndDevice / EndDeviceControl deviceCategory bits (HexBinary32)."""

    PROGRAMMABLE_COMMUNICATING_THERMOSTAT = 1 << 0
    STRIP_HEATERS = 1 << 1
    BASEBOARD_HEATERS = 1 << 2
    WATER_HEATER = 1 << 3
    POOL_PUMP = 1 << 4
    SAUNA = 1 << 5
    HOT_TUB = 1 << 6
    SMART_APPLIANCE = 1 << 7
    IRRIGATION_PUMP = 1 << 8
    MANAGED_COMMERCIAL_AND_INDUSTRIAL_LOADS = 1 << 9
    SIMPLE_MISC_LOADS = 1 << 10
    EXTERIOR_LIGHTING = 1 << 11
    INTERIOR_LIGHTING = 1 << 12
    LOAD_CONTROL_SWITCH = 1 << 13
    ENERGY_MANAGEMENT_SYSTEM = 1 << 14
    SMART_ENERGY_MODULE = 1 << 15
    ELECTRIC_VEHICLE = 1 << 16
    EVSE = 1 << 17
    VIRTUAL_OR_MIXED_DER = 1 << 18
    RECIPROCATING_ENGINE = 1 << 19
    FUEL_CELL = 1 << 20
    PHOTOVOLTAIC_SYSTEM = 1 << 21
    COMBINED_HEAT_AND_POWER = 1 << 22
    COMBINED_PV_AND_STORAGE = 1 << 23
    OTHER_GENERATION_SYSTEM = 1 << 24
    OTHER_STORAGE_SYSTEM = 1 << 25


class EventStatusCode(IntEnum):
    """EventStatus.currentStatus."""

    SCHEDULED = 0
    ACTIVE = 1
    CANCELLED = 2
    CANCELLED_WITH_RANDOMIZATION = 3
    SUPERSEDED = 4


class ResponseStatus(IntEnum):
    """Response.status (2030.5 Table 27); every other value is reserved."""

    EVENT_RECEIVED = 1
    EVENT_STARTED = 2
    EVENT_COMPLETED = 3
    OPTED_OUT = 4
    OPTED_IN = 5
    EVENT_CANCELLED = 6
    EVENT_SUPERSEDED = 7
    PARTIALLY_COMPLETED_OPT_OUT = 8
    PARTIALLY_COMPLETED_OPT_IN = 9
    COMPLETED_NO_USER_PARTICIPATION = 10
    ACKNOWLEDGED = 11
    CANNOT_BE_DISPLAYED = 12  # a text message
    ABORTED_SERVER = 13
    ABORTED_PROGRAM = 14
    NOT_APPLICABLE = 252
    INVALID = 253
    EXPIRED = 254


class ResponseRequired(IntFlag):
    """responseRequired bits (HexBinary8)."""

    RECEIVED = 1 << 0
    SPECIFIC = 1 << 1  # started, completed, ...
    USER = 1 << 2


class DERType(IntEnum):
    """DERCapability.type."""

    NOT_APPLICABLE = 0
    VIRTUAL_OR_MIXED = 1
    RECIPROCATING_ENGINE = 2
    FUEL_CELL = 3
    PHOTOVOLTAIC = 4
    COMBINED_HEAT_AND_POWER = 5
    OTHER_GENERATION = 6
    OTHER_STORAGE = 80
    ELECTRIC_VEHICLE = 81
    EVSE = 82
    COMBINED_PV_AND_STORAGE = 83


class DERControlModes(IntFlag):
    """DERControlType bits for modesSupported / modesEnabled (HexBinary32)."""

    CHARGE_MODE = 1 << 0
    DISCHARGE_MODE = 1 << 1
    OP_MOD_CONNECT = 1 << 2
    OP_MOD_ENERGIZE = 1 << 3
    OP_MOD_FIXED_PF_ABSORB_W = 1 << 4
    OP_MOD_FIXED_PF_INJECT_W = 1 << 5
    OP_MOD_FIXED_VAR = 1 << 6
    OP_MOD_FIXED_W = 1 << 7
    OP_MOD_FREQ_DROOP = 1 << 8
    OP_MOD_FREQ_WATT = 1 << 9
    OP_MOD_HFRT_MAY_TRIP = 1 << 10
    OP_MOD_HFRT_MUST_TRIP = 1 << 11
    OP_MOD_HVRT_MAY_TRIP = 1 << 12
    OP_MOD_HVRT_MOMENTARY_CESSATION = 1 << 13
    OP_MOD_HVRT_MUST_TRIP = 1 << 14
    OP_MOD_LFRT_MAY_TRIP = 1 << 15
    OP_MOD_LFRT_MUST_TRIP = 1 << 16
    OP_MOD_LVRT_MAY_TRIP = 1 << 17
    OP_MOD_LVRT_MOMENTARY_CESSATION = 1 << 18
    OP_MOD_LVRT_MUST_TRIP = 1 << 19
    OP_MOD_MAX_LIM_W = 1 << 20
    OP_MOD_TARGET_VAR = 1 << 21
    OP_MOD_TARGET_W = 1 << 22
    OP_MOD_VOLT_VAR = 1 << 23
    OP_MOD_VOLT_WATT = 1 << 24
    OP_MOD_WATT_PF = 1 << 25
    OP_MOD_WATT_VAR = 1 << 26


class ConnectStatus(IntFlag):
    """genConnectStatus / storConnectStatus value bits (HexBinary8)."""

    CONNECTED = 1 << 0
    AVAILABLE = 1 << 1
    OPERATING = 1 << 2
    TEST = 1 << 3
    FAULT = 1 << 4


class UnitType(IntEnum):
    """TargetReduction.type."""

    KWH = 0
    KW = 1
    WATTS = 2


class TimeQuality(IntEnum):
    """Time.quality."""

    INTENTIONALLY_UNCOORDINATED = 7
    LEVEL_3 = 3  # NTP-synchronised source
    LEVEL_4 = 4
    LEVEL_5 = 5
    LEVEL_6 = 6


class FunctionSet(IntEnum):
    """LogEvent.functionSet."""

    GENERAL = 0
    PUBLISH_SUBSCRIBE = 1
    END_DEVICE = 2
    FUNCTION_SET_ASSIGNMENT = 3
    RESPONSE = 4
    DEMAND_RESPONSE = 5
    METERING = 6
    PRICING = 7
    MESSAGING = 8
    BILLING = 9
    PREPAYMENT = 10
    DER = 11
    TIME = 12
    SOFTWARE_DOWNLOAD = 13
    DEVICE_INFORMATION = 14
    POWER_STATUS = 15
    NETWORK_STATUS = 16
    LOG_EVENT_LIST = 17
    CONFIGURATION = 18
    SECURITY = 19


class ErrorReason(IntEnum):
    """Error.reasonCode."""

    INVALID_REQUEST_FORMAT = 0
    INVALID_REQUEST_VALUES = 1
    RESOURCE_LIMIT_REACHED = 2
    CONDITIONAL_SUBSCRIPTION_FIELD_NOT_SUPPORTED = 3
    MAXIMUM_REQUEST_FREQUENCY_EXCEEDED = 4


class RequestStatusCode(IntEnum):
    """FlowReservationRequest RequestStatus.requestStatus."""

    REQUESTED = 0
    CANCELLED = 1


# LogEvent profileID values
PROFILE_SEP2 = 0
# amiscen's own logEventCodes within its PEN (LogEvent.logEventPEN = the scenario PEN)
LOG_EVENT_TAMPER = 1
LOG_EVENT_CLOCK_RESYNC = 2
LOG_EVENT_OFFLINE = 3

# the device categories campus meters belong to, and that campus DR controls address
CAMPUS_LOAD_CATEGORY = (
    DeviceCategory.MANAGED_COMMERCIAL_AND_INDUSTRIAL_LOADS
    | DeviceCategory.ENERGY_MANAGEMENT_SYSTEM
    | DeviceCategory.SMART_ENERGY_MODULE
)

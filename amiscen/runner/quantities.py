"""What each meter mirrors: one MirrorMeterReading per quantity, with its ReadingType, and how its value is read
off an interval."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amiscen.sep import constants as c
from amiscen.sep.ids import mrid
from amiscen.sep.model.metering import ReadingType


@dataclass(frozen=True)
class Interval:
    """What happened at one meter in one reading interval (energies in Wh, powers in W, interval averages)."""

    index: int
    start: int
    duration: int
    load_w: float
    pv_w: float
    battery_w: float  # + discharge, - charge
    stored_wh: float | None
    import_wh: float
    export_wh: float
    import_total_wh: float  # at the interval's end
    export_total_wh: float
    voltage_v: float
    baseline_net_w: float  # what the meter would have drawn with no control active
    reactive_var: float = 0.0  # the DER's reactive power, + injecting (over-excited)
    planned_load_w: float | None = None  # the compiled plan's load before any control shed it (None: the same)
    frequency_hz: float = 50.0  # the grid's frequency

    @property
    def net_w(self) -> float:
        return self.load_w - self.pv_w - self.battery_w


@dataclass(frozen=True)
class Quantity:
    key: str
    description: str  # String32
    reading_type: ReadingType
    value: Callable[[Interval], int]


def _rt(
    uom: c.Uom,
    kind: c.Kind,
    flow: c.FlowDirection,
    accumulation: c.Accumulation,
    interval: int,
    multiplier: int = 0,
    qualifier: c.DataQualifier = c.DataQualifier.NONE,
) -> ReadingType:
    return ReadingType(
        accumulationBehaviour=int(accumulation),
        commodity=int(c.Commodity.ELECTRICITY_SECONDARY_METERED),
        dataQualifier=int(qualifier),
        flowDirection=int(flow),
        intervalLength=interval,
        kind=int(kind),
        phase=int(c.Phase.ABC),
        powerOfTenMultiplier=multiplier,
        uom=int(uom),
    )


def quantities(interval_s: int, has_pv: bool, has_battery: bool) -> list[Quantity]:
    """The quantities a meter reports; prosumers add PV output and battery power and stored energy."""
    e, p, a = c.Kind.ENERGY, c.Kind.POWER, c.DataQualifier.AVERAGE
    fwd, rev, none = c.FlowDirection.FORWARD, c.FlowDirection.REVERSE, c.FlowDirection.NONE
    delta, total, inst = c.Accumulation.DELTA_DATA, c.Accumulation.SUMMATION, c.Accumulation.INSTANTANEOUS
    items = [
        Quantity(
            "import_wh",
            "import energy (delta)",
            _rt(c.Uom.WH, e, fwd, delta, interval_s),
            lambda x: round(x.import_total_wh) - round(x.import_total_wh - x.import_wh),
        ),
        Quantity(
            "export_wh",
            "export energy (delta)",
            _rt(c.Uom.WH, e, rev, delta, interval_s),
            lambda x: round(x.export_total_wh) - round(x.export_total_wh - x.export_wh),
        ),
        Quantity(
            "import_total_wh",
            "import energy (register)",
            _rt(c.Uom.WH, e, fwd, total, interval_s),
            lambda x: round(x.import_total_wh),
        ),
        Quantity(
            "export_total_wh",
            "export energy (register)",
            _rt(c.Uom.WH, e, rev, total, interval_s),
            lambda x: round(x.export_total_wh),
        ),
        Quantity("net_w", "net active power", _rt(c.Uom.W, p, fwd, inst, interval_s, 0, a), lambda x: round(x.net_w)),
        Quantity(
            "voltage_v",
            "voltage (0.1 V)",
            _rt(c.Uom.V, c.Kind.POWER, none, inst, interval_s, -1, a),
            lambda x: round(x.voltage_v * 10),
        ),
    ]
    if has_pv:
        items.append(
            Quantity("pv_w", "PV generation", _rt(c.Uom.W, p, rev, inst, interval_s, 0, a), lambda x: round(x.pv_w))
        )
    if has_battery:
        items.append(
            Quantity(
                "battery_w",
                "battery power (+ discharge)",
                _rt(c.Uom.W, p, none, inst, interval_s, 0, a),
                lambda x: round(x.battery_w),
            )
        )
        items.append(
            Quantity(
                "stored_wh",
                "battery stored energy",
                _rt(c.Uom.WH, e, none, inst, interval_s),
                lambda x: round(x.stored_wh or 0),
            )
        )
    return items


def der_quantities(interval_s: int) -> list[Quantity]:
    """What a DER MirrorUsagePoint reports (CSIP and CSIP-AUS DER monitoring): the DER's active power (PV plus
    battery, + generating), reactive power (+ injecting), the voltage at its terminals and the grid's
    frequency."""
    p, inst, a, none = c.Kind.POWER, c.Accumulation.INSTANTANEOUS, c.DataQualifier.AVERAGE, c.FlowDirection.NONE
    return [
        Quantity(
            "der_w",
            "DER active power (+ generating)",
            _rt(c.Uom.W, p, none, inst, interval_s, 0, a),
            lambda x: round(x.pv_w + x.battery_w),
        ),
        Quantity(
            "der_v",
            "DER voltage (0.1 V)",
            _rt(c.Uom.V, p, none, inst, interval_s, -1, a),
            lambda x: round(x.voltage_v * 10),
        ),
        Quantity(
            "der_var",
            "DER reactive power (+ injecting)",
            _rt(c.Uom.VAR, p, none, inst, interval_s, 0, a),
            lambda x: round(x.reactive_var),
        ),
        Quantity(
            "der_hz",
            "grid frequency (0.01 Hz)",
            _rt(c.Uom.HZ, p, none, inst, interval_s, -2, a),
            lambda x: round(x.frequency_hz * 100),
        ),
    ]


# A mirror's mRIDs name the device, not only the meter: a meter given a new certificate is a new device to a
# server (a new LFDI), and servers keep mRIDs unique across devices (envoy answers 404 "owned by a different
# EndDevice" when a re-certified meter reuses its old mirror's mRIDs).


def mmr_mrid(pen: int, meter_id: str, lfdi: str, key: str) -> str:
    return mrid(pen, "mmr", meter_id, lfdi, key)


def mup_mrid(pen: int, meter_id: str, lfdi: str, der: bool = False) -> str:
    """The site mirror's mRID, or (``der``) the DER mirror's."""
    return mrid(pen, "mup-der" if der else "mup", meter_id, lfdi)

"""How a meter takes part in utility events: which controls apply, when they start and end on this meter's
clock (randomisation), opt-outs, and the Responses it owes (received -> started -> completed, or cancelled,
superseded, opted out, expired, not applicable).

A meter never claims a control it did not apply: a control of which it can apply nothing is answered 252 (not
applicable) and left alone; one that vanishes from the server's lists before its end is taken as cancelled."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from amiscen.compile.rng import stream
from amiscen.runner.physics import Control
from amiscen.sep.constants import EventStatusCode, ResponseRequired, ResponseStatus, UnitType
from amiscen.sep.model.common import ActivePower
from amiscen.sep.model.events import (
    CURVE_MODES,
    DefaultDERControl,
    DERControl,
    DERControlBase,
    DERCurve,
    EndDeviceControl,
    FreqDroopType,
    PowerFactorWithExcitation,
)

Kind = Literal["dr", "der"]


@dataclass(frozen=True)
class Policy:
    """The scenario's word on one event for this meter: opt-out share and whether it may opt out at all."""

    opt_out_share: float = 0.0


@dataclass
class Known:
    kind: Kind
    mrid: str
    event_id: str
    reply_to: str | None
    required: int
    start: int  # effective, after this meter's randomisation
    end: int
    listed_until: int  # the end the server gave (its clock made ours): it may drop the event from its list then
    status: int
    control: Control
    mandatory: bool
    primacy: int
    opted_out: bool = False
    posted: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Due:
    """A Response to post."""

    reply_to: str
    subject: str
    status: int
    event_id: str
    kind: Kind


FOREVER = 2**62
# the curve modes a meter applies, with the units of y it reads (DERUnitRefType): 1 %setMaxW, 7 %statWAvail (taken
# as setMaxW), 2 %setMaxVar, 3 %statVarAvail (taken as setMaxVar); None: y has units of its own (a power factor, a
# voltage in % of nominal, a frequency in Hz)
APPLIED_CURVES: dict[str, tuple[int, ...] | None] = {
    "opModVoltVar": (2, 3),
    "opModWattVar": (2, 3),
    "opModVoltWatt": (1, 7),
    "opModFreqWatt": (1, 7),
    "opModWattPF": None,
    **dict.fromkeys((m for m in CURVE_MODES if "RT" in m), None),  # the ride-through settings
}
# ride-through modes: (what is watched, must trip (True) or cease (False)); a may-trip setting permits a trip
# without asking one, so it is kept by doing nothing
RIDE_THROUGH = {
    "opModHVRTMustTrip": ("HV", True),
    "opModLVRTMustTrip": ("LV", True),
    "opModHFRTMustTrip": ("HF", True),
    "opModLFRTMustTrip": ("LF", True),
    "opModHVRTMomentaryCessation": ("HV", False),
    "opModLVRTMomentaryCessation": ("LV", False),
}


def _watts(p: ActivePower | None) -> float | None:
    return None if p is None else p.watts


def _units_read(units: tuple[int, ...] | None, y_ref: int) -> bool:
    return units is None or y_ref in units


def _droop(d: FreqDroopType | None) -> tuple[float, float, float, float] | None:
    """Dead bands in Hz and droops per unit, from thousandths."""
    return None if d is None else (d.dBOF / 1000, d.dBUF / 1000, d.kOF / 1000, d.kUF / 1000)


def _pf(p: PowerFactorWithExcitation | None) -> tuple[float, bool] | None:
    return None if p is None else (p.factor, p.excitation)


class Participation:
    def __init__(
        self,
        meter_id: str,
        seed: int,
        policies: dict[str, Policy],
        battery_kw: float,
        pv: bool = False,
        doe: bool = False,
    ) -> None:
        self.meter_id = meter_id
        self.seed = seed
        self.policies = policies
        self.battery_w = battery_kw * 1000
        self.pv = pv  # has PV to curtail or disconnect
        self.doe = doe  # understands CSIP-AUS dynamic operating envelopes (the profile says)
        self.known: dict[str, Known] = {}
        self.default: Control | None = None  # from the DefaultDERControl, while no DER control is active
        self.curves: dict[str, DERCurve] = {}  # the DERCurves controls link to, by href (the meter reads them)
        self.played_until = float("inf")  # the end of the simulated window (set by the fleet)

    def _offset(self, event_id: str, spread: int | None) -> int:
        if not spread:
            return 0
        r = stream(self.seed, "meter", self.meter_id, "randomize", event_id).random()
        return int(r * spread)

    def _control(self, item: EndDeviceControl | DERControl, start: int, end: int) -> Control:
        if isinstance(item, EndDeviceControl):
            if item.TargetReduction is not None:
                unit = {int(UnitType.KW): 1000.0, int(UnitType.WATTS): 1.0}.get(item.TargetReduction.type, 1000.0)
                return Control(start, end, reduce_w=item.TargetReduction.value * unit)
            if item.Offset is not None and item.Offset.loadAdjustmentPercentageOffset is not None:
                return Control(start, end, reduce_share=item.Offset.loadAdjustmentPercentageOffset / 10000)
            return Control(start, end)
        return self._der(item.DERControlBase, start, end) or Control(start, end)

    def _der(self, base: DERControlBase, start: int, end: int, default: bool = False) -> Control | None:
        """What this meter applies of a DERControlBase; None when it cannot apply all of it (a mode it does not
        model, a battery setpoint without a battery, a csipaus limit outside CSIP-AUS, a curve it could not
        read): a control is applied whole or answered not applicable, never claimed in part. A DefaultDERControl
        is taken for what the meter can apply of it."""
        der = self.pv or bool(self.battery_w)
        if not der or (self.unsupported(base) and not default):
            return None
        battery = None
        if self.battery_w and base.opModFixedW is not None:
            battery = base.opModFixedW / 10000 * self.battery_w
        elif self.battery_w and base.opModTargetW is not None:
            battery = base.opModTargetW.watts
        connect = base.opModConnect if base.opModConnect is not None else base.opModEnergize
        if base.opModConnect is False or base.opModEnergize is False:
            connect = False
        control = Control(
            start,
            end,
            max_w_share=None if base.opModMaxLimW is None else base.opModMaxLimW / 10000,
            pv_connected=connect,
            battery_w=battery,
            export_limit_w=_watts(base.opModExpLimW) if self.doe else None,
            import_limit_w=_watts(base.opModImpLimW) if self.doe else None,
            generation_limit_w=_watts(base.opModGenLimW) if self.doe else None,
            load_limit_w=_watts(base.opModLoadLimW) if self.doe and self.battery_w else None,
            pf_inject=_pf(base.opModFixedPFInjectW),
            pf_absorb=_pf(base.opModFixedPFAbsorbW),
            var_share=None if base.opModFixedVar is None else base.opModFixedVar.value / 10000,
            target_var=None if base.opModTargetVar is None else base.opModTargetVar.var,
            volt_var=self._curve(base, "opModVoltVar"),
            watt_var=self._curve(base, "opModWattVar"),
            volt_watt=self._curve(base, "opModVoltWatt"),
            freq_watt=self._curve(base, "opModFreqWatt"),
            watt_pf=self._watt_pf(base),
            droop=_droop(base.opModFreqDroop),
            ramp_s=None if not base.rampTms else base.rampTms / 100,
            trips=tuple(
                (kind, curve, must)
                for mode, (kind, must) in RIDE_THROUGH.items()
                if (curve := self._curve(base, mode, scale=1.0, y_scale=1.0)) is not None
            ),
            default=default,
        )
        return control if control.is_der else None

    def unsupported(self, base: DERControlBase) -> list[str]:
        """The modes of ``base`` this meter cannot apply."""
        missing = []
        for name, value in vars(base).items():
            if value is None:
                continue
            if name in CURVE_MODES:
                curve = self.curves.get(value.href)
                if (
                    name not in APPLIED_CURVES
                    or curve is None
                    or curve.curveType != CURVE_MODES[name]
                    or not _units_read(APPLIED_CURVES[name], curve.yRefType)
                    or len(curve.CurveData) < 2
                ):
                    missing.append(name)
            elif (
                (name in ("opModFixedW", "opModTargetW") and not self.battery_w)
                or (name.startswith("opMod") and name.endswith("LimW") and name != "opModMaxLimW" and not self.doe)
                or (name == "opModLoadLimW" and not self.battery_w)
                or (name == "opModFixedVar" and value.refType not in (2, 3))
                or (name == "opModFreqDroop" and (value.kOF <= 0 or value.kUF <= 0))
            ):
                missing.append(name)
        return missing

    def _curve(
        self, base: DERControlBase, mode: str, scale: float | None = None, y_scale: float = 100.0
    ) -> tuple[tuple[float, float], ...] | None:
        """A curve mode's points from the DERCurve read for its link: y as a share (of setMaxW or setMaxVar) or,
        with ``y_scale`` 1, in the curve's own units; x in % of nominal voltage, Hz, seconds, or (watt-var)
        a share of setMaxW."""
        link = getattr(base, mode)
        curve = None if link is None else self.curves.get(link.href)
        if curve is None or mode not in APPLIED_CURVES or curve.curveType != CURVE_MODES[mode]:
            return None
        if scale is None:
            scale = 100.0 if mode == "opModWattVar" else 1.0  # watt-var's x is a percent of setMaxW too
        return tuple((x / scale, y / y_scale) for x, y in curve.points())

    def _watt_pf(self, base: DERControlBase) -> tuple[tuple[float, float], ...] | None:
        """Watt-PF as var per watt (+ injecting) by output share: each point's power factor and excitation
        (True: absorbing)."""
        link = base.opModWattPF
        curve = None if link is None else self.curves.get(link.href)
        if curve is None or curve.curveType != CURVE_MODES["opModWattPF"]:
            return None
        points = []
        for d in curve.CurveData:
            pf = min(max(d.yvalue * 10.0**curve.yMultiplier, 0.01), 1.0)
            ratio = math.tan(math.acos(pf)) * (-1 if d.excitation else 1)
            points.append((d.xvalue * 10.0**curve.xMultiplier / 100, ratio))
        return tuple(sorted(points))

    def take_default(self, default: DefaultDERControl | None) -> None:
        """The DefaultDERControl of the program in force (None: there is none)."""
        self.default = None if default is None else self._der(default.DERControlBase, 0, FOREVER, default=True)

    @staticmethod
    def _applicable(item: EndDeviceControl | DERControl, control: Control) -> bool:
        """Whether the meter can do anything of ``item``, given the control it made of it."""
        if isinstance(item, EndDeviceControl):
            return item.TargetReduction is not None or item.Offset is not None
        return control.is_der

    def update(
        self, kind: Kind, items: list[tuple[EndDeviceControl | DERControl, int]], now: float, offset: float = 0.0
    ) -> list[Due]:
        """Take the controls a poll returned (each with its program's primacy); the Responses now owed. Event
        times are on the server's clock, ``offset`` seconds ahead of ``now``'s: a control starts when the meter's
        corrected clock reaches its start."""
        due: list[Due] = []
        seen = set()
        for item, primacy in items:
            seen.add(item.mRID)
            k = self.known.get(item.mRID)
            if k is None:
                event_id = item.description or item.mRID
                begin = item.interval.start - round(offset)
                # randomizeStart moves the event (it lasts its duration from the randomised start, as EPRI's
                # client has it); randomizeDuration lengthens or shortens it
                start = begin + self._offset(event_id, item.randomizeStart)
                end = max(start + item.interval.duration + self._offset(event_id + "/d", item.randomizeDuration), start)
                mandatory = isinstance(item, EndDeviceControl) and item.drProgramMandatory
                k = Known(
                    kind,
                    item.mRID,
                    event_id,
                    item.replyTo,
                    item.responseRequired or 0,
                    start,
                    end,
                    begin + item.interval.duration,
                    item.EventStatus.currentStatus,
                    self._control(item, start, end),
                    mandatory,
                    primacy,
                )
                self.known[item.mRID] = k
                if now >= k.end:
                    due += self._post(k, ResponseStatus.EXPIRED)
                    continue
                due += self._post(k, ResponseStatus.EVENT_RECEIVED)
                if not self._applicable(item, k.control):
                    k.opted_out = True  # nothing this meter can do: never claim it started or completed
                    due += self._post(k, ResponseStatus.NOT_APPLICABLE)
                    continue
                share = self.policies.get(event_id, Policy()).opt_out_share
                draw = stream(self.seed, "meter", self.meter_id, "opt-out", event_id).random()
                if share and draw < share and not mandatory:
                    k.opted_out = True
                    due += self._post(k, ResponseStatus.OPTED_OUT)
            k.status = item.EventStatus.currentStatus
            if k.status in (EventStatusCode.CANCELLED, EventStatusCode.CANCELLED_WITH_RANDOMIZATION):
                due += self._post(k, ResponseStatus.EVENT_CANCELLED)
                self._stop(k, now)
            elif k.status == EventStatusCode.SUPERSEDED:
                due += self._post(k, ResponseStatus.EVENT_SUPERSEDED)
                self._stop(k, now)
        for k in self.known.values():
            if (
                k.kind == kind
                and k.mrid not in seen
                and now < min(k.end, k.listed_until)
                and not k.opted_out
                and k.status
                in (
                    EventStatusCode.SCHEDULED,
                    EventStatusCode.ACTIVE,
                )
            ):  # gone from the server before its end: the utility withdrew it (after the end it gave, a server may
                # drop it while this meter, randomised, still runs it)
                k.status = int(EventStatusCode.CANCELLED)
                due += self._post(k, ResponseStatus.EVENT_CANCELLED)
                self._stop(k, now)
        return due + self.tick(now)

    def _stop(self, k: Known, now: float) -> None:
        """End a control now (cancelled, superseded, withdrawn): it stays in force for the time it already was,
        readings of intervals not yet posted included, and never after."""
        k.end = max(min(k.end, int(now)), k.start)
        k.control = dataclasses.replace(k.control, end=k.end)

    def tick(self, now: float) -> list[Due]:
        """Responses owed because time passed: started at the effective start, completed at the end. Nothing
        starts at or after ``played_until`` (the end of the simulated window: a run cut short never claims an
        event that begins after it)."""
        due: list[Due] = []
        for k in self.known.values():
            if k.opted_out or k.status not in (EventStatusCode.SCHEDULED, EventStatusCode.ACTIVE):
                continue
            if k.start >= self.played_until:
                continue
            if now >= k.start and ResponseStatus.EVENT_STARTED not in k.posted and now < k.end:
                due += self._post(k, ResponseStatus.EVENT_STARTED)
            if now >= k.end and ResponseStatus.EVENT_STARTED in k.posted:
                due += self._post(k, ResponseStatus.EVENT_COMPLETED)
        return due

    def _post(self, k: Known, status: ResponseStatus) -> list[Due]:
        if int(status) in k.posted:
            return []
        k.posted.append(int(status))  # decided: the outbox carries it even if the gateway is down now
        required = ResponseRequired.RECEIVED if status == ResponseStatus.EVENT_RECEIVED else ResponseRequired.SPECIFIC
        if not (k.required & required) or k.reply_to is None:
            return []
        return [Due(k.reply_to, k.mrid, int(status), k.event_id, k.kind)]

    def snapshot(self) -> list[dict[str, object]]:
        return [asdict(k) for k in self.known.values()]  # the control a dict within it

    def restore(self, items: list[dict[str, object]]) -> None:
        for item in items:
            item = {"listed_until": item["end"], **item}  # an outbox of an earlier amiscen kept no listed_until
            known = Known(**{**item, "control": Control(**item["control"])})  # type: ignore[arg-type]
            self.known[known.mrid] = known

    def controls(self) -> list[Control]:
        """Controls in force for the physics: not opted out; DER overlaps resolved by primacy (lower wins)."""
        chosen = [k for k in self.known.values() if not k.opted_out]
        der = sorted((k for k in chosen if k.kind == "der"), key=lambda k: k.primacy)
        winners: list[Known] = []
        for k in der:
            if not any(w.start < k.end and k.start < w.end for w in winners):
                winners.append(k)
        default = [] if self.default is None else [self.default]
        return [k.control for k in chosen if k.kind == "dr"] + [k.control for k in winners] + default

    def next_transition(self, now: float) -> int | None:
        times = [t for k in self.known.values() for t in (k.start, k.end) if t > now]
        return min(times) if times else None

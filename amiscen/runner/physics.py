"""A meter's physics at run time: the compiled baseline plus the controls the head-end has sent.

Demand response sheds load (air-conditioning setpoints, lighting: a share by building type) and, where there is
a battery, discharges it to cover the rest; DER controls curtail or disconnect PV and steer the battery; a
dynamic operating envelope (CSIP-AUS) limits export and import at the connection point (met by steering the
battery first, then curtailing PV or shedding load) and the DER's generation and charging. A default control
(DefaultDERControl) applies whenever no DER control is active. With no control the result equals the compiled
plan exactly.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

from amiscen.compile.battery import Battery
from amiscen.compile.plan import SiteModel
from amiscen.runner.baseline import Baseline
from amiscen.runner.quantities import Interval

Curve = tuple[tuple[float, float], ...]  # (x, y) points, x ascending
# a ride-through setting: (HV, LV, HF or LF; (seconds, level) points, the level in % of nominal voltage or in Hz;
# True: must trip (disconnect, back after RECONNECT_S), False: momentary cessation (no output while beyond))
Trip = tuple[str, Curve, bool]
RECONNECT_S = 300  # after a trip, back this long after the grid returned within limits (setESDelay's default)
VAR_SHARE = 0.44  # reactive capability, a share of the rated power (IEEE 1547 category B: 44 % of nameplate)
Q_VOLTAGE_SHARE = 0.5  # how much a var moves the voltage, against a watt (X/R of a low-voltage feeder, about 0.5)


@dataclass(frozen=True)
class Control:
    """What a control asks of this meter, over [start, end)."""

    start: int
    end: int
    reduce_w: float | None = None  # DR: shed this much
    reduce_share: float | None = None  # DR: shed this share of demand
    max_w_share: float | None = None  # DER: output (PV plus battery discharge) at most this share of setMaxW
    pv_connected: bool | None = None  # DER: connect / disconnect
    battery_w: float | None = None  # DER: hold the battery at this power (+ discharge)
    export_limit_w: float | None = None  # DOE: most export at the connection point
    import_limit_w: float | None = None  # DOE: most import at the connection point
    generation_limit_w: float | None = None  # DOE: most the DER generates (PV plus battery discharge)
    load_limit_w: float | None = None  # DOE: most the DER consumes (battery charge)
    # Rule 21 (CSIP): reactive power and the curve modes; shares of the DER's setMaxW / setMaxVar
    pf_inject: tuple[float, bool] | None = None  # (power factor, absorbing var) while the DER injects W
    pf_absorb: tuple[float, bool] | None = None  # the same while it absorbs W (charging)
    var_share: float | None = None  # fixed reactive power, share of setMaxVar (+ injecting)
    target_var: float | None = None  # reactive power, var (+ injecting)
    volt_var: Curve | None = None  # (V, % of nominal) -> share of setMaxVar
    watt_var: Curve | None = None  # (P, share of setMaxW) -> share of setMaxVar
    volt_watt: Curve | None = None  # (V, % of nominal) -> most output, share of setMaxW
    freq_watt: Curve | None = None  # (Hz) -> most output, share of setMaxW
    watt_pf: Curve | None = None  # (P, share of setMaxW) -> var per watt (+ injecting), from the power factor
    droop: tuple[float, float, float, float] | None = None  # over/under-frequency dead band (Hz), droop (per unit)
    trips: tuple[Trip, ...] = ()  # ride-through settings: when the DER must trip or cease to energize
    ramp_s: float | None = None  # rampTms: how long the DER takes to move from its output before to the setting
    default: bool = False  # a DefaultDERControl: in force only while no DER control is

    def covers(self, t: int) -> bool:
        return self.start <= t < self.end

    @property
    def _steers(self) -> bool:
        """Sets the battery or an envelope limit."""
        return _given(
            self.battery_w, self.export_limit_w, self.import_limit_w, self.generation_limit_w, self.load_limit_w
        )

    @property
    def binding(self) -> bool:
        """Whether it can change active power: "stay connected, up to 100 %" (a typical DefaultDERControl) cannot,
        nor can a reactive power mode."""
        curtails = self.max_w_share is not None and self.max_w_share < 1
        caps = _given(self.volt_watt, self.freq_watt, self.droop) or bool(self.trips)
        return (
            self._steers or _given(self.reduce_w, self.reduce_share) or curtails or caps or self.pv_connected is False
        )

    @property
    def reactive(self) -> bool:
        return _given(
            self.pf_inject, self.pf_absorb, self.var_share, self.target_var, self.volt_var, self.watt_var, self.watt_pf
        )

    @property
    def is_der(self) -> bool:
        return (
            self._steers
            or self.reactive
            or bool(self.trips)
            or _given(self.max_w_share, self.pv_connected, self.volt_watt, self.freq_watt, self.droop)
        )


def _given(*values: object) -> bool:
    return any(v is not None for v in values)


def _least(values: list[float | None]) -> float | None:
    given = [v for v in values if v is not None]
    return max(0.0, min(given)) if given else None


def in_force(controls: list[Control], t: int) -> list[Control]:
    """The controls in force at ``t``: those covering it, and the defaults when no DER control does."""
    active = [c for c in controls if not c.default and c.covers(t)]
    if not any(c.is_der for c in active):
        active += [c for c in controls if c.default and c.covers(t)]
    return active


@dataclass(frozen=True)
class Envelope:
    """The dynamic operating envelope in force (the tightest of each limit), applied in the order a site
    controller would: generation cap, battery steered within charge/discharge limits, then PV curtailed or load
    shed for what the battery could not absorb."""

    export_w: float | None = None
    import_w: float | None = None
    generation_w: float | None = None
    load_w: float | None = None

    @classmethod
    def of(cls, active: list[Control]) -> Envelope:
        if not active:  # most intervals: no control at all (this runs once per interval of every meter)
            return NO_ENVELOPE
        return cls(
            _least([c.export_limit_w for c in active]),
            _least([c.import_limit_w for c in active]),
            _least([c.generation_limit_w for c in active]),
            _least([c.load_limit_w for c in active]),
        )

    def generation(self, pv: float) -> float:
        return pv if self.generation_w is None else min(pv, self.generation_w)

    def battery(self, request: float, load: float, pv: float, limits: tuple[float, float]) -> float:
        """The battery power to run at (+ discharge), within the envelope and what the battery can do."""
        most_discharge, most_charge = limits
        if self.load_w is not None:
            most_charge = min(most_charge, self.load_w)
        if self.generation_w is not None:
            most_discharge = min(most_discharge, max(self.generation_w - pv, 0.0))
        if self.export_w is not None:  # export = pv + battery - load: charge (or discharge less) to stay within
            request = min(request, load - pv + self.export_w)
        if self.import_w is not None:  # import = load - pv - battery: discharge (or charge less) to stay within
            request = max(request, load - pv - self.import_w)
        return max(-most_charge, min(request, most_discharge))

    def export(self, pv: float, load: float, battery_w: float) -> float:
        """PV after curtailment so that export stays within the limit."""
        if self.export_w is None:
            return pv
        return max(0.0, min(pv, load - battery_w + self.export_w))

    def import_excess(self, load: float, pv: float, battery_w: float, sheddable: float) -> float:
        """Load to shed (at most ``sheddable``) so that import stays within the limit."""
        if self.import_w is None:
            return 0.0
        return max(0.0, min(load - pv - battery_w - self.import_w, max(sheddable, 0.0)))


NO_ENVELOPE = Envelope()


def on_curve(curve: Curve, x: float) -> float:
    """The curve's y at ``x``: straight lines between its points, flat beyond its ends."""
    if x <= curve[0][0]:
        return curve[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(curve):
        if x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return curve[-1][1]


def output_cap(
    active: list[Control], rated_w: float, voltage_pct: float, frequency: float, nominal_hz: float, available: float
) -> float | None:
    """The most the DER may generate (PV plus battery discharge) under opModMaxLimW, volt-watt and frequency-watt
    curves and frequency droop (None: none in force); ``voltage_pct``: the voltage as a percent of nominal;
    ``available``: what it would generate."""
    # opModMaxLimW: a share of setMaxW, the DER's rating (PV and battery inverters together), on its whole output
    caps = [c.max_w_share * rated_w for c in active if c.max_w_share is not None]
    caps += [on_curve(c.volt_watt, voltage_pct) * rated_w for c in active if c.volt_watt is not None]
    caps += [on_curve(c.freq_watt, frequency) * rated_w for c in active if c.freq_watt is not None]
    for c in active:
        if c.droop is not None:  # over-frequency: output falls by rated x (per-unit frequency rise) / droop
            dead_band, _, droop, _ = c.droop
            rise = frequency - (nominal_hz + dead_band)
            if rise > 0 and droop > 0:
                caps.append(available - rated_w * (rise / nominal_hz) / droop)
    return max(0.0, min(caps)) if caps else None


def tripped(trips: list[Trip], voltage_pct: float, frequency: float, seconds: float) -> tuple[bool, bool]:
    """(beyond a setting for the interval, a must-trip one): beyond a level for at least that level's time. A
    level applies when its time is within the interval (an interval's average stands for the whole of it)."""
    beyond = must = False
    for kind, curve, must_trip in trips:
        levels = [level for after, level in curve if after <= seconds]
        if not levels:
            continue
        value = voltage_pct if kind in ("HV", "LV") else frequency
        high = kind in ("HV", "HF")
        if (value > min(levels)) if high else (value < max(levels)):
            beyond = True
            must = must or must_trip
    return beyond, must


def reactive_power(active: list[Control], p_w: float, rated_w: float, voltage_pct: float) -> float:
    """The DER's reactive power (+ injecting) under the first reactive mode in force, in 2030.5's order of
    precedence here: target var, fixed var, fixed power factor, volt-var, watt-var; within its var capability
    and what its apparent power leaves beside ``p_w``."""
    most = min(VAR_SHARE * rated_w, math.sqrt(max(rated_w**2 - p_w**2, 0.0)))
    q = 0.0
    for c in active:
        if c.target_var is not None:
            q = c.target_var
        elif c.var_share is not None:
            q = c.var_share * VAR_SHARE * rated_w
        elif (c.pf_inject is not None and p_w >= 0) or (c.pf_absorb is not None and p_w < 0):
            pf, absorbing = c.pf_inject if p_w >= 0 else c.pf_absorb  # type: ignore[misc]
            pf = min(max(pf, 0.01), 1.0)
            q = abs(p_w) * math.tan(math.acos(pf)) * (-1 if absorbing else 1)
        elif c.volt_var is not None:
            q = on_curve(c.volt_var, voltage_pct) * VAR_SHARE * rated_w
        elif c.watt_var is not None:
            q = on_curve(c.watt_var, p_w / max(rated_w, 1.0)) * VAR_SHARE * rated_w
        elif c.watt_pf is not None:
            q = on_curve(c.watt_pf, p_w / max(rated_w, 1.0)) * abs(p_w)
        else:
            continue
        break
    return max(-most, min(q, most))


class MeterPhysics:
    def __init__(self, plan: Baseline, site: SiteModel) -> None:
        step_s, start = site.grid.step, site.grid.start
        self.local_hours = site.local_hours
        self.weekend = site.day_flags[0]
        self.plan = plan
        self.meter = plan.meter
        self.step = step_s
        self.start = start
        self.battery = Battery(plan.meter.battery, step_s) if plan.meter.battery is not None else None
        self.import_total = 0.0
        self.export_total = 0.0
        self.next_index = 0
        self.last: Interval | None = None
        self.diverged = False
        profile = site.scenario.profile(plan.meter.building_type)
        self.curtailable = profile.dr_shed_share  # declared per building type (LoadProfile)
        self.rebound_share = profile.dr_rebound_share
        self.rebound_keep = math.exp(-self.step / (profile.dr_rebound_minutes * 60))  # owed energy left per step
        self.rebound_wh = 0.0  # shed energy still to be paid back, Wh
        self.precool_share = profile.dr_precool_share
        self.precool_s = profile.dr_precool_minutes * 60
        self.tripped_until = 0.0  # a must-trip ride-through setting tripped the DER until then
        self.ramp_from: dict[tuple[int, int], float] = {}  # each ramping control's starting output, W
        self.nominal_v = site.scenario.site.grid.voltage_v
        self.nominal_hz = float(site.scenario.site.grid.frequency_hz)
        self.frequency_hz = site.frequency_hz  # the grid's, the same at every meter: computed once per site
        meter = plan.meter  # the DER's rated power (setMaxW): its PV inverter and battery inverter together
        self.rated_w = ((meter.pv.ac_kw if meter.pv else 0.0) + (meter.battery.kw if meter.battery else 0.0)) * 1000

    def snapshot(self) -> dict[str, object]:
        return {
            "next_index": self.next_index,
            "import_total": self.import_total,
            "export_total": self.export_total,
            "soc": None if self.battery is None else self.battery.state.soc,
            "diverged": self.diverged,
            "tripped_until": self.tripped_until,
            "rebound_wh": self.rebound_wh,
        }

    def restore(self, state: dict[str, object]) -> None:
        self.next_index = int(state["next_index"])  # type: ignore[call-overload]
        self.import_total = float(state["import_total"])  # type: ignore[arg-type]
        self.export_total = float(state["export_total"])  # type: ignore[arg-type]
        self.diverged = bool(state["diverged"])
        self.tripped_until = float(state.get("tripped_until", 0.0))  # type: ignore[arg-type]
        self.rebound_wh = float(state.get("rebound_wh", 0.0))  # type: ignore[arg-type]
        if self.battery is not None and state.get("soc") is not None:
            self.battery.state.soc = float(state["soc"])  # type: ignore[arg-type]

    def skip_until(self, control: Control) -> None:
        """Go straight to shortly before ``control`` (nothing played yet): until then, with no control in force,
        every interval is the plan's own, and a DR control acts no earlier than its pre-cooling lead."""
        if self.next_index == 0:
            lead = control.start - self.precool_s - self.step  # one interval to spare
            self.next_index = min(max(0, int((lead - self.start) // self.step)), self.plan.length)

    def intervals_until(self, t: float, controls: list[Control]) -> list[Interval]:
        """Every interval that has ended by simulated time ``t``, with the controls in force applied."""
        out = []
        while self.next_index < self.plan.length and self.start + (self.next_index + 1) * self.step <= t:
            self.last = self._interval(self.next_index, controls)
            out.append(self.last)
            self.next_index += 1
        return out

    def _ramped(self, active: list[Control], start: int, pv: float, battery_w: float, available: float) -> float:
        """PV output on the way to a control's setting over its rampTms: a straight line from the DER's output
        before the control began (as much as the sun gives) to the setting, reached rampTms after its start."""
        ramp = next((c for c in active if c.ramp_s and not c.default and start < c.start + c.ramp_s), None)
        if ramp is None or ramp.ramp_s is None or self.last is None:
            return pv
        origin = self.ramp_from.setdefault((ramp.start, ramp.end), self.last.pv_w + self.last.battery_w)
        reached = min(1.0, (start + self.step - ramp.start) / ramp.ramp_s)
        target = pv + battery_w
        allowed = origin + (target - origin) * reached - battery_w
        if target < origin:  # coming down: no faster than the ramp
            return min(available, max(pv, allowed))
        return max(0.0, min(pv, allowed))  # going up: no faster either

    def _precooling(self, controls: list[Control], start: int, load: float) -> float:
        """Extra power drawn to pre-cool before a DR event the meter has taken: a share of what it will shed,
        from dr_precool_minutes before the event's start (a cancelled or opted-out event is not in
        ``controls``)."""
        coming = [
            c
            for c in controls
            if (c.reduce_w is not None or c.reduce_share is not None) and start < c.start <= start + self.precool_s
        ]
        if not coming:
            return 0.0
        c = min(coming, key=lambda x: x.start)
        will_shed = min((c.reduce_w or 0.0) + load * (c.reduce_share or 0.0), load * self.curtailable)
        return self.precool_share * will_shed

    def _interval(self, i: int, controls: list[Control]) -> Interval:
        start = int(self.start + i * self.step)
        load, pv, planned_battery_w, planned_soc, planned_voltage = self.plan.at(i)
        planned_load, planned_pv = load, pv
        baseline_net = load - pv - planned_battery_w
        active = in_force(controls, start)
        frequency = float(self.frequency_hz[i])
        rated = self.rated_w
        voltage_pct = 100 * planned_voltage / self.nominal_v
        trips = [t for c in active for t in c.trips]
        if trips or start < self.tripped_until:
            beyond, must = tripped(trips, voltage_pct, frequency, self.step)
            if must:
                self.tripped_until = max(self.tripped_until, start + self.step + RECONNECT_S)
            if beyond or start < self.tripped_until:  # tripped or ceased: nothing out of the DER
                active = [*active, Control(start, start + int(self.step), pv_connected=False)]
        shed_target = 0.0
        for c in active:
            if c.reduce_w is not None:
                shed_target += c.reduce_w
            if c.reduce_share is not None:
                shed_target += load * c.reduce_share
            if c.pv_connected is False:
                pv = 0.0
        shed = min(shed_target, load * self.curtailable)
        load -= shed
        hours = self.step / 3600
        if shed_target > 0:  # the building gives up demand now and takes part of it back after the event
            self.rebound_wh += shed * hours * self.rebound_share
        elif self.rebound_wh > 0:  # the payback: cooling recovers, deferred loads run; it decays
            paid = self.rebound_wh * (1 - self.rebound_keep)
            self.rebound_wh = 0.0 if self.rebound_wh - paid < 1e-3 else self.rebound_wh - paid
            load += paid / hours
        if shed_target == 0 and self.precool_share > 0:
            load += self._precooling(controls, start, load)
        envelope = Envelope.of(active)
        cap = output_cap(active, rated, voltage_pct, frequency, self.nominal_hz, pv) if active else None
        if cap is not None:  # volt-watt, frequency-watt: a cap on the DER's output, as a generation limit
            limit = cap if envelope.generation_w is None else min(cap, envelope.generation_w)
            envelope = dataclasses.replace(envelope, generation_w=limit)
        pv = envelope.generation(pv)
        battery_w = 0.0
        stored = None
        if self.battery is not None and not any(c.binding for c in active) and not self.diverged:
            # no control has touched this meter yet: exactly the compiled plan
            battery_w = planned_battery_w
            self.battery.state.soc = planned_soc
            stored = self.battery.state.soc * self.battery.capacity_wh
        elif self.battery is not None:
            self.diverged = True  # from here on the battery's state is this run's own
            fixed = next((c.battery_w for c in active if c.battery_w is not None), None)
            if fixed is not None:
                request = fixed
            elif shed_target > shed:  # DR: the battery covers what the building could not shed
                request = min(max(load - pv, 0.0), shed_target - shed)
            else:
                request = self.battery.choose(load, pv, float(self.local_hours[i]), not bool(self.weekend[i]))
            if any(c.pv_connected is False for c in active):
                request = 0.0  # the DER is disconnected: the battery's inverter too
            battery_w = self.battery.apply(envelope.battery(request, load, pv, self.battery.limits()))
            stored = self.battery.state.soc * self.battery.capacity_wh
        pv = envelope.export(pv, load, battery_w)  # what the battery could not soak up is curtailed
        pv = self._ramped(active, start, pv, battery_w, planned_pv)
        extra_shed = envelope.import_excess(load, pv, battery_w, load * self.curtailable - shed)
        load -= extra_shed
        net = load - pv - battery_w
        imp, exp = max(net, 0.0) * hours, max(-net, 0.0) * hours
        self.import_total += imp
        self.export_total += exp
        connected = not any(c.pv_connected is False for c in active)
        q = reactive_power(active, pv + battery_w, rated, voltage_pct) if active and connected else 0.0
        voltage = planned_voltage + self.nominal_v * 0.015 * (baseline_net - net + Q_VOLTAGE_SHARE * q) / max(
            self.meter.peak_kw * 1000, 1.0
        )
        return Interval(
            index=i,
            start=start,
            duration=int(self.step),
            load_w=load,
            pv_w=pv,
            battery_w=battery_w,
            stored_wh=stored,
            import_wh=imp,
            export_wh=exp,
            import_total_wh=self.import_total,
            export_total_wh=self.export_total,
            voltage_v=voltage,
            baseline_net_w=baseline_net,
            reactive_var=q,
            frequency_hz=frequency,
            planned_load_w=planned_load,
        )

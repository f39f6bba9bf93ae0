"""A stationary battery behind the meter: state of charge with round-trip efficiency, power limits, an SoC
window and standby loss, dispatched by mode (self-consumption, peak shaving, time of use) or by a control.

The same ``Battery`` steps through the compiled plan and, at run time, through controls the head-end sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from amiscen.scenario.fleet import Battery as BatterySpec
from amiscen.scenario.fleet import BatteryMode

TOU_PEAK_HOURS = (9.0, 22.0)  # Thai TOU tariff: on-peak 09:00-22:00 on weekdays


@dataclass
class BatteryState:
    soc: float  # 0..1


class Battery:
    """Positive power discharges into the building, negative charges (W, AC side)."""

    def __init__(self, spec: BatterySpec, step_s: float) -> None:
        self.spec = spec
        self.step_h = step_s / 3600
        self.capacity_wh = spec.kwh * 1000
        self.max_w = spec.kw * 1000
        self.eta = math.sqrt(spec.round_trip_efficiency)  # one way
        self.leak = 1 - (1 - spec.standby_loss_per_day) ** (step_s / 86400) if spec.standby_loss_per_day else 0.0
        self.state = BatteryState(spec.initial_soc)

    def limits(self) -> tuple[float, float]:
        """Most discharge and most charge (both >= 0, W) possible over the next interval."""
        stored = (self.state.soc - self.spec.soc_min) * self.capacity_wh
        room = (self.spec.soc_max - self.state.soc) * self.capacity_wh
        discharge = max(0.0, min(self.max_w, stored * self.eta / self.step_h))
        charge = max(0.0, min(self.max_w, room / self.eta / self.step_h))
        return discharge, charge

    def apply(self, power_w: float) -> float:
        """Run at ``power_w`` (clamped to what is possible) for one interval; the power actually delivered."""
        discharge, charge = self.limits()
        power = min(power_w, discharge) if power_w >= 0 else -min(-power_w, charge)
        soc = self.state.soc
        if power >= 0:
            soc -= power * self.step_h / self.eta / self.capacity_wh
        else:
            soc += -power * self.step_h * self.eta / self.capacity_wh
        if power == 0:
            soc -= soc * self.leak  # standby loss while idle
        self.state.soc = min(max(soc, self.spec.soc_min), self.spec.soc_max)
        return power

    def dispatch(self, load_w: float, pv_w: float, local_hour: float, weekday: bool) -> float:
        """The mode's own choice of power for one interval (before any control)."""
        net = load_w - pv_w
        mode = self.spec.mode
        if mode == BatteryMode.self_consumption:
            return self.apply(net)
        if mode == BatteryMode.peak_shaving:
            threshold = (self.spec.peak_threshold_kw or self.spec.kw * 2) * 1000
            if net > threshold:
                return self.apply(net - threshold)
            if net < 0:
                return self.apply(net)
            off_peak = local_hour < TOU_PEAK_HOURS[0] or local_hour >= TOU_PEAK_HOURS[1]
            return self.apply(-0.25 * self.max_w) if off_peak else self.apply(0.0)
        if mode == BatteryMode.time_of_use:
            on_peak = weekday and TOU_PEAK_HOURS[0] <= local_hour < TOU_PEAK_HOURS[1]
            if on_peak:
                return self.apply(max(net, 0.0))
            return self.apply(min(net, 0.0) if net < 0 else -0.5 * self.max_w)
        return self.apply(min(net, 0.0))  # backup: only soak up surplus PV, hold the charge

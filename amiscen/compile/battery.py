"""A stationary battery behind the meter: state of charge with round-trip efficiency, power limits, an SoC
window and standby loss, dispatched by mode (self-consumption, peak shaving, time of use) or by a control.

The same ``Battery`` steps through the compiled plan and, at run time, through controls the head-end sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from amiscen.scenario.fleet import Battery as BatterySpec
from amiscen.scenario.fleet import BatteryMode

# backup: kept full for an outage. With no surplus PV it float-charges from the grid at this share of its power
# rating until full (standby loss is made good the same way), as UPS and backup chargers do
FLOAT_CHARGE_SHARE = 0.1
CHUNK = 5760  # intervals of a simulation's chunk (see Simulation)


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
        """The mode's own choice of power for one interval (before any control), applied."""
        return self.apply(self.choose(load_w, pv_w, local_hour, weekday))

    def choose(self, load_w: float, pv_w: float, local_hour: float, weekday: bool) -> float:
        """The power the mode asks for over one interval (not yet clamped or applied)."""
        net = load_w - pv_w
        mode = self.spec.mode
        if mode == BatteryMode.self_consumption:
            return net
        if mode == BatteryMode.peak_shaving:
            threshold = (self.spec.peak_threshold_kw or self.spec.kw * 2) * 1000
            if net > threshold:
                return net - threshold
            if net < 0:
                return net
            off_peak = local_hour < self.spec.peak_hours[0] or local_hour >= self.spec.peak_hours[1]
            return -0.25 * self.max_w if off_peak else 0.0
        if mode == BatteryMode.time_of_use:
            on_peak = weekday and self.spec.peak_hours[0] <= local_hour < self.spec.peak_hours[1]
            if on_peak:
                return max(net, 0.0)
            return min(net, 0.0) if net < 0 else -0.5 * self.max_w
        return net if net < 0 else -FLOAT_CHARGE_SHARE * self.max_w  # backup: surplus PV, else float charge


def requested_power(
    spec: BatterySpec, load_w: np.ndarray, pv_w: np.ndarray, local_hours: np.ndarray, weekday: np.ndarray
) -> np.ndarray:
    """What the mode asks of the battery each interval (W, + discharge), clipped to its power rating.

    It never depends on the state of charge: that only limits what is delivered (see ``simulate``)."""
    net = load_w - pv_w
    max_w = spec.kw * 1000
    mode = spec.mode
    if mode == BatteryMode.self_consumption:
        request = net
    elif mode == BatteryMode.peak_shaving:
        threshold = (spec.peak_threshold_kw or spec.kw * 2) * 1000
        off_peak = (local_hours < spec.peak_hours[0]) | (local_hours >= spec.peak_hours[1])
        request = np.where(
            net > threshold, net - threshold, np.where(net < 0, net, np.where(off_peak, -0.25 * max_w, 0.0))
        )
    elif mode == BatteryMode.time_of_use:
        on_peak = weekday & (local_hours >= spec.peak_hours[0]) & (local_hours < spec.peak_hours[1])
        request = np.where(on_peak, np.maximum(net, 0.0), np.where(net < 0, net, -0.5 * max_w))
    else:  # backup: surplus PV, else a float charge from the grid (nothing is taken once full)
        request = np.where(net < 0, net, -FLOAT_CHARGE_SHARE * max_w)
    return np.clip(request, -max_w, max_w)


def simulate(
    spec: BatterySpec, request_w: np.ndarray, step_s: float, chunk: int = CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """Delivered power and state of charge (at each interval's end) for a series of requests (see ``Simulation``)."""
    return Simulation(spec, step_s, chunk).next(request_w)


class Simulation:
    """Delivered power and state of charge (at each interval's end) for a series of requests, given a block at a
    time (``next``; every block but the last a whole number of chunks). The blocks joined are the whole series'
    values, bit for bit.

    The state of charge is a bounded integral: each interval adds -p*h/eta/capacity when discharging and
    -p*h*eta/capacity when charging, and stops at soc_min and soc_max (the power is cut so the bound is met
    exactly, as ``Battery.apply`` does). Computed with cumulative sums restarted only where a bound is hit, and
    stretches spent at a bound skipped in one step. Standby loss applies to idle intervals, at the chunk's
    starting state of charge (a fraction of a percent a day: the difference to ``Battery`` is negligible)."""

    def __init__(self, spec: BatterySpec, step_s: float, chunk: int = CHUNK) -> None:
        self.spec = spec
        self.chunk = chunk
        self.hours = step_s / 3600
        self.capacity = spec.kwh * 1000
        self.eta = math.sqrt(spec.round_trip_efficiency)
        self.leak = 1 - (1 - spec.standby_loss_per_day) ** (step_s / 86400) if spec.standby_loss_per_day else 0.0
        self.current = spec.initial_soc  # at the end of the last interval given
        self.ended = False

    def next(self, request_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Power and state of charge for the next ``len(request_w)`` intervals."""
        n = len(request_w)
        if self.ended:
            raise ValueError("a block after one that was not a whole number of chunks")
        self.ended = n % self.chunk != 0
        hours, capacity, eta, leak = self.hours, self.capacity, self.eta, self.leak
        lo, hi = self.spec.soc_min, self.spec.soc_max
        delta = np.where(request_w >= 0, -request_w * hours / eta / capacity, -request_w * hours * eta / capacity)
        soc = np.empty(n)
        start = current = self.current
        chunk = self.chunk
        for begin in range(0, n, chunk):
            d = delta[begin : begin + chunk].copy()
            if leak:
                d[request_w[begin : begin + chunk] == 0] -= current * leak
            out = soc[begin : begin + chunk]
            i, m = 0, len(d)
            while i < m:
                if (current >= hi - 1e-15 and d[i] >= 0) or (current <= lo + 1e-15 and d[i] <= 0):
                    # at a bound and pushed outwards: stay there until the push turns
                    pushing_up = current >= hi - 1e-15
                    run = np.flatnonzero(d[i:] < 0 if pushing_up else d[i:] > 0)
                    stop = i + (int(run[0]) if len(run) else m - i)
                    out[i:stop] = current
                    i = stop
                    continue
                path = current + np.cumsum(d[i:])
                outside = np.flatnonzero((path < lo) | (path > hi))
                if not len(outside):
                    out[i:] = path
                    current = float(path[-1])
                    break
                j = int(outside[0])
                out[i : i + j] = path[:j]
                current = float(min(max(path[j], lo), hi))
                out[i + j] = current
                i += j + 1
        self.current = current
        previous = np.concatenate([[start], soc[:-1]])
        change = soc - previous
        power = np.where(change < 0, -change * capacity * eta / hours, -change * capacity / eta / hours)
        power = np.where(request_w == 0, 0.0, power)
        return power, soc

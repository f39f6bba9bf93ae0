"""Building load: a daily shape by building type, scaled by calendar (weekday, weekend, holiday, term) and
outdoor temperature (air-conditioning in the heat, electric heating in the cold), with autocorrelated noise and
appliance-like on/off steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amiscen.compile.blocks import CumulativeSum
from amiscen.compile.rng import stream
from amiscen.compile.weather import Ar1, _ar1, _recurrence
from amiscen.scenario.fleet import LoadProfile

DESIGN_TEMPERATURE_C = 34.0  # outdoor temperature at which air-conditioning runs flat out (Bangkok design day)


def daily_shape(profile: LoadProfile, local_hours: np.ndarray, shift_min: float) -> np.ndarray:
    """The weekday shape (fraction of peak) at each local time, linearly interpolated between hourly points."""
    hours = (local_hours - shift_min / 60) % 24
    points = np.array([*profile.hourly, profile.hourly[0]])
    return np.interp(hours, np.arange(25) + 0.5 - 0.5, points)


def day_factor(profile: LoadProfile, weekend: np.ndarray, holiday: np.ndarray, in_term: np.ndarray) -> np.ndarray:
    """How much of the above-base demand a day carries, relative to an in-term weekday."""
    factor = np.where(weekend, profile.weekend_factor, 1.0)
    factor = factor * np.where(in_term, 1.0, profile.break_factor)
    return np.where(holiday, profile.holiday_factor * np.where(in_term, 1.0, profile.break_factor), factor)


def cooling_factor(profile: LoadProfile, temperature_c: np.ndarray) -> np.ndarray:
    """Air-conditioning output relative to the design day: 0.15 at the balance temperature, 1 at 34 degC."""
    span = max(DESIGN_TEMPERATURE_C - profile.cooling_balance_c, 1.0)
    return np.clip(0.15 + 0.85 * (temperature_c - profile.cooling_balance_c) / span, 0.15, 1.3)


def heating_factor(profile: LoadProfile, temperature_c: np.ndarray) -> np.ndarray:
    """Electric heating output relative to the design day: 0 above the balance temperature, 1 at the design
    temperature, a straight line between (heating degrees), up to 1.3 in a colder snap."""
    span = profile.heating_balance_c - profile.heating_design_c
    return np.clip((profile.heating_balance_c - temperature_c) / span, 0.0, 1.3)


@dataclass(frozen=True)
class Demand:
    """A building type's demand as shares of peak before a meter's own variation: the activity above base, the
    base, and the weather-driven cooling and heating (each on the calendar's and the weather's clock)."""

    above_base: np.ndarray
    base: np.ndarray
    cooling: np.ndarray
    heating: np.ndarray
    day_index: np.ndarray  # each interval's local day, for a meter's day-to-day activity

    @property
    def total(self) -> np.ndarray:
        return self.above_base + self.base + self.cooling + self.heating


def base_demand(
    profile: LoadProfile,
    shift_min: float,
    local_hours: np.ndarray,
    factor: np.ndarray,
    temperature_c: np.ndarray,
    step_s: float = 900.0,
    day_index: np.ndarray | None = None,
) -> Demand:
    """Demand as shares of peak before noise and steps: the type's shape, the calendar's ``factor``, and cooling
    and heating that follow the outdoor air through the building's thermal mass (``thermal_hours``). Every meter
    of one type and time shift shares it."""
    shape = daily_shape(profile, local_hours, shift_min)
    base = min(profile.hourly)
    demand = base + (shape - base) * factor
    felt = lagged(temperature_c, step_s, profile.thermal_hours * 3600)
    cooling = profile.cooling_share * demand * cooling_factor(profile, felt)
    heating = (
        profile.heating_share * demand * heating_factor(profile, felt)
        if profile.heating_share
        else _throughout(0.0, demand)
    )
    other = 1 - profile.cooling_share - profile.heating_share
    return Demand(
        above_base=other * (demand - base),
        base=_throughout(other * base, demand),
        cooling=cooling,
        heating=heating,
        day_index=np.zeros(len(demand), dtype=np.int64) if day_index is None else day_index,
    )


def _throughout(value: float, like: np.ndarray) -> np.ndarray:
    """``value`` at every interval of ``like``, held once (a read-only view): the site model keeps a demand per
    building type and time shift for the whole window, and a year's constant series would take 17 MB each."""
    return np.broadcast_to(np.array(value, dtype=like.dtype), like.shape)


def lagged(x: np.ndarray, step_s: float, tau_s: float) -> np.ndarray:
    """``x`` through a first-order lag of time constant ``tau_s`` (y' = (x - y) / tau), starting at x[0]: what a
    building's thermal mass makes of the outdoor temperature."""
    if tau_s <= 0 or len(x) == 0:
        return x
    phi = float(np.exp(-step_s / tau_s))
    return _recurrence(x * (1 - phi), phi, float(x[0]))


class MeterLoad:
    """A meter's active power demand in W: its peak times the shared ``demand``, with its own day-to-day activity,
    its own air-conditioning's variation, autocorrelated noise and appliance steps. Given a block of intervals at
    a time (``next``), in order; the blocks joined are the whole window's values, bit for bit."""

    def __init__(
        self, profile: LoadProfile, peak_kw: float, demand: Demand, step_s: float, seed: int, meter_id: str
    ) -> None:
        n = len(demand.base)
        days = int(demand.day_index[-1]) + 1 if n else 0
        self.profile = profile
        self.peak_kw = peak_kw
        self.demand = demand
        self.activity = _ar1(stream(seed, "meter", meter_id, "activity"), days, 86400.0, 2 * 86400.0)
        self.cooling_swing = Ar1(stream(seed, "meter", meter_id, "cooling"), step_s, 3 * 3600.0)
        self.noise = Ar1(stream(seed, "meter", meter_id, "noise"), step_s, profile.noise_minutes * 60)
        self.step_changes = _step_changes(profile, peak_kw, n, step_s, seed, meter_id)
        self.steps = CumulativeSum()  # the steps on at each interval: the running sum of their changes
        self.at = 0

    def next(self, count: int) -> np.ndarray:
        """The next ``count`` intervals' power, W."""
        a, b = self.at, self.at + count
        self.at = b
        d, profile = self.demand, self.profile
        share = (
            d.base[a:b]
            + d.above_base[a:b] * np.maximum(1 + profile.daily_variation * self.activity[d.day_index[a:b]], 0)
            + d.cooling[a:b] * np.maximum(1 + profile.cooling_variation * self.cooling_swing.next(b - a), 0)
            + d.heating[a:b]
        )
        noise = self.noise.next(b - a)
        power = self.peak_kw * 1000 * share * (1 + profile.noise * noise)
        if self.step_changes is not None:
            power += self.steps.raw(self.step_changes[a:b])
        return np.maximum(power, 0.02 * self.peak_kw * 1000)


def _step_changes(
    profile: LoadProfile, peak_kw: float, n: int, step_s: float, seed: int, meter_id: str
) -> np.ndarray | None:
    """Appliances switching on for a while (chillers, lifts, kitchen equipment): rectangular steps. Drawn day by
    day from the window's start (a count per day, then each step's time, length and size in order, each from its
    own stream), so the steps of a window's first days do not depend on how many days are compiled. Returned as
    each interval's change of the power switched on (None: no steps)."""
    if profile.step_share == 0 or n == 0:
        return None
    per_day = 86400 / step_s  # intervals per day
    days = int(np.ceil(n / per_day))
    counts = stream(seed, "meter", meter_id, "steps", "count").poisson(profile.steps_per_day, days)
    count = int(counts.sum())
    if count == 0:
        return None
    day_of = np.repeat(np.arange(days), counts)
    starts = day_of * per_day + stream(seed, "meter", meter_id, "steps", "at").uniform(0, per_day, count)
    starts = starts.astype(np.int64)
    lengths = stream(seed, "meter", meter_id, "steps", "length").exponential(1800, count)
    lengths = np.maximum(1, (lengths / step_s).astype(np.int64))
    sizes = (
        profile.step_share * peak_kw * 1000 * stream(seed, "meter", meter_id, "steps", "size").uniform(0.5, 1.5, count)
    )
    inside = starts < n  # the last day may be partly outside the window
    starts, lengths, sizes = starts[inside], lengths[inside], sizes[inside]
    change = np.bincount(starts, weights=sizes, minlength=n + 1)
    change -= np.bincount(np.minimum(starts + lengths, n), weights=sizes, minlength=n + 1)
    return change[:n]

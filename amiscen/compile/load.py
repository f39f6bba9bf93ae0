"""Building load: a daily shape by building type, scaled by calendar (weekday, weekend, holiday, term) and
outdoor heat (air-conditioning), with autocorrelated noise and appliance-like on/off steps."""

from __future__ import annotations

import numpy as np

from amiscen.compile.rng import stream
from amiscen.compile.weather import _ar1
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


def base_demand(
    profile: LoadProfile, shift_min: float, local_hours: np.ndarray, factor: np.ndarray, temperature_c: np.ndarray
) -> np.ndarray:
    """Demand as a share of peak before noise and steps: the type's shape, the calendar's ``factor`` and the
    cooling term. Every meter of one type and time shift shares it."""
    shape = daily_shape(profile, local_hours, shift_min)
    base = min(profile.hourly)
    demand = base + (shape - base) * factor
    cooling = profile.cooling_share * demand * cooling_factor(profile, temperature_c)
    return (1 - profile.cooling_share) * demand + cooling


def load_w(
    profile: LoadProfile, peak_kw: float, demand: np.ndarray, step_s: float, seed: int, meter_id: str
) -> np.ndarray:
    """A meter's active power demand in W: its peak times the shared ``demand``, with its own autocorrelated
    noise and appliance steps."""
    n = len(demand)
    noise = _ar1(stream(seed, "meter", meter_id, "noise"), n, step_s, profile.noise_minutes * 60)
    power = peak_kw * 1000 * demand * (1 + profile.noise * noise)
    power += _steps(profile, peak_kw, n, step_s, stream(seed, "meter", meter_id, "steps"))
    return np.maximum(power, 0.02 * peak_kw * 1000)


def _steps(profile: LoadProfile, peak_kw: float, n: int, step_s: float, rng: np.random.Generator) -> np.ndarray:
    """Appliances switching on for a while (chillers, lifts, kitchen equipment): rectangular steps."""
    out = np.zeros(n)
    days = n * step_s / 86400
    count = rng.poisson(profile.steps_per_day * days)
    if count == 0 or profile.step_share == 0:
        return out
    starts = rng.integers(0, n, count)
    lengths = np.maximum(1, (rng.exponential(1800, count) / step_s).astype(np.int64))
    sizes = profile.step_share * peak_kw * 1000 * rng.uniform(0.5, 1.5, count)
    change = np.bincount(starts, weights=sizes, minlength=n + 1)
    change -= np.bincount(np.minimum(starts + lengths, n), weights=sizes, minlength=n + 1)
    return np.cumsum(change[:n])

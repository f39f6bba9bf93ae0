"""Site weather: air temperature and a cloud (clear-sky index) series. Site-wide, drawn from the seed alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amiscen.compile.rng import stream
from amiscen.compile.timegrid import TimeGrid
from amiscen.scenario.site import Weather

DAY = 86400.0


@dataclass(frozen=True)
class WeatherSeries:
    temperature_c: np.ndarray
    clear_sky_index: np.ndarray  # GHI / clear-sky GHI; 1 is cloudless


def _monthly(values: list[float], grid: TimeGrid) -> np.ndarray:
    """Monthly values interpolated smoothly by day of year (each value at its month's middle)."""
    doy = ((grid.mids / DAY) % 365.25) / 365.25 * 12 - 0.5  # months since mid-January
    x = np.arange(-1, 13)
    y = np.array([values[-1], *values, values[0]])
    return np.interp(doy, x, y)


def _ar1(rng: np.random.Generator, n: int, step: float, tau: float) -> np.ndarray:
    """A unit-variance AR(1) series with correlation time ``tau`` seconds. Its first k values are the same for any
    n >= k (numpy's generators draw arrays value by value), so a longer window repeats a shorter one's start."""
    phi = float(np.exp(-step / tau))
    value = rng.standard_normal()  # drawn first: the series' start never depends on its length
    shocks = rng.standard_normal(n) * np.sqrt(1 - phi * phi)
    out = np.empty(n)
    # the recurrence out[k] = phi*out[k-1] + shock[k], vectorised per chunk; chunks stay short enough that
    # phi**length does not underflow (1e-100)
    length = int(max(1, min(65536, 230 / max(step / tau, 1e-9))))
    for start in range(0, n, length):
        chunk = shocks[start : start + length]
        powers = phi ** np.arange(len(chunk))
        # out[k] = phi^(k+1) * value + sum_j phi^(k-j) shocks[j]
        scaled = np.cumsum(chunk / powers) * powers
        out[start : start + len(chunk)] = scaled + value * powers * phi
        value = out[start + len(chunk) - 1]
    return out


def weather(spec: Weather, grid: TimeGrid, seed: int) -> WeatherSeries:
    n = grid.count
    days, day_index = grid.local_days()
    rng_day = stream(seed, "weather", "daily")
    rng_fast = stream(seed, "weather", "clouds")
    # daily cloud level: Beta around the month's mean, persisting somewhat from day to day
    month_cloud = _monthly(spec.cloudiness, grid)
    first_day_cloud = np.array(
        [month_cloud[np.argmax(day_index == i)] if np.any(day_index == i) else 0.3 for i in range(len(days))]
    )
    concentration = 4.0
    a = np.maximum(first_day_cloud * concentration, 0.05)
    b = np.maximum((1 - first_day_cloud) * concentration, 0.05)
    daily = rng_day.beta(a, b)
    day_cloud = daily[day_index]
    # within the day: passing clouds, an AR(1) in a latent variable mapped to [0, 2] with mean 1
    latent = _ar1(rng_fast, n, grid.step, spec.cloud_persistence.total_seconds())
    passing = np.clip(1 + 0.9 * latent, 0, 2)
    clear_sky_index = np.clip(1 - day_cloud * passing, 0.05, 1.08)
    # temperature: monthly mean, a diurnal cycle (min ~06:00, max ~15:00), day-to-day anomaly, cloudy days cooler
    hours = grid.local_hours()
    diurnal = np.where(
        (hours >= 6) & (hours < 15),
        -np.cos((hours - 6) / 9 * np.pi),
        np.cos(((hours - 15) % 24) / 15 * np.pi),
    )
    anomaly = (stream(seed, "weather", "temperature").standard_normal(len(days)) * 1.0)[day_index]
    temperature = (
        _monthly(spec.monthly_mean_c, grid)
        + spec.daily_swing_c / 2 * diurnal
        + anomaly
        - 2.5 * (day_cloud - month_cloud)
    )
    return WeatherSeries(temperature_c=temperature, clear_sky_index=clear_sky_index)

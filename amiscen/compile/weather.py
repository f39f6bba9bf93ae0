"""Site weather: air temperature and a cloud (clear-sky index) series. Site-wide, drawn from the seed alone."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from amiscen.compile.blocks import CumulativeSum
from amiscen.compile.rng import stream
from amiscen.compile.timegrid import TimeGrid
from amiscen.scenario.site import Weather
from amiscen.scenario.weatherfile import HOUR, YEAR, HourlyWeather

DAY = 86400.0


@dataclass(frozen=True)
class WeatherSeries:
    temperature_c: np.ndarray
    clear_sky_index: np.ndarray  # GHI / clear-sky GHI; 1 is cloudless
    diffuse_fraction: np.ndarray | None = None  # DHI / GHI, when a weather file gives it
    wind_m_s: np.ndarray | None = None  # when a weather file gives it

    def first(self, count: int) -> WeatherSeries:
        return WeatherSeries(
            self.temperature_c[:count],
            self.clear_sky_index[:count],
            None if self.diffuse_fraction is None else self.diffuse_fraction[:count],
            None if self.wind_m_s is None else self.wind_m_s[:count],
        )


def _monthly(values: list[float], grid: TimeGrid) -> np.ndarray:
    """Monthly values interpolated smoothly by day of year (each value at its month's middle)."""
    return monthly_at(values, grid.mids)


def monthly_at(values: list[float], epoch: np.ndarray) -> np.ndarray:
    """Monthly values at instants, interpolated smoothly by day of year (each value at its month's middle)."""
    doy = ((epoch / DAY) % 365.25) / 365.25 * 12 - 0.5  # months since mid-January
    x = np.arange(-1, 13)
    y = np.array([values[-1], *values, values[0]])
    return np.interp(doy, x, y)


def _ar1(rng: np.random.Generator, n: int, step: float, tau: float) -> np.ndarray:
    """A unit-variance AR(1) series with correlation time ``tau`` seconds. Its first k values are the same for any
    n >= k (numpy's generators draw arrays value by value), so a longer window repeats a shorter one's start."""
    return Ar1(rng, step, tau).next(n)


class Ar1:
    """``_ar1``'s series drawn a block at a time: the blocks joined are the whole series, bit for bit (the draws
    come in the same order from the same stream, and the recurrence carries across blocks)."""

    def __init__(self, rng: np.random.Generator, step: float, tau: float) -> None:
        self.rng = rng
        phi = float(np.exp(-step / tau))
        self.scale = np.sqrt(1 - phi * phi)
        self.recurrence = Recurrence(phi, rng.standard_normal())  # drawn first: the start never depends on length

    def next(self, n: int) -> np.ndarray:
        """The series' next ``n`` values."""
        shocks = self.rng.standard_normal(n)
        shocks *= self.scale
        return self.recurrence.next(shocks)


def _recurrence(shocks: np.ndarray, phi: float, value: float) -> np.ndarray:
    """out[k] = phi * out[k-1] + shocks[k] with out[-1] = ``value`` (see ``Recurrence``)."""
    return Recurrence(phi, value).next(shocks)


class Recurrence:
    """out[k] = phi * out[k-1] + shocks[k] with out[-1] = ``value``, vectorised per chunk: out[k] = phi^(k+1) x
    value + sum_j phi^(k-j) shocks[j]. Chunks stay short enough that phi**length does not underflow (1e-100); the
    powers of phi are computed once per phi and chunk length, and reused.

    The shocks may come a block at a time (``next``): the chunks stay where they are in the whole series, and a
    chunk cut by a block's end carries its running sum into the next block, added to its first term (the same
    additions in the same order), so the blocks give the whole series' values exactly."""

    def __init__(self, phi: float, value: float) -> None:
        self.phi = phi
        self.length = int(max(1, min(65536, 230 / max(-np.log(phi), 1e-9) if phi > 0 else 1)))
        self.powers, self.inverse = _powers(phi, self.length)
        self.value = value  # the series just before the current chunk
        self.at = 0  # terms of the current chunk already given
        self.sum = CumulativeSum()  # their running sum of shocks[j] / phi^j

    def next(self, shocks: np.ndarray) -> np.ndarray:
        """The series' values for the next ``len(shocks)`` shocks."""
        n = len(shocks)
        out = np.empty(n)
        start = 0
        while start < n:
            at = self.at
            m = min(self.length - at, n - start)
            scaled = self.sum.add_to(shocks[start : start + m] * self.inverse[at : at + m])
            powers = self.powers[at : at + m]
            scaled *= powers
            scaled += self.value * self.phi * powers
            out[start : start + m] = scaled
            start += m
            self.at = at + m
            if self.at == self.length:
                self.value, self.at, self.sum = float(out[start - 1]), 0, CumulativeSum()
        return out


@lru_cache(maxsize=64)
def _powers(phi: float, length: int) -> tuple[np.ndarray, np.ndarray]:
    powers = phi ** np.arange(length)
    return powers, 1.0 / powers


CONCENTRATION = 4.0  # of the Beta distribution of a day's cloud level around its month's mean (a + b)
GOLDEN = (5**0.5 - 1) / 2


def _daily_cloud(mean: np.ndarray, start: float) -> np.ndarray:
    """Each day's cloud level: Beta-distributed around the month's ``mean``, drawn at quantiles that spread evenly
    (a Weyl sequence from a random ``start``: day d takes the quantile start + d x 0.618..., modulo 1), so a month's
    days average to its mean far closer than independent draws would (the realised cloudiness of a year stays
    within a percent or two of what was asked), while any one day is as likely clear as the climate makes it."""
    days = len(mean)
    quantile = (start + GOLDEN * np.arange(1, days + 1)) % 1.0
    a = np.maximum(mean * CONCENTRATION, 0.05)
    b = np.maximum((1 - mean) * CONCENTRATION, 0.05)
    return np.array([_beta_quantile(q, x, y) for q, x, y in zip(quantile, a, b, strict=True)])


def _beta_quantile(q: float, a: float, b: float, points: int = 513) -> float:
    """The q-quantile of Beta(a, b), its CDF integrated numerically. Near 0 the density t^(a-1) is infinite when
    a < 1 (a clear month), so the lower half is integrated in u = t^a and the upper half in v = (1 - t)^b, where
    the integrands are smooth (a plain grid in t overweights the middle and biased clear months cloudier)."""
    u = np.linspace(0.0, 0.5**a, points)
    low_t = u ** (1 / a)
    low = _cumulative(np.power(1 - low_t, b - 1) / a, u)  # mass below each t
    v = np.linspace(0.0, 0.5**b, points)
    high_t = 1 - v ** (1 / b)
    high = _cumulative(np.power(high_t, a - 1) / b, v)  # mass above each t
    total = low[-1] + high[-1]
    t = np.concatenate([low_t, high_t[::-1][1:]])
    cdf = np.concatenate([low, (total - high)[::-1][1:]]) / total
    return float(np.interp(q, cdf, t))


def _cumulative(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum((y[1:] + y[:-1]) / 2 * np.diff(x))])


MOST_CLOUD = 0.95  # an overcast sky still lets through 5 % of the clear-sky irradiance
# how far passing clouds move the cover within a day (logistic units): at 6 a cloud edge takes a roof from sun to
# shade within a minute or two (a single rooftop's output moves 50-60 % of its rating in a minute on a day of
# broken cloud, as measured 1-minute PV data show: 50-80 %); 1.6 gave smooth swells of 20-25 %
SPREAD = 6.0


def _held_to_days(level: np.ndarray, latent: np.ndarray, day_index: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Cloud cover at each interval: MOST_CLOUD x logistic(shift + SPREAD x latent), the passing clouds of an AR(1)
    ``latent``, with a shift per day found by bisection so that the day's cover in sunlight (weighted by
    ``light``) is exactly its drawn ``level``. Cover stays within (0, MOST_CLOUD), so no level is cut short (cover
    clipped at its bounds made the realised cloudiness 0.376 where 0.458 was asked)."""
    days = len(level)
    weight = np.bincount(day_index, weights=light, minlength=days)
    target = np.clip(level, 1e-4, MOST_CLOUD - 1e-4) * weight
    spread = SPREAD * latent
    lit = light > 0  # only sunlit intervals weigh: the search looks at them alone (about half of them)
    lit_day, lit_light, lit_spread = day_index[lit], light[lit], spread[lit]
    shift = np.empty(days)
    if len(lit_day) > 1 and np.any(lit_day[1:] < lit_day[:-1]):  # days out of order (never on a time grid)
        groups = [(0, days)]
    else:  # a few days at a time, their sunlit intervals together: the search's arrays stay in the caches
        groups = [(d, min(d + DAYS_AT_A_TIME, days)) for d in range(0, days, DAYS_AT_A_TIME)]
    for d0, d1 in groups:
        i0, i1 = np.searchsorted(lit_day, [d0, d1]) if len(groups) > 1 else (0, len(lit_day))
        shift[d0:d1] = _shift(target[d0:d1], lit_day[i0:i1] - d0, lit_light[i0:i1], lit_spread[i0:i1])
    return MOST_CLOUD / (1 + np.exp(-shift[day_index] - spread))


DAYS_AT_A_TIME = 8


def _shift(target: np.ndarray, day: np.ndarray, light: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Each day's shift, by bisection: the days are independent, and a day's cover is summed over its intervals
    in order (bincount), so searching a few days at a time finds what searching them all at once finds."""
    days = len(target)
    low, high = np.full(days, -30.0), np.full(days, 30.0)
    for _ in range(32):  # 60 / 2**32: exact to 1e-8
        mid = (low + high) / 2
        cover = MOST_CLOUD / (1 + np.exp(-(mid[day] + spread)))
        short = np.bincount(day, weights=light * cover, minlength=days) < target
        low = np.where(short, mid, low)
        high = np.where(short, high, mid)
    return (low + high) / 2


def weather(spec: Weather, grid: TimeGrid, seed: int, light: np.ndarray | None = None) -> WeatherSeries:
    """Temperature and clouds at each interval. ``light``: the clear-sky irradiance, to hold each day's cloud
    cover in sunlight to its drawn level (absent: every interval counts alike)."""
    n = grid.count
    days, day_index = grid.local_days()
    rng_day = stream(seed, "weather", "daily")
    rng_fast = stream(seed, "weather", "clouds")
    # daily cloud level: Beta around the month's mean, persisting somewhat from day to day
    month_cloud = _monthly(spec.cloudiness, grid)  # smooth, for the temperature's cloudy-day term
    # each day's level is drawn around its own calendar month's cloudiness (a month's days then average to it)
    asked = np.array([spec.cloudiness[d.month - 1] for d in days])
    daily = MOST_CLOUD * _daily_cloud(np.minimum(asked / MOST_CLOUD, 0.999), float(rng_day.random()))
    day_cloud = daily[day_index]
    # within the day: passing clouds, an AR(1) in a latent variable mapped to [0, 2] with mean 1
    latent = _ar1(rng_fast, n, grid.step, spec.cloud_persistence.total_seconds())
    cover = _held_to_days(daily, latent, day_index, np.ones(n) if light is None else light)
    clear_sky_index = 1 - cover
    # temperature: monthly mean, a diurnal cycle (min ~06:00, max ~15:00), day-to-day anomaly, cloudy days cooler
    hours = grid.local_hours()
    diurnal = np.where(
        (hours >= 6) & (hours < 15),
        -np.cos((hours - 6) / 9 * np.pi),
        np.cos(((hours - 15) % 24) / 15 * np.pi),
    )
    spells = _ar1(stream(seed, "weather", "temperature"), len(days), DAY, spec.spell_days * DAY)
    anomaly = (spells * spec.day_to_day_c)[day_index]
    temperature = (
        _monthly(spec.monthly_mean_c, grid)
        + spec.daily_swing_c / 2 * diurnal
        + anomaly
        - 2.5 * (day_cloud - month_cloud)
    )
    return WeatherSeries(temperature_c=temperature, clear_sky_index=clear_sky_index)


DIM = 30.0  # W/m2: an hour whose clear sky averages less gives no clear-sky index of its own (dawn, dusk)
BRIGHTEST = 1.3  # cloud edges lift an hour's light above the clear sky's, but not by more than this


def from_file(hourly: HourlyWeather, mids: np.ndarray, hour_clear_ghi: np.ndarray) -> WeatherSeries:
    """The weather at instants ``mids`` from a file's hours. Temperature and wind are the file's, interpolated
    between the hours' ends. Light is carried by each hour's clear-sky index (the file's GHI over the hour's mean
    clear-sky GHI, ``hour_clear_ghi``, on the site's own clear-sky model) and diffuse fraction, interpolated
    between the hours' middles: within an hour the light follows the sun, and the hour's energy stays the file's
    (within a percent or two; the index of a dim hour is its neighbours')."""
    period = YEAR if hourly.full_year else None
    position = hourly.positions(mids)
    centres = hourly.hour_end - HOUR / 2
    lit = hour_clear_ghi > DIM
    if not lit.any():
        raise ValueError("the weather file has no hour of daylight")
    index = np.arange(len(centres))
    ratio = np.where(lit, hourly.ghi / np.where(lit, hour_clear_ghi, 1.0), 0.0)
    kt = np.clip(np.interp(index, index[lit], ratio[lit]), 0.0, BRIGHTEST)
    bright = hourly.ghi > 5
    fraction = np.where(bright, hourly.dhi / np.where(bright, hourly.ghi, 1.0), 1.0)
    fraction = np.clip(np.interp(index, index[bright], fraction[bright]) if bright.any() else fraction, 0.0, 1.0)
    return WeatherSeries(
        temperature_c=np.interp(position, hourly.hour_end, hourly.temperature_c, period=period),
        clear_sky_index=np.interp(position, centres, kt, period=period),
        diffuse_fraction=np.interp(position, centres, fraction, period=period),
        wind_m_s=np.interp(position, hourly.hour_end, hourly.wind_m_s, period=period),
    )

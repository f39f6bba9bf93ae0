"""compile(scenario) -> Plan: the site's weather and, per meter, its load, PV, battery and registers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from amiscen.compile import solar
from amiscen.compile.battery import Simulation, requested_power
from amiscen.compile.blocks import spans
from amiscen.compile.calendar import day_types
from amiscen.compile.load import Demand, MeterLoad, base_demand, day_factor
from amiscen.compile.registers import RegisterBlocks, Registers, grid_frequency
from amiscen.compile.rng import stream
from amiscen.compile.timegrid import TimeGrid
from amiscen.compile.weather import WeatherSeries, _monthly, from_file, monthly_at, weather
from amiscen.scenario.model import MeterSpec, Scenario, meters
from amiscen.scenario.weatherfile import HOUR, HourlyWeather


@dataclass(frozen=True)
class MeterPlan:
    meter: MeterSpec
    registers: Registers


class SiteModel:
    """Everything site-wide, computed once: time grid, calendar, weather, sun. Meters draw on it."""

    def __init__(self, scenario: Scenario, start: float | None = None, count: int | None = None) -> None:
        t = scenario.time
        step = t.reading_interval.total_seconds()
        self.scenario = scenario
        self.grid = TimeGrid(
            start=start if start is not None else t.start.timestamp(),
            step=step,
            count=count if count is not None else int(t.duration.total_seconds() // step),
            timezone=scenario.site.timezone,
        )
        self._light: dict[tuple[float, float, int], tuple[np.ndarray, np.ndarray]] = {}
        self._beam: dict[tuple[float, float], np.ndarray] = {}
        self._demand: dict[tuple[str, float], Demand] = {}

    @cached_property
    def local_hours(self) -> np.ndarray:
        return self.grid.local_hours()

    @cached_property
    def days(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per local day: weekend, holiday, in_term; and each interval's day index."""
        days, index = self.grid.local_days()
        weekend, holiday, in_term = day_types(self.scenario.calendar, days)
        return weekend, holiday, in_term, index

    @cached_property
    def day_flags(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        weekend, holiday, in_term, index = self.days
        return weekend[index], holiday[index], in_term[index]

    @cached_property
    def frequency_hz(self) -> np.ndarray:
        """The grid's frequency at each interval's start (runner/physics reads it for every meter)."""
        nominal = float(self.scenario.site.grid.frequency_hz)
        return np.array([grid_frequency(int(t), nominal) for t in self.grid.starts])

    @cached_property
    def _through_last_day(self) -> TimeGrid:
        """The window run on to the end of its last local day: clouds are held to each whole day's level (so the
        window's last day is the same however long the window), and the sun is computed once, here."""
        return self.grid.through_last_day()

    @cached_property
    def _clear_days(self) -> tuple[solar.SunPosition, solar.ClearSky]:
        site = self.scenario.site
        days = self._through_last_day
        sun = solar.sun_position(days.mids, site.latitude, site.longitude)
        return sun, solar.clear_sky(sun, _monthly(site.weather.linke_turbidity, days), site.elevation_m)

    @cached_property
    def weather(self) -> WeatherSeries:
        hourly = self.scenario.site.weather.hourly()
        if hourly is not None:
            return from_file(hourly, self.grid.mids, self._hour_clear_ghi(hourly))
        return self._weather_days.first(self.grid.count)

    @cached_property
    def _weather_days(self) -> WeatherSeries:
        # clouds are held to the asked cloudiness in sunlight, weighted by the clear-sky irradiance they take away
        light = self._clear_days[1].ghi
        return weather(self.scenario.site.weather, self._through_last_day, self.scenario.time.seed, light)

    def cloud_lag(self, meter: MeterSpec) -> int:
        """How many intervals after the site's reference the passing clouds reach this meter's roof: drawn from
        the seed and its id, up to weather.cloud_transit (none with a weather file: its hours have no passing
        clouds)."""
        w = self.scenario.site.weather
        most = round(w.cloud_transit.total_seconds() / self.grid.step)
        if most == 0 or w.file is not None:
            return 0
        return int(stream(self.scenario.time.seed, "meter", meter.id, "cloud lag").integers(0, most + 1))

    def _index_at(self, lag: int) -> np.ndarray:
        """The clear-sky index a roof sees whose clouds come ``lag`` intervals later than the reference's."""
        if lag == 0:
            return self.weather.clear_sky_index
        index = self._weather_days.clear_sky_index
        n = self.grid.count
        shifted = index[lag : lag + n]
        if len(shifted) < n:  # the window ends at its last day's midnight: the night's last clouds held
            shifted = np.concatenate([shifted, np.full(n - len(shifted), index[-1])])
        return shifted

    def _sky_part(self, index: np.ndarray, a: int, b: int) -> solar.ClearSky:
        """The sky over intervals [a, b) under the clear-sky ``index`` (the window's), split as measured where a
        weather file gives the diffuse fraction."""
        clear, sun = self.clear.part(a, b), self.sun.part(a, b)
        diffuse = self.weather.diffuse_fraction
        if diffuse is not None:
            return solar.measured_sky(clear, sun, index[a:b], diffuse[a:b])
        return solar.cloudy_sky(clear, sun, index[a:b])

    def _hour_clear_ghi(self, hourly: HourlyWeather) -> np.ndarray:
        """The site's clear-sky GHI averaged over each hour of a weather file (at 5-minute points), the hours
        placed in the year the window starts in (the file's standard time)."""
        site = self.scenario.site
        offset = dt.timezone(dt.timedelta(hours=hourly.utc_offset_h))
        year = dt.datetime.fromtimestamp(self.grid.start, offset).year
        new_year = dt.datetime(year, 1, 1, tzinfo=offset).timestamp()
        points = (new_year + hourly.hour_end - HOUR)[:, None] + (np.arange(12) + 0.5) * 300
        points = points.ravel()
        sun = solar.sun_position(points, site.latitude, site.longitude)
        clear = solar.clear_sky(sun, monthly_at(site.weather.linke_turbidity, points), site.elevation_m)
        return clear.ghi.reshape(-1, 12).mean(axis=1)

    @cached_property
    def sun(self) -> solar.SunPosition:
        return self._clear_days[0].first(self.grid.count)

    @cached_property
    def clear(self) -> solar.ClearSky:
        return self._clear_days[1].first(self.grid.count)

    @cached_property
    def sky(self) -> solar.ClearSky:
        return self._sky_part(self.weather.clear_sky_index, 0, self.grid.count)

    def pv_w(self, meter: MeterSpec) -> np.ndarray:
        return self._pv(meter)(0, self.grid.count)

    def _pv(self, meter: MeterSpec) -> Callable[[int, int], np.ndarray]:
        """A meter's AC output over intervals [a, b): each face's DC under its own sun, one inverter for them all."""
        if meter.pv is None:
            return lambda a, b: np.zeros(b - a)
        pv = meter.pv
        lag = self.cloud_lag(meter)
        faces = [(face.kwp, *self._array_light(face.tilt_deg, face.azimuth_deg, lag)) for face in pv.faces]

        def ac(a: int, b: int) -> np.ndarray:
            dc = np.zeros(b - a)
            for kwp, poa, cell in faces:
                dc += solar.dc_power_w(pv, kwp, poa[a:b], cell[a:b])
            return solar.inverter_w(pv, dc)

        return ac

    def _array_light(self, tilt: float, azimuth: float, lag: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Irradiance on, and cell temperature of, an array of this orientation whose clouds come ``lag``
        intervals late: arrays facing the same way with the same lag share it, computed once (a campus has a few
        orientations and at most cloud_transit / interval + 1 lags), a block at a time (amiscen.compile.blocks)."""
        key = (tilt, azimuth, lag)
        if key not in self._light:
            w = self.scenario.site.weather
            n = self.grid.count
            if (tilt, azimuth) not in self._beam:  # the sun's geometry on this orientation, whatever the clouds
                beam = np.empty(n)
                for a, b in spans(n):
                    beam[a:b] = solar.beam_share(self.sun.part(a, b), tilt, azimuth)
                self._beam[(tilt, azimuth)] = beam
            beam, index = self._beam[(tilt, azimuth)], self._index_at(lag)
            air = self.weather.temperature_c
            wind = w.wind_speed if self.weather.wind_m_s is None else self.weather.wind_m_s
            poa, cell = np.empty(n), np.empty(n)
            for a, b in spans(n):
                sky = self._sky_part(index, a, b)
                poa[a:b] = solar.plane_of_array(self.sun.part(a, b), sky, tilt, azimuth, w.albedo, beam[a:b])
                here = wind if isinstance(wind, float | int) else wind[a:b]
                cell[a:b] = solar.cell_temperature(poa[a:b], air[a:b], here)
            self._light[key] = (poa, cell)
        return self._light[key]

    def load_w(self, meter: MeterSpec) -> np.ndarray:
        return self._load(meter).next(self.grid.count)

    def _load(self, meter: MeterSpec) -> MeterLoad:
        profile = self.scenario.profile(meter.building_type)
        key = (meter.building_type, meter.time_shift_min)
        if key not in self._demand:
            weekend, holiday, in_term, index = self.days
            factor = day_factor(profile, weekend, holiday, in_term)[index]  # per day, then spread over its intervals
            self._demand[key] = base_demand(
                profile,
                meter.time_shift_min,
                self.local_hours,
                factor,
                self.weather.temperature_c,
                self.grid.step,
                index,
            )
        return MeterLoad(profile, meter.peak_kw, self._demand[key], self.grid.step, self.scenario.time.seed, meter.id)

    def meter_plan(self, meter: MeterSpec) -> MeterPlan:
        """The meter's registers over the window, computed a block at a time (amiscen.compile.blocks) into the
        window's arrays: every series that runs on (noise, steps, totals, the battery's charge) carries across
        blocks, so the values are those of the whole window at once."""
        n = self.grid.count
        load, pv = self._load(meter), self._pv(meter)
        battery = None if meter.battery is None else Simulation(meter.battery, self.grid.step)
        noise = stream(self.scenario.time.seed, "meter", meter.id, "voltage")
        blocks = RegisterBlocks(self.grid.step, meter.peak_kw * 1000, nominal_v=self.scenario.site.grid.voltage_v)
        out = {f.name: np.empty(n) for f in fields(Registers)}
        for a, b in spans(n):
            load_w, pv_w = load.next(b - a), pv(a, b)
            if battery is not None:
                weekday = ~self.day_flags[0][a:b]
                request = requested_power(battery.spec, load_w, pv_w, self.local_hours[a:b], weekday)
                battery_w, soc = battery.next(request)
            else:
                battery_w, soc = np.zeros(b - a), np.full(b - a, np.nan)
            block = blocks.next(load_w, pv_w, battery_w, soc, noise.normal(0, 0.6, b - a))
            for name, values in out.items():
                values[a:b] = getattr(block, name)
        return MeterPlan(meter=meter, registers=Registers(**out))


def compile_scenario(scenario: Scenario) -> list[MeterPlan]:
    """Every meter's plan for the scenario's whole window."""
    site = SiteModel(scenario)
    return [site.meter_plan(m) for m in meters(scenario)]

"""The scenario: the whole document a user writes, and the fleet it expands to."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from amiscen.scenario.events import (
    DemandResponseEvent,
    DerControlEvent,
    Event,
    Expectations,
    Fault,
    FlowReservation,
)
from amiscen.scenario.fleet import Battery, Building, LoadProfile, Pv
from amiscen.scenario.network import FunctionSets, Gateway, Network, network_id_of
from amiscen.scenario.profiles import BUILTIN_PROFILES
from amiscen.scenario.site import Calendar, Site, TimeWindow
from amiscen.scenario.types import Model, resolve_time

SCHEMA_VERSION = 1


class Scenario(Model):
    """An amiscen scenario: a site, its metered buildings, and what happens over a time window."""

    schema_version: Literal[1] = Field(description="Version of the scenario language; this amiscen reads 1.")
    name: str = Field("scenario", max_length=200, description="Short name, for reports.")
    description: str = Field("", max_length=10_000, description="What this scenario shows.")
    network: Network = Field(default_factory=Network, description="Network identity.")
    gateway: Gateway = Field(default_factory=Gateway, description="Head-end to play against.")
    site: Site = Field(default_factory=Site, description="Where the site is (sun, weather, local time).")
    time: TimeWindow = Field(description="The simulated period, interval and seed.")
    calendar: Calendar = Field(default_factory=Calendar, description="Holidays and academic terms.")
    function_sets: FunctionSets = Field(default_factory=FunctionSets, description="2030.5 function sets in use.")
    load_profiles: dict[str, LoadProfile] = Field(
        default_factory=dict,
        description="Load profiles by building type: new types, or replacements of built-in ones.",
    )
    buildings: list[Building] = Field(min_length=1, description="Buildings and their meters.")
    events: list[Event] = Field(
        default_factory=list, description="DR events, DER controls and flow reservations, by `type`."
    )
    faults: list[Fault] = Field(default_factory=list, description="Faults to inject, by `type`.")
    expect: Expectations = Field(default_factory=Expectations, description="What the run must show.")

    @model_validator(mode="before")
    @classmethod
    def _network_named_after_the_scenario(cls, data: Any) -> Any:
        """network.id, when not given, is the scenario's name as an id (it was UTCC_CAMPUS_001 for every site)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("network", {}), Mapping):
            return data
        network = dict(data.get("network") or {})
        if "id" in network:
            return data
        name = data.get("name", "scenario")
        network["id"] = network_id_of(name if isinstance(name, str) else "scenario")
        return {**data, "network": network}

    def profile(self, building_type: str) -> LoadProfile:
        """The load profile of a building type: the scenario's own, else the built-in one."""
        return self.load_profiles.get(building_type) or BUILTIN_PROFILES[building_type]

    def building_types(self) -> set[str]:
        return set(BUILTIN_PROFILES) | set(self.load_profiles)

    def at(self, ref: timedelta | datetime) -> datetime:
        """Absolute time of an event time reference."""
        return resolve_time(ref, self.time.start)

    def scheduled(self) -> list[DemandResponseEvent | DerControlEvent | FlowReservation]:
        """The events as they happen: a repeated event as its occurrences (see Repeat), the others as given."""
        out: list[DemandResponseEvent | DerControlEvent | FlowReservation] = []
        for e in self.events:
            if isinstance(e, DemandResponseEvent | DerControlEvent) and e.repeat is not None:
                out.extend(occurrences(e, self.at(e.start), (self.time.start, self.time.end), self.site.timezone))
            else:
                out.append(e)
        return out

    def occurrences_of(self, event_id: str) -> list[DemandResponseEvent | DerControlEvent | FlowReservation]:
        """The events an id names: the event itself, or every occurrence of a repeated one."""
        for e in self.events:
            if e.id == event_id:
                if isinstance(e, DemandResponseEvent | DerControlEvent) and e.repeat is not None:
                    return list(occurrences(e, self.at(e.start), (self.time.start, self.time.end), self.site.timezone))
                return [e]
        return []

    def demand_response_events(self) -> list[DemandResponseEvent]:
        return [e for e in self.scheduled() if isinstance(e, DemandResponseEvent)]

    def der_control_events(self) -> list[DerControlEvent]:
        return [e for e in self.scheduled() if isinstance(e, DerControlEvent)]

    def flow_reservations(self) -> list[FlowReservation]:
        return [e for e in self.events if isinstance(e, FlowReservation)]


E = TypeVar("E", bound=DemandResponseEvent | DerControlEvent)
WEEKDAYS = {"day": range(7), "weekday": range(5), "weekend": range(5, 7)}


def occurrences(event: E, first: datetime, window: tuple[datetime, datetime], zone_name: str) -> Iterator[E]:
    """A repeated event's occurrences that fall in the ``window`` (those over before it starts are left out, and
    none starts after it): copies with their own id and start (absolute, with the offset in force), no repeat."""
    return (
        e
        for e in _occurrences(event, first, window[1], zone_name)
        if resolve_time(e.start, first) + e.duration > window[0]
    )


def _occurrences(event: E, first: datetime, end: datetime, zone_name: str) -> Iterator[E]:
    repeat = event.repeat
    assert repeat is not None
    zone = ZoneInfo(zone_name)
    local = first.astimezone(zone)
    count = 0

    def make(start: datetime, suffix: str) -> E:
        return event.model_copy(update={"id": f"{event.id}_{suffix}", "start": start, "repeat": None})  # type: ignore[return-value]

    if isinstance(repeat.every, timedelta):
        start = first
        while start < end and (repeat.count is None or count < repeat.count):
            if repeat.until is not None and start.astimezone(zone).date() > repeat.until:
                return
            at = start.astimezone(zone)
            yield make(at.astimezone(timezone(at.utcoffset() or timedelta(0))), f"{at:%Y%m%dT%H%M}")
            count += 1
            start += repeat.every
        return
    days = WEEKDAYS.get(repeat.every, range(local.weekday(), local.weekday() + 1))
    day = local.date()
    while repeat.count is None or count < repeat.count:
        if repeat.until is not None and day > repeat.until:
            return
        # the same wall-clock time on each date (a time the clocks skip that night moves on by the skipped hour)
        at = datetime.combine(day, local.time(), zone).astimezone(timezone.utc).astimezone(zone)
        if at >= end:
            return
        if at.weekday() in days:
            yield make(at.astimezone(timezone(at.utcoffset() or timedelta(0))), f"{day:%Y%m%d}")
            count += 1
        day += timedelta(days=1)


@dataclass(frozen=True)
class MeterSpec:
    """One meter with everything inherited from its building resolved."""

    id: str
    building: str
    building_type: str
    name: str
    peak_kw: float
    time_shift_min: float
    floor_area_m2: float | None
    pv: Pv | None
    battery: Battery | None
    building_index: int
    meter_index: int
    pin: int | None = None  # the registration PIN on its label; None: the fleet's, else amiscen's derived one
    nmi: str | None = None  # CSIP-AUS connection point id; None: derived from the id

    @property
    def is_prosumer(self) -> bool:
        return self.pv is not None or self.battery is not None


def iter_meters(scenario: Scenario) -> Iterator[MeterSpec]:
    """Every meter of the scenario, in declaration order, generated ones expanded; a battery without a peak
    window of its own takes the site's tariff's."""
    tariff = scenario.site.tariff.peak_hours
    for spec in _iter_meters(scenario):
        b = spec.battery
        if b is not None and "peak_hours" not in b.model_fields_set and b.peak_hours != tariff:
            yield replace(spec, battery=b.model_copy(update={"peak_hours": tariff}))
        else:
            yield spec


def _iter_meters(scenario: Scenario) -> Iterator[MeterSpec]:
    for b_index, building in enumerate(scenario.buildings):
        peak = building.peak_kw
        if peak is None and building.type in scenario.building_types():
            peak = scenario.profile(building.type).peak_kw
        if building.meters is not None:
            for m_index, meter in enumerate(building.meters):
                given = meter.model_fields_set
                yield MeterSpec(
                    id=meter.id,
                    building=building.name,
                    building_type=building.type,
                    name=meter.name or meter.id,
                    peak_kw=meter.peak_kw or peak or 0.0,
                    time_shift_min=(
                        meter.time_shift_min if meter.time_shift_min is not None else building.time_shift_min
                    ),
                    floor_area_m2=meter.floor_area_m2 or building.floor_area_m2,
                    pv=meter.pv if "pv" in given else building.pv,
                    battery=meter.battery if "battery" in given else building.battery,
                    building_index=b_index,
                    meter_index=m_index,
                    pin=meter.pin,
                    nmi=meter.nmi,
                )
        else:
            count = building.count or 0
            sizes = _size_factors(scenario.time.seed, building.name, count, building.size_spread)
            with_pv = _chosen(scenario.time.seed, building.name, "pv", count, building.pv)
            with_battery = _chosen(scenario.time.seed, building.name, "battery", count, building.battery)
            for m_index in range(count):
                meter_id = building.id_pattern.format(
                    n=building.first_number + m_index, building=building.name, network=scenario.network.id
                )
                factor = sizes[m_index]
                yield MeterSpec(
                    id=meter_id,
                    building=building.name,
                    building_type=building.type,
                    name=meter_id,
                    peak_kw=(peak or 0.0) * factor,
                    time_shift_min=building.time_shift_min,
                    floor_area_m2=None if building.floor_area_m2 is None else building.floor_area_m2 * factor,
                    pv=_scaled_pv(building.pv, factor) if m_index in with_pv else None,
                    battery=_scaled_battery(building.battery, factor) if m_index in with_battery else None,
                    building_index=b_index,
                    meter_index=m_index,
                )


def _size_factors(seed: int, building: str, count: int, spread: float) -> list[float]:
    """Each generated meter's size factor: lognormal with mean 1 and coefficient of variation ``spread``, kept
    within 0.2-5, drawn from the seed and the building's name (the same meters get the same sizes however the
    rest of the scenario changes)."""
    if spread == 0:
        return [1.0] * count
    sigma = math.sqrt(math.log(1 + spread * spread))
    rng = random.Random(f"{seed}/{building}/size")
    return [min(5.0, max(0.2, rng.lognormvariate(-sigma * sigma / 2, sigma))) for _ in range(count)]


def _chosen(seed: int, building: str, what: str, count: int, equipment: Pv | Battery | None) -> set[int]:
    """Which generated meters have the building's PV (or battery): all, or round(share x count) of them picked
    by the seed."""
    if equipment is None:
        return set()
    if equipment.share >= 1:
        return set(range(count))
    order = list(range(count))
    random.Random(f"{seed}/{building}/{what}").shuffle(order)
    return set(order[: round(equipment.share * count)])


def _scaled_pv(pv: Pv | None, factor: float) -> Pv | None:
    if pv is None or factor == 1:
        return pv
    arrays = None if pv.arrays is None else [a.model_copy(update={"kwp": a.kwp * factor}) for a in pv.arrays]
    inverter = None if pv.inverter_kw is None else pv.inverter_kw * factor
    return pv.model_copy(update={"kwp": pv.kwp * factor, "arrays": arrays, "inverter_kw": inverter})


def _scaled_battery(battery: Battery | None, factor: float) -> Battery | None:
    if battery is None or factor == 1:
        return battery
    threshold = None if battery.peak_threshold_kw is None else battery.peak_threshold_kw * factor
    return battery.model_copy(
        update={"kwh": battery.kwh * factor, "kw": battery.kw * factor, "peak_threshold_kw": threshold}
    )


def meters(scenario: Scenario) -> list[MeterSpec]:
    return list(iter_meters(scenario))

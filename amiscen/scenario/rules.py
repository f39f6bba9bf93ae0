"""Rules that span fields: references that must exist, ids that must be unique, times inside the window."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from amiscen.diagnostics import Severity, did_you_mean
from amiscen.scenario.durations import format_duration
from amiscen.scenario.events import DemandResponseEvent, DerControlEvent, FlowReservation, Targets
from amiscen.scenario.fleet import Battery, BatteryMode
from amiscen.scenario.locate import Loc
from amiscen.scenario.model import MeterSpec, Scenario, meters, occurrences
from amiscen.scenario.types import IDENTIFIER_PATTERN

MAX_C_RATE = 2.0  # stationary Li-ion rarely exceeds 1C; above 2C the figures are almost surely a typo


@dataclass(frozen=True)
class Finding:
    loc: Loc
    message: str
    severity: Severity = "error"
    at_key: bool = False


def check(scenario: Scenario) -> list[Finding]:
    """Every cross-field problem of a structurally valid scenario."""
    fleet = meters(scenario)
    return [
        *_unique_ids(scenario, fleet),
        *_building_types(scenario),
        *_batteries(scenario),
        *_shares(scenario),
        *_events(scenario, fleet),
        *_faults(scenario, fleet),
        *_rates(scenario),
        *_expectations(scenario),
        *_bangkok_defaults(scenario),
        *_offsets(scenario),
        *_weather_file(scenario),
    ]


def _unique_ids(scenario: Scenario, fleet: list[MeterSpec]) -> Iterator[Finding]:
    seen_buildings: dict[str, int] = {}
    for i, building in enumerate(scenario.buildings):
        if building.name in seen_buildings:
            yield Finding(("buildings", i, "name"), f"duplicate building name '{building.name}'")
        seen_buildings.setdefault(building.name, i)
    first: dict[str, MeterSpec] = {}
    bad_patterns: set[int] = set()
    for meter in fleet:
        if not re.fullmatch(IDENTIFIER_PATTERN, meter.id) and meter.building_index not in bad_patterns:
            bad_patterns.add(meter.building_index)  # one finding per pattern, not one per meter
            yield Finding(
                ("buildings", meter.building_index, "id_pattern"),
                f"makes the meter id '{meter.id[:80]}', not an id (letters, digits, '_', '.', '-', at most 64)",
            )
        if meter.id in first:
            other = first[meter.id]
            b = scenario.buildings[meter.building_index]
            loc: Loc = (
                ("buildings", meter.building_index, "meters", meter.meter_index, "id")
                if b.meters is not None
                else ("buildings", meter.building_index, "id_pattern")
            )
            yield Finding(loc, f"duplicate meter id '{meter.id}' (also in building '{other.building}')")
        else:
            first[meter.id] = meter
    seen_events: set[str] = set()
    for i, event in enumerate(scenario.events):
        if event.id in seen_events:
            yield Finding(("events", i, "id"), f"duplicate event id '{event.id}'")
        seen_events.add(event.id)


def _building_types(scenario: Scenario) -> Iterator[Finding]:
    known = sorted(scenario.building_types())
    for i, building in enumerate(scenario.buildings):
        if building.type not in known:
            yield Finding(
                ("buildings", i, "type"),
                f"unknown building type '{building.type}'{did_you_mean(building.type, known)}; "
                "define it under load_profiles or use one of " + ", ".join(known),
            )
    if scenario.demand_response_events():
        for name, profile in scenario.load_profiles.items():
            if "dr_shed_share" not in profile.model_fields_set:
                yield Finding(
                    ("load_profiles", name),
                    f"building type '{name}' does not say what share of its demand it can shed (dr_shed_share): "
                    f"{profile.dr_shed_share:g} is assumed for the DR events",
                    "warning",
                    at_key=True,
                )


def _shares(scenario: Scenario) -> Iterator[Finding]:
    """pv.share, battery.share and size_spread shape a building's generated meters; on a listed meter, or where
    the share rounds to no meter, they do nothing."""
    for i, building in enumerate(scenario.buildings):
        for what in ("pv", "battery"):
            equipment = getattr(building, what)
            if equipment is None or equipment.share >= 1:
                continue
            if building.meters is not None:
                yield Finding(
                    ("buildings", i, what, "share"),
                    "applies to generated meters (count); a listed meter that inherits it always has it",
                    "warning",
                )
            elif round(equipment.share * (building.count or 0)) == 0:
                yield Finding(
                    ("buildings", i, what, "share"),
                    f"{equipment.share:g} of {building.count} meters is none of them",
                    "warning",
                )
        if building.size_spread and building.meters is not None:
            yield Finding(
                ("buildings", i, "size_spread"),
                "applies to generated meters (count); give each listed meter its own peak_kw, pv and battery",
                "warning",
            )
        for j, meter in enumerate(building.meters or []):
            for what in ("pv", "battery"):
                equipment = getattr(meter, what)
                if equipment is not None and equipment.share < 1:
                    yield Finding(
                        ("buildings", i, "meters", j, what, "share"),
                        "a meter's own PV or battery is its own: share applies to a building's generated meters",
                        "warning",
                    )


def _batteries(scenario: Scenario) -> Iterator[Finding]:
    for i, building in enumerate(scenario.buildings):
        places: list[tuple[Loc, Battery | None]] = [(("buildings", i, "battery"), building.battery)]
        for j, meter in enumerate(building.meters or []):
            places.append((("buildings", i, "meters", j, "battery"), meter.battery))
        for loc, battery in places:
            if battery is None:
                continue
            rate = battery.kw / battery.kwh
            if rate > MAX_C_RATE:
                yield Finding(
                    (*loc, "kw"),
                    f"{battery.kw:g} kW from {battery.kwh:g} kWh is {rate:.1f}C; "
                    f"stationary batteries stay at or below {MAX_C_RATE:g}C",
                )
            elif rate > 1.0:
                yield Finding((*loc, "kw"), f"{rate:.1f}C is fast for a stationary battery", "warning")
            if battery.peak_threshold_kw is not None and battery.mode != BatteryMode.peak_shaving:
                yield Finding(
                    (*loc, "peak_threshold_kw"),
                    f"is used only by mode peak_shaving; this battery's mode is {battery.mode.value}",
                    "warning",
                )


def _targeted(scenario: Scenario, targets: Targets, fleet: list[MeterSpec]) -> list[MeterSpec]:
    if targets.everyone:
        return fleet
    return [
        m
        for m in fleet
        if m.building_type in targets.building_types or m.building in targets.buildings or m.id in targets.meters
    ]


def _check_targets(scenario: Scenario, loc: Loc, targets: Targets, fleet: list[MeterSpec]) -> Iterator[Finding]:
    ids = [m.id for m in fleet]
    id_set = set(ids)
    names = [b.name for b in scenario.buildings]
    types = sorted(scenario.building_types())
    for j, meter_id in enumerate(targets.meters):
        if meter_id not in id_set:
            yield Finding((*loc, "meters", j), f"no meter '{meter_id}'{did_you_mean(meter_id, ids)}")
    for j, name in enumerate(targets.buildings):
        if name not in names:
            yield Finding((*loc, "buildings", j), f"no building '{name}'{did_you_mean(name, names)}")
    for j, kind in enumerate(targets.building_types):
        if kind not in types:
            yield Finding((*loc, "building_types", j), f"no building type '{kind}'{did_you_mean(kind, types)}")


def _inside(scenario: Scenario, loc: Loc, start: datetime, end: datetime, what: str) -> Iterator[Finding]:
    window = scenario.time
    if start < window.start or start >= window.end:
        yield Finding(
            loc,
            f"{what} starts at {start.isoformat()}, outside the run "
            f"({window.start.isoformat()} to {window.end.isoformat()})",
        )
    elif end > window.end:
        yield Finding(
            loc, f"{what} ends at {end.isoformat()}, after the run ends ({window.end.isoformat()})", "warning"
        )


def _events(scenario: Scenario, fleet: list[MeterSpec]) -> Iterator[Finding]:
    ids = [m.id for m in fleet]
    by_id = {m.id: m for m in fleet}
    dr_spans: dict[str, list[tuple[datetime, datetime, int, DemandResponseEvent]]] = {}
    for i, declared in enumerate(scenario.events):
        loc: Loc = ("events", i)
        happening: list[DemandResponseEvent | DerControlEvent | FlowReservation] = [declared]
        if not isinstance(declared, FlowReservation) and declared.repeat is not None:
            happening = list(
                occurrences(
                    declared,
                    scenario.at(declared.start),
                    (scenario.time.start, scenario.time.end),
                    scenario.site.timezone,
                )
            )
            yield from _repeat(scenario, loc, declared, len(happening))
            if not happening:
                continue
        event = happening[0]  # a repeated event is checked on its first occurrence, its overlaps on all of them
        start = scenario.at(event.start)
        end = start + event.duration
        yield from _inside(scenario, (*loc, "start"), start, end, f"event '{event.id}'")
        if event.duration <= timedelta(0):
            yield Finding((*loc, "duration"), "must be longer than 0s")
        if isinstance(event, FlowReservation):
            if event.meter not in by_id:
                yield Finding((*loc, "meter"), f"no meter '{event.meter}'{did_you_mean(event.meter, ids)}")
            else:
                yield from _reservation(loc, event, by_id[event.meter])
            if event.request_at is not None and scenario.at(event.request_at) > start:
                yield Finding((*loc, "request_at"), "the request must be posted before the interval starts")
            continue
        if event.cancel_at is not None:
            cancel = scenario.at(event.cancel_at)
            if not start - timedelta(days=1) <= cancel < end:
                yield Finding((*loc, "cancel_at"), "must fall between a day before the event's start and its end")
            elif cancel <= start:
                yield Finding(
                    (*loc, "cancel_at"),
                    f"event '{event.id}' is cancelled before it starts, so it never runs (meters only hear of the "
                    "cancellation); to cut it short, cancel after its start",
                    "warning",
                )
        yield from _check_targets(scenario, (*loc, "targets"), event.targets, fleet)
        reached = _targeted(scenario, event.targets, fleet)
        if isinstance(event, DerControlEvent):
            reached = [m for m in reached if m.is_prosumer]
            if event.control.type == "envelope" and scenario.gateway.profile != "csip-aus":
                yield Finding(
                    (*loc, "control"),
                    f"an envelope is CSIP-AUS: with gateway.profile {scenario.gateway.profile} the meters answer it "
                    "252 (not applicable); set gateway.profile: csip-aus",
                    "warning",
                )
            if not reached:
                yield Finding((*loc, "targets"), f"event '{event.id}' reaches no meter with PV or a battery", "warning")
        elif not reached:
            yield Finding((*loc, "targets"), f"event '{event.id}' reaches no meter", "warning")
        if isinstance(event, DemandResponseEvent):
            late = max(event.randomize_start, timedelta(0)) + event.randomize_duration
            for occurrence in happening:
                assert isinstance(occurrence, DemandResponseEvent)
                begins = scenario.at(occurrence.start)
                for meter in reached:
                    dr_spans.setdefault(meter.id, []).append((begins, begins + event.duration + late, i, occurrence))
    yield from _overlaps(dr_spans)


SUFFIX = len("_20260706T1400")


def _repeat(
    scenario: Scenario, loc: Loc, event: DemandResponseEvent | DerControlEvent, count: int
) -> Iterator[Finding]:
    """A repeated event: its occurrences' ids must be ids, a cancellation names one event, and it should recur
    within the window."""
    repeat = event.repeat
    assert repeat is not None
    if len(event.id) + SUFFIX > 64:
        yield Finding(
            (*loc, "id"),
            f"a repeated event's id may have at most {64 - SUFFIX} characters: each occurrence's id adds its date "
            f"and time ({event.id}_20260706T1400)",
        )
    if event.cancel_at is not None:
        yield Finding(
            (*loc, "cancel_at"),
            "a repeated event cannot be cancelled as a whole: cancel_at names one event (give it its own entry)",
        )
    first = scenario.at(event.start).astimezone(ZoneInfo(scenario.site.timezone)).date()
    if repeat.until is not None and repeat.until < first:
        yield Finding((*loc, "repeat", "until"), f"{repeat.until} is before the first occurrence ({first})")
    elif count == 0:
        yield Finding(
            (*loc, "repeat"),
            f"event '{event.id}' recurs {_every(repeat.every)} from {first}, but no occurrence falls in the run "
            f"({scenario.time.start.isoformat()} to {scenario.time.end.isoformat()})",
            "warning",
        )


def _every(every: object) -> str:
    return f"every {every}" if isinstance(every, str) else f"every {format_duration(every)}"  # type: ignore[arg-type]


def _reservation(loc: Loc, event: FlowReservation, meter: MeterSpec) -> Iterator[Finding]:
    """A reservation that cannot be met: export with nothing to export, more energy than its power gives over the
    interval, or more power than the meter has."""
    hours = event.duration.total_seconds() / 3600
    if hours > 0 and event.energy_kwh > event.power_kw * hours * (1 + 1e-9):
        yield Finding(
            (*loc, "energy_kwh"),
            f"{event.energy_kwh:g} kWh in {hours:g} h needs {event.energy_kwh / hours:,.1f} kW on average; "
            f"power_kw is {event.power_kw:g}",
            "warning",
        )
    battery_kw = meter.battery.kw if meter.battery else 0.0
    if event.direction == "export":
        if meter.pv is None and meter.battery is None:
            yield Finding(
                (*loc, "direction"), f"meter '{meter.id}' has no PV and no battery: it has nothing to export", "warning"
            )
            return
        most_kw, what = (meter.pv.ac_kw if meter.pv else 0.0) + battery_kw, "its PV and battery inverters"
    else:
        most_kw, what = meter.peak_kw + battery_kw, "its peak demand and battery charging"
    if event.power_kw > most_kw * (1 + 1e-9):
        yield Finding(
            (*loc, "power_kw"),
            f"{event.power_kw:g} kW is more than meter '{meter.id}' can {event.direction}: {most_kw:,.1f} kW ({what})",
            "warning",
        )


def _overlaps(
    spans: dict[str, list[tuple[datetime, datetime, int, DemandResponseEvent]]],
) -> Iterator[Finding]:
    reported: set[tuple[int, int]] = set()
    for meter_id, items in spans.items():
        items.sort(key=lambda t: t[0])
        for (_s1, e1, i1, ev1), (s2, _e2, i2, ev2) in pairwise(items):
            if s2 < e1 and not (ev1.allow_overlap or ev2.allow_overlap) and (i1, i2) not in reported:
                reported.add((i1, i2))
                yield Finding(
                    ("events", i2, "start"),
                    f"DR event '{ev2.id}' overlaps '{ev1.id}' on meter {meter_id} (and maybe others); "
                    "set allow_overlap: true if that is intended",
                )


def _faults(scenario: Scenario, fleet: list[MeterSpec]) -> Iterator[Finding]:
    ids = [m.id for m in fleet]
    known = set(ids)
    for i, fault in enumerate(scenario.faults):
        loc: Loc = ("faults", i)
        start = scenario.at(fault.start)
        duration = getattr(fault, "duration", timedelta(0))
        yield from _inside(scenario, (*loc, "start"), start, start + duration, f"fault {fault.type}")
        meter = getattr(fault, "meter", None)
        if meter is not None and meter not in known:
            yield Finding((*loc, "meter"), f"no meter '{meter}'{did_you_mean(meter, ids)}")
        targets = getattr(fault, "targets", None)
        if targets is not None:
            yield from _check_targets(scenario, (*loc, "targets"), targets, fleet)


def _times(node: object, loc: Loc) -> Iterator[tuple[Loc, datetime]]:
    """Every absolute time in a scenario, with where it is."""
    if isinstance(node, datetime):
        yield loc, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _times(getattr(node, name), (*loc, name))
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from _times(item, (*loc, i))


def _offsets(scenario: Scenario) -> Iterator[Finding]:
    """A time whose UTC offset is not the site's on that date (+01:00 for Berlin in summer) is almost surely a
    slip: it names another instant than the local time it shows. Times in UTC (Z) are taken as they are."""
    zone = ZoneInfo(scenario.site.timezone)
    for loc, when in _times(scenario, ()):
        given, local = when.utcoffset(), when.astimezone(zone).utcoffset()
        if given != local and given != timedelta(0):  # UTC is never a slip: it is the one time everybody shares
            yield Finding(
                loc,
                f"{when.isoformat()} has offset {_offset(given)}, but {scenario.site.timezone} is at "
                f"{_offset(local)} on {when.astimezone(zone).date()}: write {when.astimezone(zone).isoformat()} "
                "for the same instant, or fix the local time",
            )


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


POST_LIMIT_BYTES = 1024 * 1024  # the body limit of amiscen's head-end, and a common one
READINGS_PER_INTERVAL = 9  # a prosumer's site quantities
BYTES_PER_READING = 250  # a Reading element with its time period, as amiscen renders it (measured: 249)


def _rates(scenario: Scenario) -> Iterator[Finding]:
    interval = scenario.time.reading_interval
    post = scenario.function_sets.mirror_usage_point.post_rate
    loc: Loc = ("function_sets", "mirror_usage_point", "post_rate")
    if post < interval:
        yield Finding(
            loc,
            f"post_rate ({post.total_seconds():g}s) is shorter than the reading interval "
            f"({interval.total_seconds():g}s)",
        )
    elif post.total_seconds() % interval.total_seconds():
        yield Finding(
            loc,
            f"post_rate ({post.total_seconds():g}s) is not a whole number of reading intervals "
            f"({interval.total_seconds():g}s)",
            "warning",
        )
    else:
        per_post = int(post.total_seconds() // interval.total_seconds())
        size = per_post * READINGS_PER_INTERVAL * BYTES_PER_READING
        if size > POST_LIMIT_BYTES:
            yield Finding(
                loc,
                f"a post carries {per_post:,} intervals (about {size / 2**20:,.1f} MiB for a prosumer), more than "
                f"the 1 MiB many head-ends take (amiscen's included): meters split what is refused with 413, at the "
                f"cost of a refused request or more each; a shorter post_rate avoids it",
                "warning",
            )
    if scenario.time.duration < interval:
        yield Finding(("time", "duration"), "is shorter than one reading interval")


BANGKOK = (13.7797, 100.5606)  # where the built-in weather and calendar are from


def _bangkok_defaults(scenario: Scenario) -> Iterator[Finding]:
    """A site far from Bangkok that leaves out weather or calendar silently gets Bangkok's climate and Thai
    holidays and terms: say so (issue #18)."""
    site = scenario.site
    if abs(site.latitude - BANGKOK[0]) < 2 and abs(site.longitude - BANGKOK[1]) < 2:
        return
    where = f"the site ({site.latitude:g}, {site.longitude:g}) is far from Bangkok"
    if "weather" not in site.model_fields_set:
        yield Finding(
            ("site",),
            f"{where}, but no `weather:` is given: temperatures and clouds are Bangkok's; give the site's "
            "monthly_mean_c and cloudiness",
            "warning",
        )
    calendar = scenario.calendar
    holidays = calendar.holidays if calendar.country is None else calendar.country
    if holidays is None or calendar.terms is None:
        missing = " and ".join(x for x, v in (("holidays", holidays), ("terms", calendar.terms)) if v is None)
        yield Finding(
            ("calendar",) if "calendar" in scenario.model_fields_set else ("site",),
            f"{where}, but no calendar {missing} are given: Thai public holidays and a Thai semester calendar are "
            "used; give `calendar: {country: DE, subdivision: BY, terms: [...]}` (or `holidays: [...]`)",
            "warning",
        )


CLIMATE = ("monthly_mean_c", "daily_swing_c", "day_to_day_c", "spell_days", "cloudiness", "cloud_persistence")


def _weather_file(scenario: Scenario) -> Iterator[Finding]:
    """A weather file must cover the window, should be for the site, and leaves the climate parameters unused."""
    weather = scenario.site.weather
    hourly = weather.hourly()
    if hourly is None:
        return
    loc = ("site", "weather", "file")
    start, end = scenario.time.start.timestamp(), scenario.time.end.timestamp()
    missing = hourly.missing_days(start, end)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        yield Finding(
            loc,
            f"has no hours for {shown} (it covers {hourly.span()}, in its standard time UTC{hourly.utc_offset_h:+g}); "
            "the window needs every day it touches",
        )
    site = scenario.site
    km = _distance_km(site.latitude, site.longitude, hourly.latitude, hourly.longitude)
    if km > 100:
        yield Finding(
            loc,
            f"is for {hourly.place} ({hourly.latitude:g}, {hourly.longitude:g}), {km:,.0f} km from the site "
            f"({site.latitude:g}, {site.longitude:g}): the sun is computed for the site, the clouds and air for "
            "the file's place",
            "warning",
        )
    for name in CLIMATE:
        if name in weather.model_fields_set:
            yield Finding(
                ("site", "weather", name),
                "is unused: the weather comes from weather.file (leave it out, or the file)",
                "warning",
                at_key=True,
            )


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def _expectations(scenario: Scenario) -> Iterator[Finding]:
    dr_ids = [e.id for e in scenario.events if isinstance(e, DemandResponseEvent)]  # a repeated one's too
    for event_id in scenario.expect.min_dr_reduction_kw:
        if event_id not in dr_ids:
            yield Finding(
                ("expect", "min_dr_reduction_kw", event_id),
                f"no DR event '{event_id}'{did_you_mean(event_id, dr_ids)}",
                at_key=True,
            )

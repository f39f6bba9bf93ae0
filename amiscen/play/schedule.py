"""From the scenario's events to the utility schedule the head-end publishes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from amiscen.compile.plan import SiteModel
from amiscen.gateway.app import HeadendConfig
from amiscen.gateway.faults import FaultWindow
from amiscen.gateway.utility import UtilityEvent
from amiscen.scenario.events import DemandResponseEvent, DerControlEvent, GatewayOutage, HttpErrors, Latency, Targets
from amiscen.scenario.model import MeterSpec, Scenario, meters
from amiscen.sep.ids import registration_pin


def targeted(targets: Targets, fleet: list[MeterSpec]) -> list[MeterSpec]:
    if targets.everyone:
        return fleet
    return [
        m
        for m in fleet
        if m.building_type in targets.building_types or m.building in targets.buildings or m.id in targets.meters
    ]


def utility_events(scenario: Scenario, fleet: list[MeterSpec]) -> list[UtilityEvent]:
    """DR events with each targeted meter's share of a kW target (by peak demand), and DER controls for the
    targeted meters that have PV or a battery. Everything is published at the start of the run."""
    created = int(scenario.time.start.timestamp())
    events: list[UtilityEvent] = []
    for e in scenario.scheduled():  # a repeated event as its occurrences
        if not isinstance(e, DemandResponseEvent | DerControlEvent):
            continue
        start = int(scenario.at(e.start).timestamp())
        cancel = None if e.cancel_at is None else int(scenario.at(e.cancel_at).timestamp())
        common: dict[str, Any] = {
            "event_id": e.id,
            "program": e.program,
            "start": start,
            "duration": int(e.duration.total_seconds()),
            "randomize_start": int(e.randomize_start.total_seconds()),
            "randomize_duration": int(e.randomize_duration.total_seconds()),
            "created": min(created, start),
            "cancelled_at": cancel,
            "response_required": e.response_required,
        }
        if isinstance(e, DemandResponseEvent):
            group = targeted(e.targets, fleet)
            spec: dict[str, Any] = {"mandatory": e.mandatory}
            if e.target_reduction.kw is not None:
                total_peak = sum(m.peak_kw for m in group) or 1.0
                spec["shares"] = {m.id: e.target_reduction.kw * m.peak_kw / total_peak for m in group}
            else:
                spec["percent"] = e.target_reduction.percent
            events.append(UtilityEvent(kind="dr", primacy=0, spec=spec, targets=[m.id for m in group], **common))
        else:
            group = [m for m in targeted(e.targets, fleet) if m.is_prosumer]
            events.append(
                UtilityEvent(
                    kind="der",
                    primacy=e.primacy,
                    spec={"control": e.control.model_dump()},
                    targets=[m.id for m in group],
                    **common,
                )
            )
    return events


def fault_windows(scenario: Scenario) -> list[FaultWindow]:
    """The scenario's gateway faults, for the embedded head-end to play."""
    windows = []
    for f in scenario.faults:
        start = scenario.at(f.start).timestamp()
        if isinstance(f, GatewayOutage):
            windows.append(FaultWindow("outage", start, start + f.duration.total_seconds()))
        elif isinstance(f, HttpErrors):
            retry = None if f.retry_after is None else int(f.retry_after.total_seconds())
            windows.append(
                FaultWindow(
                    "http_errors",
                    start,
                    start + f.duration.total_seconds(),
                    status=f.status,
                    share=f.share,
                    retry_after=retry,
                )
            )
        elif isinstance(f, Latency):
            windows.append(
                FaultWindow(
                    "latency",
                    start,
                    start + f.duration.total_seconds(),
                    delay=f.delay.total_seconds(),
                    jitter=f.jitter.total_seconds(),
                )
            )
    return windows


def label_pin(s: Scenario, meter: MeterSpec) -> int:
    """The registration PIN on a meter's label: its own, else the fleet's, else amiscen's derived one (what the
    embedded head-end issues unless told otherwise)."""
    if meter.pin is not None:
        return meter.pin
    if s.gateway.registration.pin is not None:
        return s.gateway.registration.pin
    return registration_pin(meter.id)


def headend_config(scenario: Scenario, simulated: bool = True) -> HeadendConfig:
    """What the embedded head-end advertises for a scenario: its PEN, the site's time zone, and the rates of
    the scenario's function sets."""
    fs = scenario.function_sets
    return HeadendConfig(
        pen=scenario.network.pen,
        timezone=scenario.site.timezone,
        dr_poll_rate=int(fs.demand_response.polling_rate.total_seconds()),
        der_poll_rate=int(fs.der.polling_rate.total_seconds()),
        time_poll_rate=int(fs.time.polling_rate.total_seconds()),
        post_rate=int(fs.mirror_usage_point.post_rate.total_seconds()),
        simulated=simulated,
        profile=scenario.gateway.profile,
        pins={  # the PINs on the meters' labels, where the scenario gives them
            m.id: label_pin(scenario, m)
            for m in meters(scenario)
            if m.pin is not None or scenario.gateway.registration.pin is not None
        },
    )


def played_site(s: Scenario, cut: timedelta | None = None) -> tuple[SiteModel, float, float]:
    """The site compiled over what a run plays (the scenario's period, cut short by ``cut``), its start and end."""
    step = s.time.reading_interval.total_seconds()
    duration = min(s.time.duration, cut) if cut else s.time.duration
    start = s.time.start.timestamp()
    site = SiteModel(s, start=start, count=int(duration.total_seconds() // step))
    return site, start, start + site.grid.count * step

"""Short human summaries of a scenario."""

from __future__ import annotations

from amiscen.scenario.load import Loaded
from amiscen.scenario.model import Scenario, meters
from amiscen.scenario.overrides import ENVIRONMENT


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def one_line(scenario: Scenario) -> str:
    """``25 meters (15 with PV, 1,790 kWp; 12 batteries, 2,360 kWh), 3 events, 0 faults``."""
    fleet = meters(scenario)
    pv = [m.pv.kwp for m in fleet if m.pv]
    batteries = [m.battery.kwh for m in fleet if m.battery]
    dr = len(scenario.demand_response_events())
    der = len(scenario.der_control_events())
    frr = len(scenario.flow_reservations())
    return (
        f"{plural(len(fleet), 'meter')} in {plural(len(scenario.buildings), 'building')} "
        f"({len(pv)} with PV, {sum(pv):,.0f} kWp; {len(batteries)} with a battery, {sum(batteries):,.0f} kWh); "
        f"{plural(len(scenario.scheduled()), 'event')} ({dr} DR, {der} DER control, {frr} flow reservation); "
        f"{plural(len(scenario.faults), 'fault')}"
    )


def effective_settings(loaded: Loaded) -> list[tuple[str, str, str]]:
    """The overridable settings: (key, effective value, where it comes from)."""
    s = loaded.scenario
    values = {
        ("gateway", "url"): s.gateway.url or "(embedded head-end)",
        ("network", "id"): s.network.id,
        ("gateway", "tls", "version"): s.gateway.tls.version,
        (
            "function_sets",
            "demand_response",
            "polling_rate",
        ): f"{s.function_sets.demand_response.polling_rate.total_seconds():g}s",
        ("function_sets", "der", "polling_rate"): f"{s.function_sets.der.polling_rate.total_seconds():g}s",
    }
    rows = []
    for keys in (k for targets in ENVIRONMENT.values() for k in targets):
        rows.append((".".join(keys), str(values[keys]), loaded.origin_of(keys)))
    return rows

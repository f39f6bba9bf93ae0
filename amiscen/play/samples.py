"""A sample of every message a scenario's meters would send, built by the runner's own builders, for
`amiscen validate --xsd` (and the tests) to check against the IEEE schema."""

from __future__ import annotations

import hashlib

from amiscen.compile.plan import SiteModel
from amiscen.play.build import device_category
from amiscen.runner import messages
from amiscen.runner.baseline import Baseline
from amiscen.runner.physics import MeterPhysics
from amiscen.runner.quantities import quantities
from amiscen.scenario.model import MeterSpec, Scenario, meters
from amiscen.sep import constants as c
from amiscen.sep.ids import sfdi_from_lfdi
from amiscen.sep.model.common import Resource


def _kinds(fleet: list[MeterSpec]) -> list[MeterSpec]:
    """One meter of each kind: consumer, PV, battery, PV with battery."""
    seen: dict[tuple[bool, bool], MeterSpec] = {}
    for m in fleet:
        seen.setdefault((m.pv is not None, m.battery is not None), m)
    return list(seen.values())


def sample_messages(scenario: Scenario) -> list[tuple[str, Resource]]:
    s = scenario
    fleet = meters(s)
    interval = int(s.time.reading_interval.total_seconds())
    site = SiteModel(s, count=min(240, max(2, int(s.time.duration.total_seconds() // interval))))
    t = int(site.grid.start)
    samples: list[tuple[str, Resource]] = []
    for meter in _kinds(fleet):
        lfdi = hashlib.sha256(meter.id.encode()).hexdigest()[:40].upper()
        qs = quantities(interval, meter.pv is not None, meter.battery is not None)
        physics = MeterPhysics(Baseline.of(site.meter_plan(meter)), site)
        intervals = physics.intervals_until(site.grid.start + site.grid.count * interval, [])
        tag = f"{meter.id}"
        samples += [
            (f"EndDevice ({tag})", messages.end_device(lfdi, sfdi_from_lfdi(lfdi), device_category(meter))),
            (
                f"MirrorUsagePoint ({tag})",
                messages.mirror_usage_point(
                    s.network.pen,
                    meter.id,
                    lfdi,
                    qs,
                    int(s.function_sets.mirror_usage_point.post_rate.total_seconds()),
                    int(c.ROLE_REVENUE_PREMISES),
                ),
            ),
            (f"MirrorMeterReadingList ({tag})", messages.readings(s.network.pen, meter.id, lfdi, qs, intervals)),
            (f"Response ({tag})", messages.response(lfdi, "00" * 16, int(c.ResponseStatus.EVENT_COMPLETED), t)),
        ]
        if meter.is_prosumer:
            soc = physics.battery.state.soc if physics.battery is not None else None
            samples += [
                (f"DERCapability ({tag})", messages.der_capability(meter)),
                (f"DERSettings ({tag})", messages.der_settings(meter, t)),
                (f"DERStatus ({tag})", messages.der_status(meter, t, True, True, soc)),
                (f"DERAvailability ({tag})", messages.der_availability(meter, t, 1000.0)),
            ]
    for event in s.flow_reservations():
        start = int(s.at(event.start).timestamp())
        request = messages.flow_reservation_request(s.network.pen, event, start, t)
        samples.append((f"FlowReservationRequest ({event.id})", request))
    if any(f.type == "tamper" for f in s.faults):
        samples.append(("LogEvent (tamper)", messages.tamper_event(s.network.pen, t, 1)))
    return samples

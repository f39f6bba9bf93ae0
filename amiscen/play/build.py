"""Build the fleet of simulated meters for a scenario: identity, session, physics, participation, scripts."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from amiscen.compile.plan import SiteModel
from amiscen.gateway.app import Headend
from amiscen.pki.fleet import Identity as CertIdentity
from amiscen.pki.layout import Layout
from amiscen.play.local import LocalSession
from amiscen.play.schedule import label_pin, targeted
from amiscen.runner import messages
from amiscen.runner.baseline import Baseline, BaselineFile
from amiscen.runner.client import Identity, MeterClient
from amiscen.runner.events import RunEvent
from amiscen.runner.meter import Meter, MeterConfig, OneOff
from amiscen.runner.outbox import Outbox
from amiscen.runner.participation import Participation, Policy
from amiscen.runner.quantities import der_quantities, quantities
from amiscen.runner.transport import Credentials, Exchange, MeterSession, RetrySchedule, Session, TlsSettings
from amiscen.scenario.events import ClockDrift, FlowReservation, MeterOffline, Tamper
from amiscen.scenario.model import MeterSpec, Scenario
from amiscen.sep import constants as c
from amiscen.sep.model.common import Resource
from amiscen.sep.profile import profile


@dataclass(frozen=True)
class FleetSetup:
    base_url: str
    certs: Layout
    index: dict[str, CertIdentity]
    outbox: Outbox
    emit: Callable[[RunEvent], None]
    record: Callable[[str, float, Exchange], None]
    local: Headend | None = None  # --dry-run: requests go to this head-end in-process, no network
    baselines: BaselineFile | None = None  # where the meters' baselines are kept; None: in memory


def device_category(meter: MeterSpec) -> int:
    category = c.CAMPUS_LOAD_CATEGORY
    if meter.pv is not None and meter.battery is not None:
        category |= c.DeviceCategory.COMBINED_PV_AND_STORAGE
    elif meter.pv is not None:
        category |= c.DeviceCategory.PHOTOVOLTAIC_SYSTEM
    elif meter.battery is not None:
        category |= c.DeviceCategory.OTHER_STORAGE_SYSTEM
    return int(category)


def _flow_request(s: Scenario, e: FlowReservation) -> Callable[[MeterClient, float], tuple[str | None, Resource]]:
    def make(client: MeterClient, now: float) -> tuple[str | None, Resource]:
        created = int(now + client.time_offset)
        start = int(s.at(e.start).timestamp())
        return client.links.flow_requests, messages.flow_reservation_request(s.network.pen, e, start, created)

    return make


def _tamper(s: Scenario, n: int) -> Callable[[MeterClient, float], tuple[str | None, Resource]]:
    def make(client: MeterClient, now: float) -> tuple[str | None, Resource]:
        return client.links.log_events, messages.tamper_event(s.network.pen, int(now + client.time_offset), n)

    return make


def _baseline(site: SiteModel, spec: MeterSpec, kept: BaselineFile | None) -> Baseline:
    plan = site.meter_plan(spec)
    return Baseline.of(plan) if kept is None else kept.keep(plan)


def stable_seed(seed: int, meter_id: str) -> int:
    """The same in every process (Python's ``hash`` of a string is not): shards and workers must agree."""
    return zlib.crc32(f"{seed}\x1f{meter_id}".encode())


def build_meters(
    scenario: Scenario,
    site: SiteModel,
    fleet: list[MeterSpec],
    setup: FleetSetup,
    subscribe: frozenset[str] = frozenset(),
) -> list[Meter]:
    """The run's meters; ``subscribe``: the event kinds they subscribe to (a listener gives them their URIs)."""
    s = scenario
    fs = s.function_sets
    g = s.gateway
    tls = TlsSettings(version=g.tls.version, ciphers=tuple(g.tls.ciphers), verify_server=g.tls.verify_server)
    config = MeterConfig(
        post_rate=int(fs.mirror_usage_point.post_rate.total_seconds()),
        dr_poll=int(fs.demand_response.polling_rate.total_seconds()),
        der_poll=int(fs.der.polling_rate.total_seconds()),
        time_poll=int(fs.time.polling_rate.total_seconds()),
        pen=s.network.pen,
        demand_response=fs.demand_response.enabled,
        der=fs.der.enabled,
        time_sync=fs.time.enabled,
        flow_poll=int(fs.flow_reservation.polling_rate.total_seconds()),
        ramp_up=None if s.time.ramp_up is None else int(s.time.ramp_up.total_seconds()),
        profile=profile(g.profile),
        subscribe=subscribe,
    )
    policies = {e.id: Policy(e.opt_out_share) for e in s.demand_response_events()}
    interval = int(s.time.reading_interval.total_seconds())
    meters = []
    for spec in fleet:
        cert = setup.index[spec.id]
        session: Session
        if setup.local is not None:
            session = LocalSession(setup.local, spec.id, cert.lfdi, cert.sfdi)
        else:
            session = MeterSession(
                setup.base_url,
                Credentials(setup.certs.meter_cert(spec.id), setup.certs.meter_key(spec.id), setup.certs.ca_cert),
                tls,
                g.timeouts.connect.total_seconds(),
                g.timeouts.read.total_seconds(),
            )
        client = MeterClient(
            Identity(
                spec.id,
                cert.lfdi,
                cert.sfdi,
                s.network.pen,
                device_category(spec),
                label_pin(s, spec),
                g.registration.pin_policy,
            ),
            session,
            setup.record,
        )
        retry = RetrySchedule(
            g.retry.max_attempts,
            g.retry.initial_backoff.total_seconds(),
            g.retry.max_backoff.total_seconds(),
            g.retry.multiplier,
            g.retry.jitter.total_seconds(),
            seed=stable_seed(s.time.seed, spec.id),
        )
        one_offs = []
        for e in s.flow_reservations():
            if e.meter == spec.id:
                at = s.at(e.request_at if e.request_at is not None else e.start).timestamp()
                one_offs.append(
                    OneOff(at if e.request_at is not None else at - 3600, "flow_request", _flow_request(s, e), e.id)
                )
        offline = []
        drift = None
        for n, fault in enumerate(s.faults, start=1):
            if isinstance(fault, Tamper) and fault.meter == spec.id:
                one_offs.append(OneOff(s.at(fault.start).timestamp(), "log_event", _tamper(s, n), fault.id or "tamper"))
            if isinstance(fault, ClockDrift) and fault.meter == spec.id:
                drift = (s.at(fault.start).timestamp(), fault.step.total_seconds(), fault.ppm)
            if isinstance(fault, MeterOffline) and spec in targeted(fault.targets, fleet):
                begin = s.at(fault.start).timestamp()
                offline.append((begin, begin + fault.duration.total_seconds()))
        meters.append(
            Meter(
                plan=_baseline(site, spec, setup.baselines),
                site=site,
                client=client,
                outbox=setup.outbox,
                retry=retry,
                config=config,
                quantities=quantities(interval, spec.pv is not None, spec.battery is not None),
                der_quantities=der_quantities(interval) if config.profile.der_mirror and spec.is_prosumer else [],
                participation=Participation(
                    spec.id,
                    s.time.seed,
                    policies,
                    spec.battery.kw if spec.battery else 0.0,
                    pv=spec.pv is not None,
                    doe=config.profile.applies_doe,
                ),
                emit=setup.emit,
                one_offs=one_offs,
                offline=offline,
                drift=drift,
            )
        )
    return meters

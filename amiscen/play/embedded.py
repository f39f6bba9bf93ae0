"""The embedded head-end as `run` and `test` start it: the scenario's config and utility events, served on a free
loopback port over mutual TLS with the scenario's suite."""

from __future__ import annotations

from pathlib import Path

from amiscen.clock import SimClock
from amiscen.gateway.app import Headend
from amiscen.gateway.faults import FaultPlan
from amiscen.gateway.server import HeadendServer
from amiscen.gateway.store import Store
from amiscen.gateway.tls import server_context
from amiscen.gateway.utility import UtilityEvent, publish
from amiscen.pki.layout import Layout
from amiscen.play.schedule import headend_config
from amiscen.scenario.model import Scenario
from amiscen.sep.xsd import SchemaValidator


def new_headend(
    s: Scenario,
    db: Path,
    clock: SimClock,
    events: list[UtilityEvent],
    *,
    simulated: bool,
    validator: SchemaValidator | None = None,
    faults: FaultPlan | None = None,
) -> Headend:
    headend = Headend(Store(db), clock, headend_config(s, simulated=simulated), validator, faults)
    publish(headend.store, events)
    return headend


def serve(headend: Headend, s: Scenario, layout: Layout) -> HeadendServer:
    """Started; stop it with ``.stop()``."""
    context = server_context(layout, s.gateway.tls.version, list(s.gateway.tls.ciphers))
    return HeadendServer(headend, context, layout.crl, port=0).start()

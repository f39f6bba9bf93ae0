"""The certificates a scenario needs, and the embedded head-end as `run` and `test` start it: the scenario's
config and utility events, served on a free loopback port over mutual TLS with the scenario's suite."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

from amiscen.clock import SimClock
from amiscen.gateway.app import Headend, HeadendConfig, Quirks, open_headend
from amiscen.gateway.faults import FaultPlan
from amiscen.gateway.server import HeadendServer, serve_on_loopback
from amiscen.gateway.utility import UtilityEvent
from amiscen.pki import fleet as pki
from amiscen.pki.fleet import Identity
from amiscen.pki.layout import Layout
from amiscen.play.schedule import headend_config
from amiscen.scenario.model import Scenario
from amiscen.sep.xsd import SchemaValidator


def ensure_certificates(s: Scenario, layout: Layout, meter_ids: list[str]) -> dict[str, Identity]:
    """Make what is missing (CA, head-end certificate naming the gateway's host, one per meter); the index."""
    hosts = [h for h in [urlsplit(s.gateway.url).hostname if s.gateway.url else None] if h]
    pki.generate(layout, meter_ids, network_id=s.network.id, hosts=hosts, now=dt.datetime.now(dt.timezone.utc))
    return pki.read_index(layout)


def new_headend(
    s: Scenario,
    db: Path,
    clock: SimClock,
    events: list[UtilityEvent],
    *,
    simulated: bool,
    validator: SchemaValidator | None = None,
    faults: FaultPlan | None = None,
    quirks: Quirks | None = None,
) -> Headend:
    return open_headend(db, clock, headend_settings(s, simulated, quirks), events, validator, faults)


def headend_settings(s: Scenario, simulated: bool, quirks: Quirks | None = None) -> HeadendConfig:
    """The scenario's settings for the embedded head-end, with ``quirks`` (how it differs from amiscen's ways)."""
    config = headend_config(s, simulated=simulated)
    return config if quirks is None else dataclasses.replace(config, quirks=quirks)


def serve(headend: Headend, s: Scenario, layout: Layout) -> HeadendServer:
    """Started; stop it with ``.stop()``."""
    return serve_on_loopback(headend, layout, s.gateway.tls.version, list(s.gateway.tls.ciphers))

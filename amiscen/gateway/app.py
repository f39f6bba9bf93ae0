"""The head-end's core: one request in, one reply out. No sockets here (see server.py), so it is easy to test."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amiscen.clock import SimClock
from amiscen.gateway.faults import FaultPlan
from amiscen.gateway.http import HttpError, Reply, Request, Router
from amiscen.gateway.store import Store
from amiscen.gateway.utility import UtilityEvent, publish
from amiscen.sep.constants import LEGACY_NAMESPACE, MEDIA_TYPE, ErrorReason
from amiscen.sep.model.common import Resource
from amiscen.sep.parse import SepParseError, check_body, parse_document
from amiscen.sep.xsd import SchemaValidator

log = logging.getLogger("amiscen.headend")


@dataclass(frozen=True)
class Quirks:
    """Where real head-ends differ from amiscen's and from each other, the embedded one can behave as they do, so
    the meters' tolerance is tested against each difference (tests/conformance). Defaults: amiscen's own ways."""

    lowercase_headers: bool = False  # uvicorn-based servers (envoy) send `location`, `content-type`
    pin: int | None = None  # one static registration PIN for every device; None: each meter's amiscen PIN
    random_pin: bool = False  # a random PIN per device (as envoy issues), never the one on the meter's label
    first_id: int = 1  # the first EndDevice and MirrorUsagePoint id (a real server's first mirror was /mup/2)
    der_programs_in_dcap: bool = False  # True: DeviceCapability also links the programs at /derp (unscoped)
    duplicate_end_device: int = 204  # the status of a POST of an EndDevice that exists: 204 + Location (envoy: 409)
    mirror_upsert: int = 201  # the status of a POST of a MirrorUsagePoint that exists (envoy: 204 + Location)
    clock_offset: int = 0  # seconds the server's Time is ahead of the meters' clock
    csipaus_elements: bool = False  # CSIP-AUS elements in bodies (ConnectionPointLink, doeModes, DOE defaults)
    subscriptions: bool = True  # False: no Subscription/Notification function set (no SubscriptionListLink)
    # False: a body over the size limit is refused unread, the connection closed at once (nginx's
    # client_max_body_size: the client sees its connection lost mid-upload, not the 413)
    drain_oversized_bodies: bool = True


# servers the embedded head-end can behave as (`--emulate NAME`), from what was observed against each
EMULATIONS: dict[str, Quirks] = {
    "amiscen": Quirks(),
    "envoy": Quirks(  # bsgip/envoy v1.5 behind nginx
        lowercase_headers=True,
        random_pin=True,
        first_id=2,
        der_programs_in_dcap=False,
        duplicate_end_device=409,
        mirror_upsert=204,
        csipaus_elements=True,
    ),
}


@dataclass(frozen=True)
class HeadendConfig:
    """What the head-end advertises and enforces."""

    pen: int = 32473
    timezone: str = "UTC"  # the site's zone (IANA name): the Time resource's offsets and DST follow its rules
    dcap_poll_rate: int = 900
    dr_poll_rate: int = 60
    der_poll_rate: int = 60
    time_poll_rate: int = 900
    post_rate: int = 60
    default_list_limit: int = 1  # as some real servers do: clients must send l
    flow_capacity_w: int = 200_000  # campus P2P capacity per interval, shared first come first served
    simulated: bool = True  # Time.quality 7 (intentionally uncoordinated) when not on the wall clock
    pins: Mapping[str, int] = field(default_factory=dict)  # registration PINs by meter id (the scenario's labels)
    profile: str = "sep2018"  # sep2018 | csip | csip-aus: csip-aus adds ConnectionPoint and the csipaus elements
    quirks: Quirks = field(default_factory=Quirks)


class Headend:
    """Routes requests to function sets, enforces identity and strictness, records what it refused."""

    def __init__(
        self,
        store: Store,
        clock: SimClock,
        config: HeadendConfig,
        validator: SchemaValidator | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        from amiscen.gateway import routes

        self.store = store
        self.clock = clock
        self.config = config
        self.validator = validator
        self.faults = faults or FaultPlan([])
        self.router = Router()
        routes.register(self)
        store.set_meta("pen", str(config.pen))
        store.set_meta("timezone", config.timezone)  # for status: times in the site's local time, as the report
        self.schema_invalid = 0
        self.csipaus = config.profile == "csip-aus" or config.quirks.csipaus_elements
        self.poll_rates: dict[str, int] = json.loads(store.meta("poll_rates") or "{}")
        self.revoked = {r[0] for r in store.all("SELECT lfdi FROM client_access WHERE granted = 0")}
        # certificates of aggregators (CSIP): they register and act for the site devices they own
        self.aggregators = {r[0] for r in store.all("SELECT lfdi FROM aggregator")}
        self._legacy_seen: set[str] = set()
        self.changed: Callable[[], None] | None = None  # told of every accepted write (the notifier's wake-up)

    def now(self) -> int:
        return int(self.clock.now())

    def poll_rate(self, resource: str) -> int:
        """The pollRate a list or resource advertises: the operator's setting (`set_poll_rate`), else the
        configured default for its function set."""
        if resource in self.poll_rates:
            return self.poll_rates[resource]
        c = self.config
        defaults = {
            "Time": c.time_poll_rate,
            "DemandResponseProgramList": c.dr_poll_rate,
            "FlowReservationResponseList": c.dr_poll_rate,
            "DERProgramList": c.der_poll_rate,
            "DERList": c.der_poll_rate,
            "MirrorUsagePointList": c.post_rate,
            "UsagePointList": c.post_rate,
            "Registration": 86400,
        }
        return defaults.get(resource, c.dcap_poll_rate)

    # -- request processing --------------------------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        with self.clock.serving(req.meter_id):  # at the requesting meter's own time, where the clock has one
            return self._handle(req)

    def _handle(self, req: Request) -> Reply:
        if req.lfdi in self.revoked:
            return self._finish(req, Reply.error(403, f"access of {req.meter_id} was revoked by the operator"))
        fault = self.faults.error(self.clock.now())
        if fault is not None:
            reply = Reply.error(
                fault.status, f"injected fault: HTTP {fault.status}", ErrorReason.RESOURCE_LIMIT_REACHED
            )
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = str(fault.retry_after)
            return reply
        try:
            handler, params = self.router.resolve(req.method, req.path)
            body = self._body(req) if req.method in ("POST", "PUT") else None
            reply = handler(self, req, body, **params) if body is not None else handler(self, req, **params)
        except HttpError as exc:
            reply = exc.reply
        except SepParseError as exc:
            reply = Reply.error(400, f"invalid body: {exc}", ErrorReason.INVALID_REQUEST_FORMAT)
        if req.method in ("POST", "PUT", "DELETE") and reply.status < 300 and self.changed is not None:
            self.changed()  # a subscribed resource may have changed: the notifier looks now, not at its next tick
        return self._finish(req, reply)

    def view(self, req: Request, path: str, query: dict[str, str] | None = None) -> Reply:
        """GET ``path`` as the requester would, with no side effects (no rejection log, no last contact): what a
        subscription compares and a Notification carries."""
        get = dataclasses.replace(req, method="GET", path=path, query=query or {}, body=b"", content_type=None)
        try:
            handler, params = self.router.resolve("GET", path)
            return handler(self, get, **params)
        except HttpError as exc:
            return exc.reply

    def _finish(self, req: Request, reply: Reply) -> Reply:
        """Log a refusal (status >= 400), note the contact, shape the headers as the emulated server does."""
        if reply.status >= 400:
            self.store.execute(
                "INSERT INTO rejection(at, lfdi, method, path, status, reason) VALUES (?,?,?,?,?,?)",
                (
                    self.clock.now(),
                    req.lfdi,
                    req.method,
                    req.path,
                    reply.status,
                    reply.reason or f"status {reply.status}",
                ),
            )
            if reply.status == 403:
                log.warning("refused %s %s from %s: %s", req.method, req.path, req.meter_id, reply.reason)
        now = self.clock.now()  # written only when it moves: a statement that changes no row writes nothing
        self.store.execute(
            "UPDATE end_device SET last_contact = ? WHERE lfdi = ? AND last_contact IS NOT ?", (now, req.lfdi, now)
        )
        if self.config.quirks.lowercase_headers:
            reply.headers = {k.lower(): v for k, v in reply.headers.items()}
        return reply

    def _body(self, req: Request) -> Resource:
        media = (req.content_type or "").split(";")[0].strip().lower()
        if media != MEDIA_TYPE:
            raise HttpError(
                415, f"content type must be {MEDIA_TYPE} (got {media or 'none'})", ErrorReason.INVALID_REQUEST_FORMAT
            )
        if self.validator is not None:
            check_body(req.body)  # a DTD or an entity never reaches the schema validator (XXE): 400
            problems = self.validator.errors(req.body, received=True)
            if problems:
                self.schema_invalid += 1
                raise HttpError(400, f"schema-invalid body: {problems[0]}", ErrorReason.INVALID_REQUEST_FORMAT)
        if LEGACY_NAMESPACE.encode() in req.body[:300] and req.lfdi not in self._legacy_seen:
            self._legacy_seen.add(req.lfdi)  # told once per client
            log.info("%s sends the 2030.5-2013 namespace %s: accepted", req.meter_id, LEGACY_NAMESPACE)
        return parse_document(req.body, legacy=True)

    # -- identity ----------------------------------------------------------------------------------------
    def device_row(self, lfdi: str) -> Any:
        return self.store.one("SELECT * FROM end_device WHERE lfdi = ?", (lfdi,))

    def acts_for(self, req: Request) -> list[str]:
        """The LFDIs whose resources the requester may use: its own, and an aggregator's site devices."""
        if req.lfdi not in self.aggregators:
            return [req.lfdi]
        owned = self.store.all(
            "SELECT d.lfdi FROM end_device d JOIN edev_owner o ON o.edev_id = d.id WHERE o.owner = ? ORDER BY d.id",
            (req.lfdi,),
        )
        return [req.lfdi, *(r[0] for r in owned)]

    def acts_for_sql(self, req: Request, column: str = "lfdi") -> tuple[str, tuple[str, ...]]:
        """``column IN (?, ...)`` over :meth:`acts_for`, and its arguments: how every list scoped to the requester
        is filtered."""
        lfdis = self.acts_for(req)
        return f"{column} IN ({','.join('?' * len(lfdis))})", tuple(lfdis)

    def own_device(self, req: Request, edev_id: int) -> Any:
        """The EndDevice at /edev/{edev_id}, only if it is the requester's own or (for an aggregator) one it
        registered (403 otherwise)."""
        row = self.store.one("SELECT * FROM end_device WHERE id = ?", (edev_id,))
        if row is None:
            raise HttpError(404, f"no EndDevice {edev_id}")
        if row["lfdi"] != req.lfdi and row["lfdi"] not in self.acts_for(req):
            raise HttpError(403, f"{req.meter_id} may not access EndDevice {edev_id} of {row['meter_id']}")
        return row

    def requester_device(self, req: Request) -> Any:
        row = self.device_row(req.lfdi)
        if row is None:
            raise HttpError(403, f"{req.meter_id} has no EndDevice here yet: POST one to the EndDeviceList first")
        return row


def open_headend(
    db: Path | str,
    clock: SimClock,
    config: HeadendConfig,
    events: Sequence[UtilityEvent] = (),
    validator: SchemaValidator | None = None,
    faults: FaultPlan | None = None,
) -> Headend:
    """A head-end on the database at ``db`` with the utility's ``events`` scheduled (those it knows already are
    left as they are): the embedded head-end as `run` starts it, in its own process or (--dry-run) in the run's."""
    headend = Headend(Store(db), clock, config, validator, faults)
    publish(headend.store, list(events))
    return headend

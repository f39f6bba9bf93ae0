"""One simulated meter at run time: its tasks (connect, post readings, poll events, keep time), its outbox, its
physics. Each task returns the follow-up tasks it schedules."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from amiscen.compile.plan import SiteModel
from amiscen.runner import messages
from amiscen.runner.baseline import Baseline
from amiscen.runner.client import PAGE, MeterClient, RequestFailed
from amiscen.runner.events import (
    Connected,
    Delivered,
    Failed,
    Generated,
    Note,
    Notified,
    Responded,
    RunEvent,
    Subscribed,
)
from amiscen.runner.outbox import Item, Outbox
from amiscen.runner.participation import Due, Participation
from amiscen.runner.physics import MeterPhysics
from amiscen.runner.quantities import Quantity
from amiscen.runner.transport import RetrySchedule
from amiscen.sep.ids import connection_point_id
from amiscen.sep.model.common import Resource
from amiscen.sep.model.der import DERList
from amiscen.sep.model.device import ConnectionPoint
from amiscen.sep.model.events import (
    CURVE_MODES,
    DefaultDERControl,
    DemandResponseProgramList,
    DERControlBase,
    DERControlList,
    DERCurve,
    DERProgramList,
    EndDeviceControlList,
)
from amiscen.sep.model.misc import FlowReservationResponseList
from amiscen.sep.model.pubsub import Notification, Subscription, SubscriptionList
from amiscen.sep.profile import DER_MIRROR, PROFILES, Profile
from amiscen.sep.render import render_bytes

NEVER = 1e300
# each event kind's list resource and the element name of its items
EVENT_LISTS: dict[str, tuple[type[EndDeviceControlList] | type[DERControlList], str]] = {
    "dr": (EndDeviceControlList, "EndDeviceControl"),
    "der": (DERControlList, "DERControl"),
}
LARGE_POST_BYTES = 1024 * 1024  # a post larger than this that loses its connection is taken as too large
DER_TARGET = "der-mirror:"  # an outbox item for the DER mirror, wherever the server put it
Task = tuple[float, str]


@dataclass(frozen=True)
class MeterConfig:
    post_rate: int
    dr_poll: int
    der_poll: int
    time_poll: int
    pen: int
    demand_response: bool = True
    der: bool = True
    time_sync: bool = True
    flow_poll: int = 300
    ramp_up: int | None = None  # seconds over which meters boot; None: one post period
    profile: Profile = PROFILES["sep2018"]
    subscribe: frozenset[str] = frozenset()  # event kinds (dr, der) learnt by Subscription/Notification


@dataclass
class OneOff:
    """A scripted action at a time: a body to post to a link the client discovered."""

    at: float
    kind: str  # flow_request / log_event
    make: Callable[[MeterClient, float], tuple[str | None, Resource]]
    label: str = ""


@dataclass
class Meter:
    plan: Baseline
    site: SiteModel
    client: MeterClient
    outbox: Outbox
    retry: RetrySchedule
    config: MeterConfig
    quantities: list[Quantity]
    participation: Participation
    emit: Callable[[RunEvent], None]
    one_offs: list[OneOff] = field(default_factory=list)
    offline: list[tuple[float, float]] = field(default_factory=list)
    drift: tuple[float, float, float] | None = None  # (from, step seconds, ppm): this meter's clock error
    flush_at: float | None = None  # the one pending flush, so retries never multiply
    der_links: dict[str, str] = field(default_factory=dict)
    flow_seen: set[str] = field(default_factory=set)
    connected: bool = False
    connect_attempts: int = 0
    polling: set[str] = field(default_factory=set)  # the poll tasks scheduled now (poll_dr, poll_der)
    der_quantities: list[Quantity] = field(default_factory=list)  # CSIP, CSIP-AUS: what the DER mirror reports
    notification_uri: str | None = None  # where the run's listener takes this meter's Notifications (None: poll)
    post_limit: int | None = None  # bytes: readings posts larger than this were refused (413) and are split first

    def __post_init__(self) -> None:
        self.physics = MeterPhysics(self.plan, self.site)
        self.id = self.plan.meter.id
        self.role_flags = self.config.profile.site_role_flags
        # the event lists last read or notified: list href -> (kind, its program's primacy, its controls)
        self.event_lists: dict[str, tuple[str, int, list[Any]]] = {}
        self.subscriptions: dict[str, str] = {}  # event list href -> our Subscription's href on the server
        self.unsubscribable: set[str] = set()  # lists the server would not let us subscribe to: polled
        self.inbox: list[tuple[Notification, Resource | None]] = []  # filled by the listener's threads
        self._inbox_lock = threading.Lock()

    # -- scheduling ----------------------------------------------------------------------------------
    def first_tasks(self, start: float) -> list[Task]:
        """A real fleet does not boot in one instant: each meter starts at its own phase within the first post
        period (fixed by its id, so runs are reproducible), and keeps that phase for its posts."""
        if self.resumed_at > float("-inf"):  # resuming: reconnect at once, post on from where it stopped
            tasks: list[Task] = [(self.resumed_at, "connect"), (self.resumed_at + self.config.post_rate, "post")]
        else:
            spread = self.config.ramp_up if self.config.ramp_up is not None else self.config.post_rate
            phase = int.from_bytes(hashlib.sha256(self.id.encode()).digest()[:4], "big") % max(spread, 1)
            tasks = [(start + phase, "connect"), (start + phase + self.config.post_rate, "post")]
        tasks += [(o.at, f"oneoff:{i}") for i, o in enumerate(self.one_offs)]
        return tasks

    def own_time(self, now: float) -> float:
        """This meter's clock: simulated time plus its drift (a step, then ppm), uncorrected."""
        if self.drift is None or now < self.drift[0]:
            return now
        start, step, ppm = self.drift
        return now + step + ppm * 1e-6 * (now - start)

    def device_time(self, now: float) -> int:
        """The time this meter stamps on what it sends: its clock corrected by the last /tm sync."""
        return int(self.own_time(now) + self.client.time_offset)

    def _sync(self, now: float) -> None:
        before = self.device_time(now)
        self.client.sync_time(self.own_time(now))
        after = self.device_time(now)
        if abs(after - before) >= 2:
            self.emit(Note(self.id, now, f"clock corrected by {after - before:+d} s from the gateway's Time"))

    def snapshot(self) -> dict[str, object]:
        return {
            "physics": self.physics.snapshot(),
            "participation": self.participation.snapshot(),
            "flow_seen": sorted(self.flow_seen),
        }

    def restore(self, state: dict[str, object]) -> None:
        """Continue from a checkpoint: intervals, registers, battery, owed responses (the outbox keeps the rest)."""
        self.physics.restore(state["physics"])  # type: ignore[arg-type]
        self.participation.restore(state["participation"])  # type: ignore[arg-type]
        self.flow_seen = set(state.get("flow_seen", []))  # type: ignore[call-overload]
        self.one_offs = [o for o in self.one_offs if o.at > self.resumed_at]

    resumed_at: float = float("-inf")

    def is_offline(self, now: float) -> bool:
        return any(a <= now < b for a, b in self.offline)

    def run(self, task: str, now: float) -> list[Task]:
        self.client.now = now
        if self.is_offline(now) and task != "post":
            back = next(b for a, b in self.offline if a <= now < b)
            return [(back, task)]
        handler = getattr(self, "_" + task.split(":")[0])
        result: list[Task] = handler(now, task)
        return result

    # -- tasks ----------------------------------------------------------------------------------------
    def _connect(self, now: float, task: str) -> list[Task]:
        try:
            self.client.discover(self.own_time(now))
            self.client.ensure_mirror(self.quantities, self.config.post_rate, self.role_flags)
            if self.der_quantities:
                self.client.ensure_mirror(self.der_quantities, self.config.post_rate, DER_MIRROR)
        except RequestFailed as exc:
            self.connect_attempts += 1
            delay = self.retry.delay(self.connect_attempts, exc.retry_after)
            self._failed(now, "connect", exc)
            return [(now + delay, "connect")]
        self.connected = True
        self._notes(now)
        self.emit(Connected(self.id, now, self.client.links.mirror or ""))
        self._connection_point(now)
        if self.plan.meter.is_prosumer and self.config.der:
            self._setup_der(now)
        tasks: list[Task] = self._later_flush(now) + self._start_polls(now)
        if self.config.time_sync and self.client.links.time:
            tasks.append((now + self.client.links.time_poll, "poll_time"))
        tasks.append((now + self.client.links.dcap_poll, "poll_dcap"))
        return tasks

    def _notes(self, now: float) -> None:
        for message in self.client.notes:
            self.emit(Note(self.id, now, message, "warning"))
        self.client.notes.clear()

    def _start_polls(self, now: float) -> list[Task]:
        """Poll tasks for program lists the meter now knows of and does not poll yet (links may appear later,
        at a DeviceCapability or FunctionSetAssignments refresh)."""
        wanted = {
            "poll_dr": self.config.demand_response and bool(self.client.links.dr_programs),
            "poll_der": self.config.der and self.plan.meter.is_prosumer and bool(self.client.links.der_programs),
        }
        new = [task for task, want in wanted.items() if want and task not in self.polling]
        self.polling.update(new)
        return [(now, task) for task in new]

    def _connection_point(self, now: float) -> None:
        """CSIP-AUS: tell the server where this device is connected (its NMI), where the profile asks for it."""
        link = self.client.links.extra.get("connection_point")
        if link and self.config.profile.connection_point:
            nmi = self.plan.meter.nmi or connection_point_id(self.id)
            body = render_bytes(ConnectionPoint(connectionPointId=nmi))
            self.outbox.add(self.id, "der", link, body, 0, now)

    def _post(self, now: float, task: str) -> list[Task]:
        intervals = self.physics.intervals_until(now, self.participation.controls())
        if intervals:
            self.emit(Generated(self.id, tuple(intervals), len(self.quantities) + len(self.der_quantities)))
            lfdi = self.client.id.lfdi
            body = render_bytes(messages.readings(self.config.pen, self.id, lfdi, self.quantities, intervals))
            if self.der_quantities:  # queued first, so the checkpoint below covers both posts
                der_body = render_bytes(
                    messages.readings(self.config.pen, self.id, lfdi, self.der_quantities, intervals)
                )
                self.outbox.add(
                    self.id, "readings", DER_TARGET, der_body, len(intervals) * len(self.der_quantities), now
                )
            self.outbox.add_with_state(
                self.id, "readings", None, body, len(intervals) * len(self.quantities), now, self.snapshot()
            )
        follow = [] if self.is_offline(now) else self._flush(now, task)
        return [*follow, (now + (self.client.links.post_rate or self.config.post_rate), "post")]

    def _failed(self, now: float, what: str, exc: RequestFailed) -> None:
        """Report a request that will be tried again (at its task's next turn)."""
        self.emit(Failed(self.id, now, what, exc.failure, str(exc), True))

    def _later_flush(self, t: float) -> list[Task]:
        """Schedule the meter's one pending flush (an earlier one already pending wins; a later one is dropped)."""
        if self.flush_at is not None and self.flush_at <= t:
            return []
        self.flush_at = t
        return [(t, "flush")]

    def _flush(self, now: float, task: str) -> list[Task]:
        """Send what is due from the outbox, oldest first; stop at the first transient failure (order kept)."""
        if task == "flush":
            if self.flush_at is not None and self.flush_at != now:
                return []  # superseded by a flush scheduled since
            self.flush_at = None
        if not self.connected:
            return []
        for item in self.outbox.due(self.id, now):
            # the server refused one this large before: split it first rather than ask again
            if self.post_limit is not None and len(item.body) > self.post_limit and self._split(item, now, None):
                return self._later_flush(now)
            target = self._target(item.target)
            x = self.client.exchange("PUT" if item.kind == "der" else "POST", target, item.body)
            if x.ok:
                self.outbox.delivered(item.id, now)
                self.emit(Delivered(self.id, item.kind, item.readings, now))
                continue
            attempt = item.attempts + 1
            # too large for this server: a 413, or (servers that answer before reading the body, then close) the
            # connection lost while a post over 1 MiB was on its way: split it and go on
            cut_off = x.status is None and x.failure == "connect" and len(item.body) > LARGE_POST_BYTES
            if (x.status == 413 or cut_off) and self._split(
                item, now, "413" if x.status == 413 else "the connection lost"
            ):
                self.post_limit = min(self.post_limit or len(item.body), len(item.body) // 2)
                return self._later_flush(now)
            if x.transient:
                wait = self.retry.delay(attempt, x.retry_after)
                self.outbox.failed(item.id, now + wait, f"{x.failure}: {x.detail}")
                self.emit(Failed(self.id, now, item.kind, x.failure or "protocol", x.detail, True))
                return self._later_flush(now + wait)
            self.outbox.failed(item.id, NEVER, f"{x.failure}: {x.detail} {x.response_body[:200]!r}")
            self.emit(
                Failed(
                    self.id,
                    now,
                    item.kind,
                    x.failure or "protocol",
                    f"{x.detail}; dropped after a permanent refusal: {x.response_body[:200].decode(errors='replace')}",
                    False,
                )
            )
        return []

    def _split(self, item: Item, now: float, why: str | None) -> bool:
        """Replace a readings post in the outbox by its two halves (told, with ``why``, when it was refused);
        False when it is not one that can be split."""
        parts = messages.split_readings(item.body) if item.kind == "readings" else None
        if parts is None:
            return False
        self.outbox.split(item.id, parts)
        if why is not None:
            sizes = " and ".join(f"{len(body):,}" for body, _ in parts)
            self.emit(Note(self.id, now, f"{why} for a {len(item.body):,}-byte post: split into {sizes} bytes"))
        return True

    def _target(self, target: str | None) -> str:
        """Where an outbox item goes: its own link, or this meter's site or DER mirror as discovered now (mirror
        links may change between runs; the outbox names the mirror, not its href)."""
        if target == DER_TARGET:
            return self.client.links.der_mirror or ""
        return target or self.client.links.mirror or ""

    def _respond(self, now: float, due: list[Due]) -> None:
        for d in due:
            response = messages.response(self.client.id.lfdi, d.subject, d.status, self.device_time(now))
            self.outbox.add(self.id, "response", d.reply_to, render_bytes(response), 0, now)
            self.emit(Responded(self.id, d.event_id, d.kind, d.status, now))

    def _poll(self, now: float, kind: str) -> int | None:
        """Poll DR or DER programs (every program list discovered) and their controls; the poll rate the server
        asks for, or None when the meter knows no program list any more."""
        client = self.client
        links = list(client.links.dr_programs if kind == "dr" else client.links.der_programs)
        if not links:
            return None
        programs_cls: type[DemandResponseProgramList] | type[DERProgramList] = (
            DemandResponseProgramList if kind == "dr" else DERProgramList
        )
        list_attr = "DemandResponseProgram" if kind == "dr" else "DERProgram"
        rate = self.config.dr_poll if kind == "dr" else self.config.der_poll
        pages: list[Any] = []
        programs = [p for link in links for p in client.get_list(link, programs_cls, list_attr, pages)]
        rate = next((page.pollRate for page in pages if page.pollRate), None) or rate
        lists: dict[str, tuple[str, int, list[Any]]] = {}
        for program in programs:
            if kind == "dr":
                link = program.EndDeviceControlListLink
            else:  # the ActiveDERControlList is a part of the DERControlList: read only where a program links no other
                link = program.DERControlListLink or program.ActiveDERControlListLink
            if link is not None and link.href not in lists:
                lists[link.href] = (kind, program.primacy, self._read_events(kind, link.href))
        self.event_lists = {href: entry for href, entry in self.event_lists.items() if entry[0] != kind} | lists
        if kind == "der":
            default = self._default_control(programs)
            self._read_curves(now, [x.DERControlBase for _, _, xs in lists.values() for x in xs], default)
            self.participation.take_default(default)
        self._take_events(now, kind)
        if kind in self.config.subscribe:
            for href in lists:
                self._subscribe(now, href)
        return int(rate)

    def _read_curves(self, now: float, bases: list[DERControlBase], default: DefaultDERControl | None = None) -> None:
        """Read the DERCurves the controls link to (opModVoltVar, ...) that the meter has not read yet (a curve's
        href names one curve; a server publishes a new curve under a new href). A curve that cannot be read
        leaves its control not applicable."""
        if default is not None:
            bases = [*bases, default.DERControlBase]
        known = self.participation.curves
        for base in bases:
            for mode in CURVE_MODES:
                link = getattr(base, mode)
                if link is None or link.href in known:
                    continue
                try:
                    known[link.href] = self.client.get(link.href, DERCurve)
                except RequestFailed as exc:
                    if exc.exchange is None or exc.exchange.transient:
                        raise
                    self.emit(Note(self.id, now, f"DERCurve {link.href} of {mode} unreadable: {exc}", "warning"))

    def _read_events(self, kind: str, href: str) -> list[Any]:
        cls, items = EVENT_LISTS[kind]
        return self.client.get_list(href, cls, items)

    def _take_events(self, now: float, kind: str) -> None:
        """Every control of ``kind`` the meter knows, by mRID (the first program listing one wins), to its
        participation; the Responses owed are queued."""
        items: dict[str, tuple[Any, int]] = {}
        for list_kind, primacy, controls in self.event_lists.values():
            if list_kind == kind:
                for x in controls:
                    items.setdefault(x.mRID, (x, primacy))
        # event times are on the server's clock: mapped to this meter's simulated time through its Time offset
        offset = self.device_time(now) - now
        self._respond(now, self.participation.update(kind, list(items.values()), now, offset))  # type: ignore[arg-type]

    # -- Subscription/Notification ----------------------------------------------------------------------
    def _subscribe(self, now: float, href: str) -> None:
        """Subscribe to one event list, once: a Subscription of our own left by an earlier run (another
        notificationURI) is deleted first. A server that offers no SubscriptionList or refuses is polled."""
        if href in self.subscriptions or href in self.unsubscribable:
            return
        sub_list = self.client.links.extra.get("subscriptions")
        if not sub_list or self.notification_uri is None:
            self.unsubscribable.add(href)
            why = "no notification listener (--dry-run)" if sub_list else "the EndDevice has no SubscriptionListLink"
            self.emit(Note(self.id, now, f"cannot subscribe to {href}: {why}; polling it", "warning"))
            return
        try:
            for old in self.client.get_list(sub_list, SubscriptionList, "Subscription"):
                if old.subscribedResource != href or not old.href:
                    continue
                if old.notificationURI == self.notification_uri:
                    self.subscriptions[href] = old.href
                    self.emit(Subscribed(self.id, now, href, old.href))
                    return
                self.client.exchange("DELETE", old.href)
            x = self.client.exchange(
                "POST",
                sub_list,
                render_bytes(
                    Subscription(
                        subscribedResource=href,
                        encoding=0,
                        level="+S1",
                        limit=PAGE,
                        notificationURI=self.notification_uri,
                    )
                ),
            )
        except RequestFailed as exc:
            self._failed(now, "subscribe", exc)
            return
        location = x.header("Location")
        if x.ok and location:
            self.subscriptions[href] = location
            self.emit(Subscribed(self.id, now, href, location))
            return
        if x.transient:
            self.emit(Failed(self.id, now, "subscribe", x.failure or "protocol", x.detail, True))
            return
        self.unsubscribable.add(href)
        refusal = x.response_body[:200].decode(errors="replace") if not x.ok else "no Location"
        self.emit(
            Note(
                self.id,
                now,
                f"the server refused a Subscription to {href} ({x.status} {refusal}); polling it",
                "warning",
            )
        )

    def unsubscribe(self) -> None:
        """Delete this meter's Subscriptions (at the end of a run: nobody listens any more)."""
        for href in list(self.subscriptions.values()):
            self.client.exchange("DELETE", href)  # a failure is recorded with the exchange; nothing to retry
        self.subscriptions.clear()

    def receive(self, notification: Notification, resource: Resource | None) -> None:
        """From the listener's thread: keep it for the ``notified`` task."""
        with self._inbox_lock:
            self.inbox.append((notification, resource))

    def _notified(self, now: float, task: str) -> list[Task]:
        """Take the Notifications received: a changed event list replaces what the meter knew of it (read again
        when the notification holds only a part of it); deleted entities (status 4 with the entities, as envoy
        sends them) have the list read again; a cancelled subscription puts the list back to polling."""
        with self._inbox_lock:
            inbox, self.inbox = self.inbox, []
        kinds: set[str] = set()
        tasks: list[Task] = []
        for notification, resource in inbox:
            href = notification.subscribedResource
            known = self.event_lists.get(href)
            items = getattr(resource, "DERControl", None) or getattr(resource, "EndDeviceControl", None) or []
            self.emit(Notified(self.id, now, href, notification.status, len(items)))
            if notification.status != 0 and resource is not None and known is not None:
                # entities of the list deleted (envoy sends them with status 4): the subscription lives on
                tasks.append((now, "poll_" + known[0]))
                continue
            if notification.status != 0:
                self.subscriptions.pop(href, None)
                ended = f"the server ended the subscription to {href} (status {notification.status}); polling it"
                self.emit(Note(self.id, now, ended, "warning"))
                if known is not None:
                    tasks.append((now, "poll_" + known[0]))
                continue
            if known is None:
                continue  # a list this meter no longer reads (a program withdrawn since)
            kind, primacy, _ = known
            expected, items_attr = EVENT_LISTS[kind]
            try:
                if isinstance(resource, expected) and len(getattr(resource, items_attr)) >= resource.all:
                    controls = list(getattr(resource, items_attr))
                else:  # a part of the list (the subscription's limit) or no list: read it whole
                    controls = self._read_events(kind, href)
                if kind == "der":
                    self._read_curves(now, [x.DERControlBase for x in controls])
            except RequestFailed as exc:
                self._failed(now, "notified list", exc)
                tasks.append((now, "poll_" + kind))
                continue
            self.event_lists[href] = (kind, primacy, controls)
            kinds.add(kind)
        for kind in sorted(kinds):
            self._take_events(now, kind)
        return [*tasks, *self._flush(now, task), *self._next_tick(now)]

    def _default_control(self, programs: list[Any]) -> DefaultDERControl | None:
        """The DefaultDERControl of the program with the best (lowest) primacy that has one; a 404 is none."""
        for program in sorted(programs, key=lambda p: p.primacy):
            if program.DefaultDERControlLink is None:
                continue
            try:
                return self.client.get(program.DefaultDERControlLink.href, DefaultDERControl)
            except RequestFailed as exc:
                if exc.exchange is not None and exc.exchange.status == 404:
                    continue
                raise
        return None

    def _setup_der(self, now: float) -> None:
        """Find this meter's DER and PUT its capability, settings, availability and status (queued, so an
        outage delays them but never loses them)."""
        links = self.client.links.der_list
        if not links:
            self.emit(Note(self.id, now, "the gateway offers no DERListLink: DER singletons not sent", "warning"))
            return
        try:
            ders = self.client.get_list(links, DERList, "DER")
        except RequestFailed as exc:
            self._failed(now, "DER list", exc)
            return
        if not ders:
            return
        der = ders[0]
        self.der_links = {
            kind: getattr(der, attr).href
            for kind, attr in (
                ("cap", "DERCapabilityLink"),
                ("set", "DERSettingsLink"),
                ("avail", "DERAvailabilityLink"),
                ("status", "DERStatusLink"),
            )
            if getattr(der, attr) is not None
        }
        meter, t = self.plan.meter, self.device_time(now)
        doe = self.config.profile.doe_modes
        for kind, resource in (
            ("cap", messages.der_capability(meter, doe)),
            ("set", messages.der_settings(meter, t, doe)),
        ):
            if kind in self.der_links:
                self.outbox.add(self.id, "der", self.der_links[kind], render_bytes(resource), 0, now)
        self._der_state(now)

    def _der_state(self, now: float) -> None:
        """Queue DERStatus and DERAvailability as they are now: connect status, SoC, power available."""
        links = self.der_links
        meter, t = self.plan.meter, self.device_time(now)
        battery = self.physics.battery
        controls = [c for c in self.participation.controls() if c.covers(int(now))]
        connected = all(c.pv_connected is not False for c in controls)
        last = self.physics.last
        operating = last is not None and (last.pv_w > 0 or abs(last.battery_w) > 0)
        soc = battery.state.soc if battery is not None else None
        if "status" in links:
            status = messages.der_status(meter, t, operating, connected, soc)
            self.outbox.add(self.id, "der", links["status"], render_bytes(status), 0, now)
        if "avail" in links:
            available = battery.limits()[0] if battery is not None else 0.0
            self.outbox.add(
                self.id, "der", links["avail"], render_bytes(messages.der_availability(meter, t, available)), 0, now
            )

    def _poll_dr(self, now: float, task: str) -> list[Task]:
        return self._poll_task(now, "dr", task)

    def _poll_der(self, now: float, task: str) -> list[Task]:
        tasks = self._poll_task(now, "der", task)
        self._der_state(now)
        return tasks

    def _poll_task(self, now: float, kind: str, task: str) -> list[Task]:
        rate: int | None
        try:
            rate = self._poll(now, kind)
        except RequestFailed as exc:
            self._failed(now, f"poll {kind}", exc)
            rate = self.config.dr_poll if kind == "dr" else self.config.der_poll
        if rate is None:  # the server took the program list away: a DeviceCapability refresh may bring it back
            self.polling.discard(task)
            return self._flush(now, task)
        if self._all_subscribed(kind):  # notified of changes: read again only as often as DeviceCapability
            rate = max(rate, self.client.links.dcap_poll)
        return [(now + rate, task), *self._flush(now, task), *self._next_tick(now)]

    def _all_subscribed(self, kind: str) -> bool:
        hrefs = [href for href, entry in self.event_lists.items() if entry[0] == kind]
        return bool(hrefs) and all(href in self.subscriptions for href in hrefs)

    def _next_tick(self, now: float) -> list[Task]:
        """A tick at the next start or end of a known control (a Response falls due then)."""
        nxt = self.participation.next_transition(now)
        return [] if nxt is None else [(float(nxt), "tick")]

    def _tick(self, now: float, task: str) -> list[Task]:
        """Responses due now; and the tick after, so a control starting between two polls is answered on time."""
        self._respond(now, self.participation.tick(now))
        return [*self._flush(now, task), *self._next_tick(now)]

    def _poll_time(self, now: float, task: str) -> list[Task]:
        try:
            self._sync(now)
        except RequestFailed as exc:
            self._failed(now, "time", exc)
        return [(now + self.client.links.time_poll, "poll_time")]

    def _poll_dcap(self, now: float, task: str) -> list[Task]:
        try:
            rate = self.client.refresh()
        except RequestFailed as exc:
            self._failed(now, "dcap", exc)
            return [(now + self.client.links.dcap_poll, "poll_dcap")]
        self._notes(now)
        return [(now + rate, "poll_dcap"), *self._start_polls(now)]

    def _poll_flow(self, now: float, task: str) -> list[Task]:
        """Read this meter's FlowReservationResponses and record what was granted."""
        link = self.client.links.flow_responses
        if not link:
            return []
        try:
            answers = self.client.get_list(link, FlowReservationResponseList, "FlowReservationResponse")
        except RequestFailed as exc:
            self._failed(now, "flow responses", exc)
            return [(now + self.config.flow_poll, task)]
        for a in answers:
            if a.mRID not in self.flow_seen:
                self.flow_seen.add(a.mRID)
                self.emit(
                    Note(
                        self.id,
                        now,
                        f"flow reservation {a.description or a.subject}: granted "
                        f"{a.energyAvailable.wh / 1000:,.1f} kWh at {a.powerAvailable.watts / 1000:,.1f} kW",
                    )
                )
        pending = sum(1 for o in self.one_offs if o.kind == "flow_request") - len(self.flow_seen)
        return [(now + self.config.flow_poll, task)] if pending > 0 else []

    def _oneoff(self, now: float, task: str) -> list[Task]:
        one = self.one_offs[int(task.split(":")[1])]
        if not self.connected:
            return [(now + self.config.post_rate, task)]
        target, resource = one.make(self.client, self.own_time(now))
        if target is None:
            self.emit(Note(self.id, now, f"{one.label}: the gateway offers no link for a {one.kind}", "warning"))
            return []
        self.outbox.add(self.id, one.kind, target, render_bytes(resource), 0, now)
        self.emit(Note(self.id, now, f"{one.label}: {one.kind} queued for {target}"))
        follow = self._flush(now, task)
        if one.kind == "flow_request":
            follow.append((now + self.config.flow_poll, "poll_flow"))
        return follow

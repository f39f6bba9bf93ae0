"""One meter's 2030.5 client: discovery by following links from /dcap (never hard-coded paths), time sync,
find-or-register its EndDevice, check the Registration PIN, set up its MirrorUsagePoint, then the periodic work."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from amiscen.runner import messages
from amiscen.runner.quantities import Quantity
from amiscen.runner.transport import Exchange, FailureClass, Session
from amiscen.sep import constants as c
from amiscen.sep.ids import same_pin
from amiscen.sep.model.common import Resource
from amiscen.sep.model.device import (
    DeviceCapability,
    EndDevice,
    EndDeviceList,
    FunctionSetAssignmentsList,
    Registration,
    Time,
)
from amiscen.sep.parse import SepParseError, parse_as
from amiscen.sep.render import render_bytes

R = TypeVar("R", bound=Resource)
PAGE = 50


class RequestFailed(Exception):
    """The gateway did not give what the protocol needs: a failed exchange (kept for classification and
    Retry-After), or, with no exchange, an answer that lacks something (a link): a protocol failure, unless
    ``failure`` names another class (a Registration PIN the meter refuses)."""

    def __init__(self, exchange: Exchange | None, message: str, failure: FailureClass | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange
        self._failure = failure

    @property
    def failure(self) -> str:
        if self._failure is not None:
            return self._failure
        return (self.exchange.failure if self.exchange is not None else None) or "protocol"

    @property
    def retry_after(self) -> float | None:
        return self.exchange.retry_after if self.exchange is not None else None


@dataclass(frozen=True)
class Identity:
    meter_id: str
    lfdi: str
    sfdi: int
    pen: int
    device_category: int
    pin: int  # the registration PIN on the meter's label
    pin_policy: str = "warn"  # verify / warn / off: what a PIN the server issued otherwise means


@dataclass
class Discovered:
    """Links found by discovery, and the rates the server asks for."""

    dcap_poll: int = c.DEFAULT_POLL_RATE
    time: str | None = None
    time_poll: int = c.DEFAULT_POLL_RATE
    end_device: str | None = None
    registration: str | None = None
    der_list: str | None = None
    log_events: str | None = None
    flow_requests: str | None = None
    flow_responses: str | None = None
    dr_programs: list[str] = field(default_factory=list)  # from DeviceCapability and every FunctionSetAssignments
    der_programs: list[str] = field(default_factory=list)
    mirror_list: str | None = None
    mirror: str | None = None
    der_mirror: str | None = None  # CSIP, CSIP-AUS: the DER's own MirrorUsagePoint
    post_rate: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class MeterClient:
    def __init__(
        self,
        identity: Identity,
        session: Session,
        record: Callable[[str, float, Exchange], None],
        dcap_path: str = "/dcap",
    ) -> None:
        self.id = identity
        self.session = session
        self._record = record
        self.dcap_path = dcap_path
        self.links = Discovered()
        self.time_offset = 0.0  # server time minus our clock
        self.now = 0.0  # the simulated time of the task the meter is running (what its exchanges are logged at)
        self.notes: list[str] = []  # warnings for the meter to report (a PIN that differs under pin_policy warn)

    # -- requests --------------------------------------------------------------------------------------
    def exchange(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange:
        x = self.session.send(method, path, body, params)
        self._record(self.id.meter_id, self.now, x)
        return x

    def get(self, path: str, cls: type[R], params: dict[str, Any] | None = None) -> R:
        x = self.exchange("GET", path, params=params)
        if not x.ok:
            raise RequestFailed(x, f"GET {path}: {x.detail or x.status}")
        try:
            return parse_as(x.response_body, cls)
        except SepParseError as exc:
            raise RequestFailed(x, f"GET {path}: {exc}") from None

    def post(self, path: str, resource: Resource, method: str = "POST") -> Exchange:
        x = self.exchange(method, path, render_bytes(resource))
        if not x.ok:
            raise RequestFailed(x, f"{method} {path}: {x.detail or x.status}")
        return x

    def get_list(self, path: str, cls: type[R], items: str, pages: list[R] | None = None) -> list[Any]:
        """Every item of a list, paging with s and l by the list's ``all`` and ``results``; the pages fetched are
        appended to ``pages`` when given (for the list's own attributes, e.g. pollRate)."""
        found: list[Any] = []
        start = 0
        while True:
            page = self.get(path, cls, {"s": start, "l": PAGE})
            if pages is not None:
                pages.append(page)
            chunk = list(getattr(page, items))
            found.extend(chunk)
            start += len(chunk)
            total = int(vars(page)["all"])
            if not chunk or start >= total:
                return found

    # -- discovery and registration ------------------------------------------------------------------
    def refresh(self) -> int:
        """Re-read DeviceCapability, the EndDevice and its FunctionSetAssignments (at the DeviceCapability's
        pollRate): links and rates the server changed take effect, and a program list reachable only through an
        FSA stays known. On a failure the links found before are kept."""
        before = copy.deepcopy(self.links)
        try:
            self._take(self.get(self.dcap_path, DeviceCapability))
            if self.links.end_device:
                self._read_end_device(self.links.end_device)
                self._function_sets()
        except RequestFailed:
            self.links = before
            raise
        return self.links.dcap_poll

    def _take(self, dcap: DeviceCapability) -> None:
        links = self.links
        links.dcap_poll = dcap.pollRate or c.DEFAULT_POLL_RATE
        links.time = dcap.TimeLink.href if dcap.TimeLink else None
        links.mirror_list = dcap.MirrorUsagePointListLink.href if dcap.MirrorUsagePointListLink else None
        links.dr_programs = [dcap.DemandResponseProgramListLink.href] if dcap.DemandResponseProgramListLink else []
        links.der_programs = [dcap.DERProgramListLink.href] if dcap.DERProgramListLink else []

    def discover(self, now: float) -> None:
        dcap = self.get(self.dcap_path, DeviceCapability)
        self._take(dcap)
        links = self.links
        if links.time:
            self.sync_time(now)
        if dcap.EndDeviceListLink is None:
            raise RequestFailed(None, "the gateway's DeviceCapability has no EndDeviceListLink")
        self._find_or_register(dcap.EndDeviceListLink.href)
        self._function_sets()

    def sync_time(self, now: float) -> Time:
        if self.links.time is None:
            raise RequestFailed(None, "the gateway offers no TimeLink")
        tm = self.get(self.links.time, Time)
        self.time_offset = tm.currentTime - now
        self.links.time_poll = tm.pollRate or c.DEFAULT_POLL_RATE
        return tm

    def _find_or_register(self, edev_list: str) -> None:
        mine = [d for d in self.get_list(edev_list, EndDeviceList, "EndDevice") if self._is_mine(d)]
        if mine and mine[0].href:
            href = mine[0].href
        else:
            device = messages.end_device(self.id.lfdi, self.id.sfdi, self.id.device_category)
            x = self.exchange("POST", edev_list, render_bytes(device))
            if x.status == 409:  # already registered (envoy): find it again rather than fail
                href = self._registered(edev_list, x)
            elif not x.ok:
                raise RequestFailed(x, f"POST {edev_list}: {x.detail or x.status}")
            else:
                href = x.header("Location") or ""
            if not href:
                raise RequestFailed(x, f"POST {edev_list} returned no Location for the new EndDevice")
        self._read_end_device(href)
        self._check_registration()

    def _registered(self, edev_list: str, refused: Exchange) -> str:
        """The href of this meter's EndDevice after a 409 to its POST: the list, or the Location if given."""
        for d in self.get_list(edev_list, EndDeviceList, "EndDevice"):
            if self._is_mine(d) and d.href:
                return str(d.href)
        return refused.header("Location") or ""

    def _is_mine(self, device: EndDevice) -> bool:
        return device.sFDI == self.id.sfdi or (device.lFDI or "").upper() == self.id.lfdi

    def _read_end_device(self, href: str) -> None:
        device = self.get(href, EndDevice)
        links = self.links
        links.end_device = href
        links.registration = device.RegistrationLink.href if device.RegistrationLink else None
        links.der_list = device.DERListLink.href if device.DERListLink else None
        links.log_events = device.LogEventListLink.href if device.LogEventListLink else None
        links.flow_requests = (
            device.FlowReservationRequestListLink.href if device.FlowReservationRequestListLink else None
        )
        links.flow_responses = (
            device.FlowReservationResponseListLink.href if device.FlowReservationResponseListLink else None
        )
        links.post_rate = device.postRate
        links.extra["fsa"] = (
            device.FunctionSetAssignmentsListLink.href if device.FunctionSetAssignmentsListLink else None
        )
        links.extra["connection_point"] = device.ConnectionPointLink.href if device.ConnectionPointLink else None
        links.extra["subscriptions"] = device.SubscriptionListLink.href if device.SubscriptionListLink else None

    def _check_registration(self) -> None:
        """The server's Registration pIN against the meter's label, as the scenario's pin_policy says."""
        if not self.links.registration or self.id.pin_policy == "off":
            return
        registration = self.get(self.links.registration, Registration)
        if same_pin(registration.pIN, self.id.pin):
            return
        message = f"the server's Registration pIN {registration.pIN:06d} is not this meter's PIN {self.id.pin:06d}"
        if self.id.pin_policy == "verify":
            raise RequestFailed(None, message + ": refusing to trust this server (pin_policy verify)", "registration")
        self.notes.append(message + " (pin_policy warn: going on)")

    def _function_sets(self) -> None:
        fsa_link = self.links.extra.get("fsa")
        if not fsa_link:
            return
        links = self.links
        for fsa in self.get_list(fsa_link, FunctionSetAssignmentsList, "FunctionSetAssignments"):
            if fsa.DemandResponseProgramListLink and fsa.DemandResponseProgramListLink.href not in links.dr_programs:
                links.dr_programs.append(fsa.DemandResponseProgramListLink.href)
            if fsa.DERProgramListLink and fsa.DERProgramListLink.href not in links.der_programs:
                links.der_programs.append(fsa.DERProgramListLink.href)
            if fsa.TimeLink:
                links.time = fsa.TimeLink.href

    # -- metering ------------------------------------------------------------------------------------
    def ensure_mirror(self, quantities: list[Quantity], post_rate: int, role_flags: int) -> str:
        """Create (or update) this meter's MirrorUsagePoint with one MirrorMeterReading per quantity: the site's,
        or the DER's when ``role_flags`` say isDER."""
        der = bool(role_flags & c.RoleFlags.IS_DER)
        known = self.links.der_mirror if der else self.links.mirror
        if known:
            return known
        if not self.links.mirror_list:
            raise RequestFailed(None, "the gateway offers no MirrorUsagePointListLink")
        mup = messages.mirror_usage_point(
            self.id.pen, self.id.meter_id, self.id.lfdi, quantities, post_rate, role_flags
        )
        x = self.post(self.links.mirror_list, mup)
        location = x.header("Location")
        if not location:
            raise RequestFailed(x, f"POST {self.links.mirror_list} returned no Location")
        if der:
            self.links.der_mirror = location
        else:
            self.links.mirror = location
        return location

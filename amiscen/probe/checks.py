"""What `amiscen test` checks on a gateway, each check with a verdict and the evidence.

Per meter: a TLS handshake with its own certificate (version and suite negotiated). Then, as the first meter:
discovery from /dcap by links, the content type of every body, 201 + Location on create (EndDevice and
MirrorUsagePoint), list ``all``/``results`` and ``s``/``l`` paging, links that resolve, schema-valid bodies (when a
schema is given), the Time resource's sanity, and that a client without a certificate is refused.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from amiscen.runner import messages
from amiscen.runner.quantities import quantities
from amiscen.runner.transport import Credentials, Exchange, MeterSession, TlsSettings, client_context
from amiscen.sep import constants as c
from amiscen.sep.ids import mrid
from amiscen.sep.model.common import Resource
from amiscen.sep.model.device import DeviceCapability, EndDevice, EndDeviceList, Time
from amiscen.sep.model.metering import MirrorUsagePoint, MirrorUsagePointList
from amiscen.sep.parse import SepParseError, parse_document
from amiscen.sep.render import render_bytes
from amiscen.sep.xsd import SchemaValidator

Result = Literal["pass", "fail", "skip"]
SEP_SUITE = "ECDHE-ECDSA-AES128-CCM8"  # TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, the 2030.5 suite
TIME_TOLERANCE_S = 60.0


@dataclass(frozen=True)
class ProbeCheck:
    name: str
    result: Result
    detail: str

    @property
    def ok(self) -> bool:
        return self.result != "fail"


@dataclass(frozen=True)
class ProbeTarget:
    """Where to probe and as whom."""

    base_url: str
    meters: list[tuple[str, int, str, int, Credentials]]  # meter id, SFDI, LFDI, device category, credentials
    tls: TlsSettings
    pen: int
    timeout: float = 10.0
    dcap_path: str = "/dcap"
    validator: SchemaValidator | None = None
    clock: Callable[[], float] = time.time


@dataclass
class _Seen:
    """Every body the gateway sent back, for the content-type and schema checks at the end."""

    bodies: list[tuple[str, str, bytes]] = field(default_factory=list)  # url, content type, body


def _hostport(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "localhost", parts.port or 443


def handshake(target: ProbeTarget, creds: Credentials | None) -> tuple[str, str]:
    """(TLS version, cipher suite) of a handshake with ``creds`` (None: with no client certificate)."""
    host, port = _hostport(target.base_url)
    context = client_context(creds or target.meters[0][4], target.tls, present_certificate=creds is not None)
    with (
        socket.create_connection((host, port), timeout=target.timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        cipher = tls.cipher()
        version = tls.version() or "?"
        if creds is None:  # TLS 1.3 refuses a missing certificate after the handshake: ask for something
            tls.sendall(f"GET {target.dcap_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while len(answer) < 4096:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                answer += chunk
            return version, answer.decode(errors="replace")
        return version, cipher[0] if cipher else "?"


def _tls_checks(target: ProbeTarget) -> list[ProbeCheck]:
    out = []
    for meter_id, _sfdi, _lfdi, _cat, creds in target.meters:
        name = f"tls_handshake[{meter_id}]"
        try:
            version, suite = handshake(target, creds)
        except (OSError, ssl.SSLError) as exc:
            out.append(ProbeCheck(name, "fail", f"{type(exc).__name__}: {exc}"))
            continue
        wanted = SEP_SUITE in target.tls.ciphers and target.tls.version == "1.2"
        if wanted and suite != SEP_SUITE:
            out.append(ProbeCheck(name, "fail", f"{version} {suite}: not the 2030.5 suite {SEP_SUITE}"))
        else:
            out.append(ProbeCheck(name, "pass", f"{version} {suite}, server certificate verified by the scenario CA"))
    return out


def _no_certificate(target: ProbeTarget) -> ProbeCheck:
    name = "refuses_client_without_certificate"
    try:
        version, answer = handshake(target, None)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as exc:
        return ProbeCheck(name, "pass", f"refused during the handshake ({type(exc).__name__}: {str(exc)[:80]})")
    except OSError as exc:  # refused connection, timeout: nothing was judged
        return ProbeCheck(name, "fail", f"could not connect to ask ({type(exc).__name__}: {exc})")
    status_line = answer.split("\r\n")[0]
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    if status in (401, 403, 495, 496):
        return ProbeCheck(name, "pass", f"{version}: the handshake passed but the request got {status}")
    if status == 400 and "certificate" in answer.lower():  # a TLS terminator's own refusal (nginx)
        return ProbeCheck(name, "pass", f"{version}: refused by the TLS terminator: {_why(answer) or status_line}")
    if not status_line:
        return ProbeCheck(name, "pass", f"{version}: the connection was closed without an answer")
    return ProbeCheck(name, "fail", f"{version}: a client without a certificate got {status_line!r}")


def _why(answer: str) -> str:
    """The line of an HTML error page that names the certificate (nginx: 'No required SSL certificate was sent')."""
    text = re.sub(r"<[^>]+>", "\n", answer.split("\r\n\r\n", 1)[-1])
    return next((line.strip() for line in text.splitlines() if "certificate" in line.lower()), "")


class _Client:
    """The first meter's session, keeping every body it receives."""

    def __init__(self, target: ProbeTarget, seen: _Seen) -> None:
        meter_id, self.sfdi, self.lfdi, self.category, creds = target.meters[0]
        self.meter_id = meter_id
        self.session = MeterSession(target.base_url, creds, target.tls, target.timeout, target.timeout)
        self.seen = seen

    def send(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange:
        x = self.session.send(method, path, body, params)
        if x.response_body:
            self.seen.bodies.append((x.url, (x.header("Content-Type") or ""), x.response_body))
        return x

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[Exchange, Resource | None, str]:
        x = self.send("GET", path, params=params)
        if x.status != 200:
            return x, None, f"GET {path}: {x.status or x.failure} {x.detail}".strip()
        try:
            return x, parse_document(x.response_body), ""
        except SepParseError as exc:
            return x, None, f"GET {path}: {exc}"


def _links(resource: Resource) -> dict[str, str]:
    """Every *Link of a resource: name -> href."""
    out = {}
    for key, value in vars(resource).items():
        if key.endswith("Link") and value is not None and getattr(value, "href", None):
            out[key] = value.href
    return out


def _resolve_links(client: _Client, dcap: DeviceCapability) -> ProbeCheck:
    broken, fine = [], []
    for name, href in sorted(_links(dcap).items()):
        _, resource, problem = client.get(href, {"s": 0, "l": 1} if name.endswith("ListLink") else None)
        if resource is None:
            broken.append(f"{name} -> {problem}")
        elif name.endswith("ListLink") and type(resource).__name__ + "Link" != name:
            broken.append(f"{name} -> {href} is a {type(resource).__name__}")
        else:
            fine.append(name)
    if broken:
        return ProbeCheck("links_resolve", "fail", "; ".join(broken[:4]))
    return ProbeCheck("links_resolve", "pass", f"{len(fine)} links from DeviceCapability: {', '.join(fine)}")


def _time(client: _Client, href: str | None, now: float) -> ProbeCheck:
    if not href:
        return ProbeCheck("time_resource", "fail", "DeviceCapability has no TimeLink")
    _, resource, problem = client.get(href)
    if not isinstance(resource, Time):
        return ProbeCheck("time_resource", "fail", problem or f"{href} is not a Time")
    issues = []
    skew = resource.currentTime - now
    if abs(skew) > TIME_TOLERANCE_S:
        issues.append(f"currentTime is {skew:+.0f} s from this machine's clock")
    if not -12 * 3600 <= resource.tzOffset <= 14 * 3600:
        issues.append(f"tzOffset {resource.tzOffset} s is outside UTC-12..UTC+14")
    if resource.dstOffset is not None and not 0 <= resource.dstOffset <= 7200:
        issues.append(f"dstOffset {resource.dstOffset} s is not 0..2 h")
    if resource.quality is None:
        issues.append("no quality")
    detail = f"currentTime {skew:+.1f} s from local, tzOffset {resource.tzOffset} s, quality {resource.quality}"
    return ProbeCheck("time_resource", "fail" if issues else "pass", "; ".join(issues) or detail)


def _existing(client: _Client, href: str, cls: type, items: str, mine: Callable[[Any], bool]) -> str:
    """The href of the probe's own resource in a list, when an earlier probe or run made it ("" otherwise)."""
    start = 0
    while True:
        _, page, _problem = client.get(href, {"s": start, "l": 50})
        if not isinstance(page, cls):
            return ""
        chunk = list(getattr(page, items))
        for item in chunk:
            if mine(item) and getattr(item, "href", None):
                return str(item.href)
        start += len(chunk)
        if not chunk or start >= int(vars(page)["all"]):
            return ""


def _create(
    client: _Client, name: str, href: str | None, body: Resource, kind: type, existing: str = ""
) -> tuple[ProbeCheck, str]:
    """POST ``body`` to the list, or, when it exists (``existing``: an earlier probe or run), check that it
    resolves: a probe never duplicates what it made before, so a run after it (and it after a run) works."""
    if not href:
        return ProbeCheck(name, "fail", f"no list to POST a {kind.__name__} to"), ""
    if existing:
        _, found, problem = client.get(existing)
        if not isinstance(found, kind):
            return ProbeCheck(name, "fail", f"{existing}: {problem or type(found).__name__}"), existing
        return ProbeCheck(
            name, "pass", f"exists already at {existing} (not POSTed again); GET gives the {kind.__name__}"
        ), existing
    x = client.send("POST", href, render_bytes(body))
    location = x.header("Location") or ""
    if x.status not in (201, 204):  # 204 with a Location: it existed already (an earlier probe or run)
        return ProbeCheck(name, "fail", f"POST {href}: {x.status or x.failure}, expected 201 Created"), location
    if not location:
        return ProbeCheck(name, "fail", f"POST {href}: {x.status} without a Location header"), ""
    _, created, problem = client.get(location)
    if not isinstance(created, kind):
        return ProbeCheck(name, "fail", f"Location {location}: {problem or type(created).__name__}"), location
    return ProbeCheck(name, "pass", f"POST {href}: {x.status}, Location {location} is the {kind.__name__}"), location


def _paging(client: _Client, name: str, href: str | None, cls: type, items: str) -> ProbeCheck:
    if not href:
        return ProbeCheck(name, "skip", "the gateway offers no such list")
    pages: list[Any] = []
    for params in ({"s": 0, "l": 1}, {"s": 0, "l": 255}):
        _, page, problem = client.get(href, params)
        if not isinstance(page, cls):
            return ProbeCheck(name, "fail", problem or f"{href} is not a {cls.__name__}")
        pages.append(page)
    one, many = pages
    issues = []
    for page, limit in ((one, 1), (many, 255)):
        count = len(getattr(page, items))
        if page.results != count:
            issues.append(f"l={limit}: results={page.results} but {count} {items} in the body")
        if count > limit:
            issues.append(f"l={limit}: {count} {items}, more than asked for")
    if one.all != many.all:
        issues.append(f"all differs between pages ({one.all} vs {many.all})")
    _, beyond, problem = client.get(href, {"s": many.all, "l": 5})
    if not isinstance(beyond, cls):
        issues.append(f"s={many.all}: {problem}")
    elif getattr(beyond, "results", None) != 0:
        issues.append(f"s={many.all} (past the end): results={getattr(beyond, 'results', None)}")
    detail = f"all={many.all}; l=1 gave results={one.results}; s past the end gave 0"
    return ProbeCheck(name, "fail" if issues else "pass", "; ".join(issues) or detail)


def _content_types(seen: _Seen) -> ProbeCheck:
    wrong = [(url, ctype) for url, ctype, _ in seen.bodies if ctype.split(";")[0].strip() != c.MEDIA_TYPE]
    if wrong:
        url, ctype = wrong[0]
        return ProbeCheck(
            "content_type",
            "fail",
            f"{len(wrong)} of {len(seen.bodies)} bodies not {c.MEDIA_TYPE}, e.g. {url}: {ctype!r}",
        )
    return ProbeCheck("content_type", "pass", f"all {len(seen.bodies)} bodies were {c.MEDIA_TYPE}")


def _schema(seen: _Seen, validator: SchemaValidator | None) -> ProbeCheck:
    if validator is None:
        return ProbeCheck("schema_valid", "skip", "no sep.xsd given (--xsd or AMISCEN_SEP_XSD)")
    bad = []
    for url, _ctype, body in seen.bodies:
        errors = validator.errors(body)
        if errors:
            bad.append(f"{url}: {errors[0]}")
    extended = sorted({name for _url, _ctype, body in seen.bodies for name in validator.extensions(body)})
    also = f"; extension elements (checked apart from sep.xsd): {', '.join(extended)}" if extended else ""
    if bad:
        return ProbeCheck("schema_valid", "fail", f"{len(bad)} of {len(seen.bodies)} bodies invalid; {bad[0]}{also}")
    return ProbeCheck("schema_valid", "pass", f"the 2030.5 part of all {len(seen.bodies)} bodies valid{also}")


def _probe_mirror(pen: int, client: _Client) -> MirrorUsagePoint:
    """A mirror of the probe's own, the same on every probe. Its MirrorMeterReading mRIDs are its own too: servers
    keep them unique across mirrors (envoy refuses one 'already under a different MirrorUsagePoint'), and the
    meter's, whose ReadingTypes a run relies on, must stay the meter's."""
    mup = messages.mirror_usage_point(
        pen, client.meter_id, client.lfdi, quantities(300, False, False), 300, int(c.RoleFlags.IS_MIRROR)
    )
    return replace(
        mup,
        mRID=mrid(pen, "mup-probe", client.meter_id, client.lfdi),
        description="amiscen test probe",
        MirrorMeterReading=[
            replace(m, mRID=mrid(pen, "mmr-probe", client.meter_id, m.mRID)) for m in mup.MirrorMeterReading
        ],
    )


def probe(target: ProbeTarget) -> list[ProbeCheck]:
    checks = _tls_checks(target)
    checks.append(_no_certificate(target))
    if not any(ch.result == "pass" for ch in checks if ch.name.startswith("tls_handshake")):
        return checks  # nothing more can be asked of a gateway no meter can talk to
    seen = _Seen()
    client = _Client(target, seen)
    try:
        _, dcap, problem = client.get(target.dcap_path)
        if not isinstance(dcap, DeviceCapability):
            checks.append(
                ProbeCheck("device_capability", "fail", problem or f"{target.dcap_path} is not a DeviceCapability")
            )
            return checks
        checks.append(
            ProbeCheck("device_capability", "pass", f"GET {target.dcap_path}: 200, {len(_links(dcap))} links")
        )
        checks.append(_resolve_links(client, dcap))
        checks.append(_time(client, dcap.TimeLink.href if dcap.TimeLink else None, target.clock()))
        edev_list = dcap.EndDeviceListLink.href if dcap.EndDeviceListLink else None
        device = messages.end_device(client.lfdi, client.sfdi, client.category)
        mine_edev = (
            ""
            if not edev_list
            else _existing(
                client, edev_list, EndDeviceList, "EndDevice", lambda d: (d.lFDI or "").upper() == client.lfdi
            )
        )
        check, _ = _create(client, "create_end_device", edev_list, device, EndDevice, mine_edev)
        checks.append(check)
        mup_list = dcap.MirrorUsagePointListLink.href if dcap.MirrorUsagePointListLink else None
        mup = _probe_mirror(target.pen, client)
        mine_mup = (
            ""
            if not mup_list
            else _existing(client, mup_list, MirrorUsagePointList, "MirrorUsagePoint", lambda m: m.mRID == mup.mRID)
        )
        check, _ = _create(client, "create_mirror_usage_point", mup_list, mup, MirrorUsagePoint, mine_mup)
        checks.append(check)
        checks.append(_paging(client, "list_paging[EndDeviceList]", edev_list, EndDeviceList, "EndDevice"))
        checks.append(
            _paging(client, "list_paging[MirrorUsagePointList]", mup_list, MirrorUsagePointList, "MirrorUsagePoint")
        )
    finally:
        client.session.close()
    checks.append(_content_types(seen))
    checks.append(_schema(seen, target.validator))
    return checks

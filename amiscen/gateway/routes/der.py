"""DER under an EndDevice: the DER list and the singletons a prosumer PUTs (capability, settings, status,
availability)."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import TYPE_CHECKING

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.sep.constants import MEDIA_TYPE
from amiscen.sep.ids import nmi_checksum
from amiscen.sep.model.common import Link, Resource
from amiscen.sep.model.der import DER, DERAvailability, DERCapability, DERList, DERSettings, DERStatus
from amiscen.sep.model.device import ConnectionPoint
from amiscen.sep.render import render

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend

SINGLETONS: dict[str, type] = {
    "dercap": DERCapability,
    "derg": DERSettings,
    "ders": DERStatus,
    "dera": DERAvailability,
}


def register(app: Headend) -> None:
    app.router.add("/edev/{e}/cp", GET=get_connection_point, PUT=put_connection_point)
    app.router.add("/edev/{e}/der", GET=der_list)
    app.router.add("/edev/{e}/der/{d}", GET=der)
    for kind in SINGLETONS:
        app.router.add(
            f"/edev/{{e}}/der/{{d}}/{kind}",
            GET=partial(get_singleton, kind=kind),
            PUT=partial(put_singleton, kind=kind),
        )


def _der(e: int) -> DER:
    base = f"/edev/{e}/der/0"
    return DER(
        href=base,
        DERAvailabilityLink=Link(f"{base}/dera"),
        DERCapabilityLink=Link(f"{base}/dercap"),
        DERSettingsLink=Link(f"{base}/derg"),
        DERStatusLink=Link(f"{base}/ders"),
    )


def der_list(app: Headend, req: Request, e: int) -> Reply:
    app.own_device(req, e)
    items, total = window([_der(e)], page(req.query, app.config.default_list_limit))
    return Reply.of(
        DERList(all=total, results=len(items), href=f"/edev/{e}/der", pollRate=app.poll_rate("DERList"), DER=items)
    )


def der(app: Headend, req: Request, e: int, d: int) -> Reply:
    app.own_device(req, e)
    if d != 0:
        raise HttpError(404, f"no DER {d}")
    return Reply.of(_der(e))


def get_singleton(app: Headend, req: Request, e: int, d: int, kind: str) -> Reply:
    app.own_device(req, e)
    body = app.store.scalar("SELECT body FROM der_resource WHERE edev_id = ? AND kind = ?", (e, kind))
    if d != 0 or body is None:
        raise HttpError(404, f"no {SINGLETONS[kind].__name__} at {req.path} yet")
    return Reply(200, body.encode(), {"Content-Type": MEDIA_TYPE})


def put_singleton(app: Headend, req: Request, body: Resource, e: int, d: int, kind: str) -> Reply:
    app.own_device(req, e)
    expected = SINGLETONS[kind]
    if d != 0:
        raise HttpError(404, f"no DER {d}")
    if not isinstance(body, expected):
        raise HttpError(400, f"expected a {expected.__name__} at {req.path}, got {type(body).__name__}")
    if app.csipaus and isinstance(body, DERCapability) and body.doeModesSupported is None:
        raise HttpError(400, "CSIP-AUS: DERCapability needs csipaus:doeModesSupported")  # as envoy answers
    _store(app, req, e, kind, body)
    return Reply(204)


def _store(app: Headend, req: Request, e: int, kind: str, body: Resource) -> None:
    """Keep our own rendering of what was PUT, with its href (required in a response to a GET): never the
    client's bytes, whose foreign elements a GET would hand back to others."""
    stored = dataclasses.replace(body, href=req.path)  # type: ignore[type-var]
    if hasattr(stored, "subscribable"):
        stored = dataclasses.replace(stored, subscribable=1)  # type: ignore[type-var]
    document = render(stored)
    app.store.execute(
        "INSERT INTO der_resource(edev_id, kind, body, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(edev_id, kind) DO UPDATE SET body = excluded.body, updated = excluded.updated",
        (e, kind, document, app.clock.now()),
    )


def valid_nmi(text: str) -> bool:
    """An Australian National Metering Identifier: 10 upper-case letters and digits, optionally followed by its
    checksum digit (AEMO)."""
    if len(text) not in (10, 11) or not all(ch.isascii() and (ch.isdigit() or ch.isupper()) for ch in text):
        return False
    return len(text) == 10 or (text[10].isdigit() and int(text[10]) == nmi_checksum(text[:10]))


def get_connection_point(app: Headend, req: Request, e: int) -> Reply:
    app.own_device(req, e)
    body = app.store.scalar("SELECT body FROM der_resource WHERE edev_id = ? AND kind = 'cp'", (e,))
    if body is None:
        raise HttpError(404, f"no ConnectionPoint at {req.path} yet")
    return Reply(200, body.encode(), {"Content-Type": MEDIA_TYPE})


def put_connection_point(app: Headend, req: Request, body: Resource, e: int) -> Reply:
    """CSIP-AUS: where the device is connected (its NMI)."""
    app.own_device(req, e)
    if not isinstance(body, ConnectionPoint) or not body.connectionPointId:
        raise HttpError(400, "expected a csipaus:ConnectionPoint with a connectionPointId")
    if not valid_nmi(body.connectionPointId):
        raise HttpError(
            400,
            f"connectionPointId {body.connectionPointId[:20]!r} is not an NMI: 10 letters and digits, and if 11 "
            "the last is its checksum digit",
        )
    existed = app.store.scalar("SELECT 1 FROM der_resource WHERE edev_id = ? AND kind = 'cp'", (e,))
    _store(app, req, e, "cp", body)
    # 201 when the PUT created it (RFC 9110 9.3.4); CSIP-AUS clients (CACTUS) read where it is from Location
    return Reply(204 if existed else 201, headers={"Location": req.path})

"""Flow reservations for P2P trading: a meter POSTs a FlowReservationRequest, the head-end answers with a
FlowReservationResponse in the device's response list.

Allocation policy (documented in the README): the campus has a P2P capacity of ``flow_capacity_w`` watts at any
moment. Requests are served first come, first served: a request is granted the capacity not already granted to
requests whose intervals overlap it, up to the power it asked for; the energy granted is the energy asked for,
capped at that power over the interval. A request that gets nothing is answered with zero, not refused.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.sep.constants import EventStatusCode
from amiscen.sep.ids import mrid
from amiscen.sep.model.common import ActivePower, DateTimeInterval, EventStatus, Resource, SignedRealEnergy
from amiscen.sep.model.misc import (
    FlowReservationRequest,
    FlowReservationRequestList,
    FlowReservationResponse,
    FlowReservationResponseList,
    RequestStatus,
)

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend


def register(app: Headend) -> None:
    r = app.router
    r.add("/edev/{e}/frq", GET=request_list, POST=create_request)
    r.add("/edev/{e}/frq/{n}", GET=request)
    r.add("/edev/{e}/frp", GET=response_list)
    r.add("/edev/{e}/frp/{n}", GET=response)


def _request(row: Any, e: int) -> FlowReservationRequest:
    data = json.loads(row["body"])
    return FlowReservationRequest(
        href=f"/edev/{e}/frq/{row['id']}",
        mRID=row["mrid"],
        description=data.get("description"),
        creationTime=row["created"],
        durationRequested=data.get("durationRequested"),
        energyRequested=SignedRealEnergy.of_wh(row["energy_wh"]),
        intervalRequested=DateTimeInterval(row["duration"], row["start"]),
        powerRequested=ActivePower.of_watts(row["power_w"]),
        RequestStatus=RequestStatus(row["created"], 0),
    )


def _response(app: Headend, row: Any, e: int) -> FlowReservationResponse:
    return FlowReservationResponse(
        href=f"/edev/{e}/frp/{row['id']}",
        replyTo="/rsps/2/rsp",
        responseRequired=0,
        mRID=mrid(app.config.pen, "frp", row["mrid"]),
        description=(json.loads(row["body"]).get("description")),
        creationTime=row["created"],
        EventStatus=EventStatus(int(EventStatusCode.SCHEDULED), row["created"]),
        interval=DateTimeInterval(row["duration"], row["start"]),
        energyAvailable=SignedRealEnergy.of_wh(row["granted_energy_wh"]),
        powerAvailable=ActivePower.of_watts(row["granted_power_w"]),
        subject=row["mrid"],
    )


def create_request(app: Headend, req: Request, body: Resource, e: int) -> Reply:
    app.own_device(req, e)
    if not isinstance(body, FlowReservationRequest):
        raise HttpError(400, f"expected a FlowReservationRequest, got {type(body).__name__}")
    existing = app.store.one("SELECT id FROM flow_request WHERE edev_id = ? AND mrid = ?", (e, body.mRID))
    if existing is not None:  # a retried POST: same answer, nothing allocated twice
        return Reply.created(f"/edev/{e}/frq/{existing['id']}")
    start, duration = body.intervalRequested.start, body.intervalRequested.duration
    power = abs(body.powerRequested.watts)
    energy = body.energyRequested.wh
    with app.store.transaction():
        used = app.store.scalar(
            "SELECT coalesce(sum(granted_power_w), 0) FROM flow_request WHERE start < ? AND start + duration > ?",
            (start + duration, start),
        )
        granted_power = max(0, min(power, app.config.flow_capacity_w - int(used)))
        cap = granted_power * duration / 3600
        granted_energy = max(-cap, min(cap, energy))
        row_id = app.store.execute(
            "INSERT INTO flow_request(edev_id, mrid, body, start, duration, energy_wh, power_w, granted_energy_wh, "
            "granted_power_w, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e,
                body.mRID,
                json.dumps({"description": body.description, "durationRequested": body.durationRequested}),
                start,
                duration,
                round(energy),
                round(power),
                round(granted_energy),
                round(granted_power),
                app.now(),
            ),
        )
    return Reply.created(f"/edev/{e}/frq/{row_id}")


def _rows(app: Headend, e: int) -> list[Any]:
    return app.store.all("SELECT * FROM flow_request WHERE edev_id = ? ORDER BY id", (e,))


def request_list(app: Headend, req: Request, e: int) -> Reply:
    app.own_device(req, e)
    items, total = window(_rows(app, e), page(req.query, app.config.default_list_limit))
    return Reply.of(
        FlowReservationRequestList(
            all=total, results=len(items), href=f"/edev/{e}/frq", FlowReservationRequest=[_request(r, e) for r in items]
        )
    )


def request(app: Headend, req: Request, e: int, n: int) -> Reply:
    app.own_device(req, e)
    row = next((r for r in _rows(app, e) if r["id"] == n), None)
    if row is None:
        raise HttpError(404, f"no FlowReservationRequest {n}")
    return Reply.of(_request(row, e))


def response_list(app: Headend, req: Request, e: int) -> Reply:
    app.own_device(req, e)
    items, total = window(_rows(app, e), page(req.query, app.config.default_list_limit))
    return Reply.of(
        FlowReservationResponseList(
            all=total,
            results=len(items),
            href=f"/edev/{e}/frp",
            pollRate=app.poll_rate("FlowReservationResponseList"),
            FlowReservationResponse=[_response(app, r, e) for r in items],
        )
    )


def response(app: Headend, req: Request, e: int, n: int) -> Reply:
    app.own_device(req, e)
    row = next((r for r in _rows(app, e) if r["id"] == n), None)
    if row is None:
        raise HttpError(404, f"no FlowReservationResponse {n}")
    return Reply.of(_response(app, row, e))

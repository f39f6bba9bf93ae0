"""Discovery (/dcap), Time (/tm), EndDevice registration, Registration (PIN), FunctionSetAssignments, LogEvents."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.gateway.zone import zone_time
from amiscen.sep import constants as c
from amiscen.sep.ids import mrid, pin_with_check_digit, registration_pin
from amiscen.sep.model.common import Link, ListLink, Resource
from amiscen.sep.model.device import (
    DeviceCapability,
    EndDevice,
    EndDeviceList,
    FunctionSetAssignments,
    FunctionSetAssignmentsList,
    Registration,
    Time,
)
from amiscen.sep.model.misc import LogEvent, LogEventList

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend

RESPONSE_SETS = 3  # DR, DER, flow reservation


def register(app: Headend) -> None:
    r = app.router
    r.add("/dcap", GET=device_capability)
    r.add("/tm", GET=time)
    r.add("/edev", GET=end_device_list, POST=create_end_device)
    r.add("/edev/{e}", GET=end_device)
    r.add("/edev/{e}/rg", GET=registration)
    r.add("/edev/{e}/fsa", GET=fsa_list)
    r.add("/edev/{e}/fsa/{f}", GET=fsa)
    r.add("/edev/{e}/lel", GET=log_event_list, POST=create_log_event)
    r.add("/edev/{e}/lel/{n}", GET=log_event)


def _count(app: Headend, sql: str, args: tuple[Any, ...]) -> int:
    return int(app.store.scalar(sql, args) or 0)


def device_capability(app: Headend, req: Request) -> Reply:
    mine = app.device_row(req.lfdi)
    return Reply.of(
        DeviceCapability(
            href="/dcap",
            pollRate=app.poll_rate("DeviceCapability"),
            DemandResponseProgramListLink=ListLink(
                "/dr", _count(app, "SELECT count(*) FROM program WHERE kind='dr'", ())
            ),
            DERProgramListLink=(
                ListLink("/derp", _count(app, "SELECT count(*) FROM program WHERE kind='der'", ()))
                if app.config.quirks.der_programs_in_dcap
                else None
            ),
            ResponseSetListLink=ListLink("/rsps", RESPONSE_SETS),
            TimeLink=Link("/tm"),
            UsagePointListLink=ListLink("/upt", _mirrors(app, req)),
            EndDeviceListLink=ListLink("/edev", 1 if mine else 0),
            MirrorUsagePointListLink=ListLink("/mup", _mirrors(app, req)),
        )
    )


def _mirrors(app: Headend, req: Request) -> int:
    return _count(
        app,
        "SELECT count(*) FROM mirror_usage_point m JOIN end_device d ON d.id = m.edev_id WHERE d.lfdi = ?",
        (req.lfdi,),
    )


def time(app: Headend, req: Request) -> Reply:
    now = app.now() + app.config.quirks.clock_offset
    zone = zone_time(app.config.timezone, now)
    return Reply.of(
        Time(
            href="/tm",
            pollRate=app.poll_rate("Time"),
            currentTime=now,
            dstEndTime=zone.dst_end,
            dstOffset=zone.dst_offset,
            dstStartTime=zone.dst_start,
            localTime=zone.local_time,
            quality=int(c.TimeQuality.INTENTIONALLY_UNCOORDINATED if app.config.simulated else c.TimeQuality.LEVEL_3),
            tzOffset=zone.tz_offset,
        )
    )


def _end_device(app: Headend, row: Any) -> EndDevice:
    e = row["id"]
    lel = _count(app, "SELECT count(*) FROM log_event WHERE edev_id = ?", (e,))
    frq = _count(app, "SELECT count(*) FROM flow_request WHERE edev_id = ?", (e,))
    return EndDevice(
        href=f"/edev/{e}",
        sFDI=row["sfdi"],
        changedTime=row["changed_time"],
        DERListLink=ListLink(f"/edev/{e}/der", 1),
        deviceCategory=row["device_category"],
        lFDI=row["lfdi"],
        LogEventListLink=ListLink(f"/edev/{e}/lel", lel),
        enabled=True,
        FlowReservationRequestListLink=ListLink(f"/edev/{e}/frq", frq),
        FlowReservationResponseListLink=ListLink(f"/edev/{e}/frp", frq),
        FunctionSetAssignmentsListLink=ListLink(f"/edev/{e}/fsa", 1),
        postRate=row["post_rate"],
        RegistrationLink=Link(f"/edev/{e}/rg"),
        ConnectionPointLink=Link(f"/edev/{e}/cp") if app.csipaus else None,
    )


def end_device_list(app: Headend, req: Request) -> Reply:
    """A device sees only itself (the list is scoped by the client certificate)."""
    mine = app.device_row(req.lfdi)
    items, total = window([mine] if mine else [], page(req.query, app.config.default_list_limit))
    return Reply.of(
        EndDeviceList(
            all=total,
            results=len(items),
            href="/edev",
            pollRate=app.poll_rate("EndDeviceList"),
            EndDevice=[_end_device(app, r) for r in items],
        )
    )


def create_end_device(app: Headend, req: Request, body: Resource) -> Reply:
    if not isinstance(body, EndDevice):
        raise HttpError(400, f"expected an EndDevice, got {type(body).__name__}")
    if body.sFDI != req.sfdi:
        raise HttpError(403, f"sFDI {body.sFDI} is not the SFDI of the client certificate ({req.sfdi})")
    if body.lFDI is not None and body.lFDI.upper() != req.lfdi:
        raise HttpError(403, f"lFDI {body.lFDI} is not the LFDI of the client certificate ({req.lfdi})")
    existing = app.device_row(req.lfdi)
    quirks = app.config.quirks
    if existing is None:
        edev = app.store.execute(
            "INSERT INTO end_device(id, lfdi, sfdi, meter_id, device_category, changed_time, post_rate, "
            "registered_time, pin) VALUES ((SELECT max(coalesce(max(id), 0) + 1, ?) FROM end_device), "
            "?, ?, ?, ?, ?, ?, ?, ?)",
            (
                quirks.first_id,
                req.lfdi,
                req.sfdi,
                req.meter_id,
                body.deviceCategory,
                body.changedTime,
                body.postRate or app.config.post_rate,
                app.now(),
                _issued_pin(app, req),
            ),
        )
    else:
        edev = existing["id"]
        if quirks.duplicate_end_device == 409:
            raise HttpError(409, f"an EndDevice for LFDI {req.lfdi} exists already")
        app.store.execute(
            "UPDATE end_device SET device_category = ?, changed_time = ? WHERE id = ?",
            (body.deviceCategory, body.changedTime, edev),
        )
        return Reply(204, headers={"Location": f"/edev/{edev}"})  # updated, nothing created: not 201
    return Reply.created(f"/edev/{edev}")


def _issued_pin(app: Headend, req: Request) -> int:
    """The registration PIN this head-end issues a new device: the scenario's label PIN, or as a quirk says."""
    quirks = app.config.quirks
    if quirks.pin is not None:
        return quirks.pin
    if quirks.random_pin:  # random to the meter: nothing it could derive from its id
        return pin_with_check_digit(
            int.from_bytes(hashlib.sha256(b"random-pin" + req.lfdi.encode()).digest()[:4], "big") % 100000
        )
    return app.config.pins.get(req.meter_id) or registration_pin(req.meter_id)


def end_device(app: Headend, req: Request, e: int) -> Reply:
    return Reply.of(_end_device(app, app.own_device(req, e)))


def registration(app: Headend, req: Request, e: int) -> Reply:
    row = app.own_device(req, e)
    return Reply.of(
        Registration(
            href=f"/edev/{e}/rg",
            dateTimeRegistered=row["registered_time"],
            pIN=row["pin"],
            pollRate=app.poll_rate("Registration"),
        )
    )


def _fsa(app: Headend, row: Any) -> FunctionSetAssignments:
    e = row["id"]
    dr = _count(app, "SELECT count(*) FROM program WHERE kind='dr'", ())
    der = _count(app, "SELECT count(*) FROM program WHERE kind='der'", ())
    return FunctionSetAssignments(
        href=f"/edev/{e}/fsa/0",
        mRID=mrid(app.config.pen, "fsa", row["lfdi"]),
        description="campus",
        DemandResponseProgramListLink=ListLink("/dr", dr),
        DERProgramListLink=ListLink("/derp", der),
        ResponseSetListLink=ListLink("/rsps", RESPONSE_SETS),
        TimeLink=Link("/tm"),
    )


def fsa_list(app: Headend, req: Request, e: int) -> Reply:
    row = app.own_device(req, e)
    items, total = window([row], page(req.query, app.config.default_list_limit))
    return Reply.of(
        FunctionSetAssignmentsList(
            all=total,
            results=len(items),
            href=f"/edev/{e}/fsa",
            pollRate=app.poll_rate("FunctionSetAssignmentsList"),
            FunctionSetAssignments=[_fsa(app, r) for r in items],
        )
    )


def fsa(app: Headend, req: Request, e: int, f: int) -> Reply:
    row = app.own_device(req, e)
    if f != 0:
        raise HttpError(404, f"no FunctionSetAssignments {f}")
    return Reply.of(_fsa(app, row))


def _log_event(row: Any, e: int) -> LogEvent:
    return LogEvent(
        href=f"/edev/{e}/lel/{row['id']}",
        createdDateTime=row["created"],
        details=row["details"],
        extendedData=row["extended"],
        functionSet=row["function_set"],
        logEventCode=row["code"],
        logEventID=row["log_id"],
        logEventPEN=row["pen"],
        profileID=row["profile"],
    )


def log_event_list(app: Headend, req: Request, e: int) -> Reply:
    app.own_device(req, e)
    rows = app.store.all("SELECT * FROM log_event WHERE edev_id = ? ORDER BY created DESC, id DESC", (e,))
    items, total = window(rows, page(req.query, app.config.default_list_limit), lambda r: int(r["created"]))
    return Reply.of(
        LogEventList(all=total, results=len(items), href=f"/edev/{e}/lel", LogEvent=[_log_event(r, e) for r in items])
    )


def create_log_event(app: Headend, req: Request, body: Resource, e: int) -> Reply:
    app.own_device(req, e)
    if not isinstance(body, LogEvent):
        raise HttpError(400, f"expected a LogEvent, got {type(body).__name__}")
    app.store.execute(
        "INSERT OR IGNORE INTO log_event(edev_id, created, function_set, code, log_id, pen, profile, details, extended)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e,
            body.createdDateTime,
            body.functionSet,
            body.logEventCode,
            body.logEventID,
            body.logEventPEN,
            body.profileID,
            body.details,
            body.extendedData,
        ),
    )
    row_id = app.store.scalar(
        "SELECT id FROM log_event WHERE edev_id = ? AND created = ? AND log_id = ?",
        (e, body.createdDateTime, body.logEventID),
    )
    return Reply.created(f"/edev/{e}/lel/{row_id}")


def log_event(app: Headend, req: Request, e: int, n: int) -> Reply:
    app.own_device(req, e)
    row = app.store.one("SELECT * FROM log_event WHERE edev_id = ? AND id = ?", (e, n))
    if row is None:
        raise HttpError(404, f"no LogEvent {n}")
    return Reply.of(_log_event(row, e))

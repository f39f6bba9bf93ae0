"""Discovery (/dcap), Time (/tm), EndDevice registration, Registration (PIN), FunctionSetAssignments, LogEvents."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.gateway.zone import zone_time
from amiscen.sep import constants as c
from amiscen.sep.ids import mrid, pin_with_check_digit, registration_pin, sfdi_from_lfdi
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
            EndDeviceListLink=ListLink("/edev", len(_my_devices(app, req))),
            MirrorUsagePointListLink=ListLink("/mup", _mirrors(app, req)),
        ),
        csipaus=app.csipaus,  # the profile declared where a client looks first
    )


def _mirrors(app: Headend, req: Request) -> int:
    where, args = app.acts_for_sql(req, "d.lfdi")
    return _count(
        app, f"SELECT count(*) FROM mirror_usage_point m JOIN end_device d ON d.id = m.edev_id WHERE {where}", args
    )


def _my_devices(app: Headend, req: Request) -> list[Any]:
    """The EndDevices a client sees: its own; an aggregator also the site devices it registered."""
    where, args = app.acts_for_sql(req)
    return app.store.all(f"SELECT * FROM end_device WHERE {where} ORDER BY id", args)


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


def _end_device(app: Headend, req: Request, row: Any) -> EndDevice:
    """An EndDevice as the requester sees it: its own carries the SubscriptionListLink (an aggregator's site
    devices do not: its subscriptions live under its own EndDevice, as envoy has them)."""
    e = row["id"]
    own = row["lfdi"] == req.lfdi
    subs = _count(app, "SELECT count(*) FROM subscription WHERE edev_id = ?", (e,)) if own else 0
    if row["lfdi"] in app.aggregators:  # an aggregator's own EndDevice has no DER or programs: only its
        return EndDevice(  # subscriptions (envoy's "virtual" EndDevice)
            href=f"/edev/{e}",
            sFDI=row["sfdi"],
            changedTime=row["changed_time"],
            lFDI=row["lfdi"],
            enabled=True,
            SubscriptionListLink=ListLink(f"/edev/{e}/sub", subs) if own else None,
            subscribable=0,
        )
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
        FunctionSetAssignmentsListLink=ListLink(f"/edev/{e}/fsa", len(_assignments(app))),
        postRate=row["post_rate"],
        RegistrationLink=Link(f"/edev/{e}/rg"),
        SubscriptionListLink=ListLink(f"/edev/{e}/sub", subs) if own and app.config.quirks.subscriptions else None,
        subscribable=1,
        ConnectionPointLink=Link(f"/edev/{e}/cp") if app.csipaus else None,
    )


def end_device_list(app: Headend, req: Request) -> Reply:
    """A device sees only itself, an aggregator itself and its site devices (scoped by the client certificate)."""
    items, total = window(_my_devices(app, req), page(req.query, app.config.default_list_limit))
    return Reply.of(
        EndDeviceList(
            all=total,
            results=len(items),
            href="/edev",
            subscribable=1,
            pollRate=app.poll_rate("EndDeviceList"),
            EndDevice=[_end_device(app, req, r) for r in items],
        )
    )


def create_end_device(app: Headend, req: Request, body: Resource) -> Reply:
    """A device registers itself (its certificate's LFDI and SFDI); an aggregator registers the site devices it
    acts for, under their own LFDI and SFDI (CSIP)."""
    if not isinstance(body, EndDevice):
        raise HttpError(400, f"expected an EndDevice, got {type(body).__name__}")
    aggregator = req.lfdi in app.aggregators
    lfdi, sfdi = (body.lFDI or "").upper(), body.sFDI
    if lfdi and (len(lfdi) != 40 or any(ch not in "0123456789ABCDEF" for ch in lfdi)):
        raise HttpError(400, f"lFDI {(body.lFDI or '')[:50]!r} is not 40 hex digits")
    if aggregator:
        if not lfdi:
            raise HttpError(400, "an aggregator registers a site device with its lFDI")
        if sfdi != sfdi_from_lfdi(lfdi):
            raise HttpError(400, f"sFDI {sfdi} is not the SFDI of lFDI {lfdi}")
        taken = app.device_row(lfdi)
        if taken is not None and lfdi not in app.acts_for(req):
            raise HttpError(403, f"EndDevice {lfdi} is registered to another client")
    else:
        if sfdi != req.sfdi:
            raise HttpError(403, f"sFDI {sfdi} is not the SFDI of the client certificate ({req.sfdi})")
        if lfdi and lfdi != req.lfdi:
            raise HttpError(403, f"lFDI {body.lFDI} is not the LFDI of the client certificate ({req.lfdi})")
        lfdi = req.lfdi
    existing = app.device_row(lfdi)
    quirks = app.config.quirks
    if existing is None:
        edev = app.store.execute(
            "INSERT INTO end_device(id, lfdi, sfdi, meter_id, device_category, changed_time, post_rate, "
            "registered_time, pin) VALUES ((SELECT max(coalesce(max(id), 0) + 1, ?) FROM end_device), "
            "?, ?, ?, ?, ?, ?, ?, ?)",
            (
                quirks.first_id,
                lfdi,
                sfdi,
                lfdi if aggregator else req.meter_id,
                body.deviceCategory,
                body.changedTime,
                body.postRate or app.config.post_rate,
                app.now(),
                _issued_pin(app, req),
            ),
        )
        if aggregator:
            app.store.execute("INSERT INTO edev_owner(edev_id, owner) VALUES (?, ?)", (edev, req.lfdi))
    else:
        edev = existing["id"]
        if quirks.duplicate_end_device == 409 or app.csipaus:  # CSIP-AUS: a duplicate registration is refused
            raise HttpError(409, f"an EndDevice for LFDI {lfdi} exists already")
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
    return Reply.of(_end_device(app, req, app.own_device(req, e)))


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


def _assignments(app: Headend) -> list[Any]:
    """The FunctionSetAssignments every EndDevice is given: those the operator made (each with its own DER
    programs), else one (id 0) with all the programs, DR, responses and time."""
    made = app.store.all("SELECT * FROM fsa ORDER BY id")
    return list(made) if made else [None]


def _fsa(app: Headend, row: Any, assignment: Any) -> FunctionSetAssignments:
    e = row["id"]
    if assignment is None:
        dr = _count(app, "SELECT count(*) FROM program WHERE kind='dr'", ())
        der = _count(app, "SELECT count(*) FROM program WHERE kind='der'", ())
        return FunctionSetAssignments(
            href=f"/edev/{e}/fsa/0",
            mRID=mrid(app.config.pen, "fsa", row["lfdi"]),
            description="campus",
            DemandResponseProgramListLink=ListLink("/dr", dr),
            DERProgramListLink=ListLink(f"/edev/{e}/derp", der),  # the programs as this device sees them
            ResponseSetListLink=ListLink("/rsps", RESPONSE_SETS),
            TimeLink=Link("/tm"),
        )
    f = assignment["id"]
    der = _count(app, "SELECT count(*) FROM program_fsa WHERE fsa_id = ?", (f,))
    return FunctionSetAssignments(
        href=f"/edev/{e}/fsa/{f}",
        mRID=mrid(app.config.pen, "fsa", assignment["name"], row["lfdi"]),
        description=assignment["name"][:32],
        DERProgramListLink=ListLink(f"/edev/{e}/fsa/{f}/derp", der),
        ResponseSetListLink=ListLink("/rsps", RESPONSE_SETS),
        TimeLink=Link("/tm"),
    )


def fsa_list(app: Headend, req: Request, e: int) -> Reply:
    row = app.own_device(req, e)
    if row["lfdi"] in app.aggregators:
        raise HttpError(404, f"an aggregator's EndDevice has no FunctionSetAssignments (/edev/{e}/fsa)")
    items, total = window(_assignments(app), page(req.query, app.config.default_list_limit))
    return Reply.of(
        FunctionSetAssignmentsList(
            all=total,
            results=len(items),
            href=f"/edev/{e}/fsa",
            subscribable=1,
            pollRate=app.poll_rate("FunctionSetAssignmentsList"),
            FunctionSetAssignments=[_fsa(app, row, a) for a in items],
        )
    )


def fsa(app: Headend, req: Request, e: int, f: int) -> Reply:
    row = app.own_device(req, e)
    assignments = {0 if a is None else a["id"]: a for a in _assignments(app)}
    if f not in assignments:
        raise HttpError(404, f"no FunctionSetAssignments {f}")
    return Reply.of(_fsa(app, row, assignments[f]))


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

"""Utility events: DemandResponsePrograms with EndDeviceControls, DERPrograms with DERControls, and the
ResponseSets meters reply to. Every list is scoped to the requesting device: each device sees its own controls."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.gateway.utility import SCENARIO_CURVE_MODES, UtilityEvent, events
from amiscen.sep import constants as c
from amiscen.sep.ids import mrid
from amiscen.sep.model.common import ActivePower, DateTimeInterval, EventStatus, Link, ListLink, Resource, scaled
from amiscen.sep.model.events import (
    CURVE_MODES,
    RECORD_TYPES,
    CurveData,
    DefaultDERControl,
    DemandResponseProgram,
    DemandResponseProgramList,
    DERControl,
    DERControlBase,
    DERControlList,
    DERCurve,
    DERCurveList,
    DERProgram,
    DERProgramList,
    EndDeviceControl,
    EndDeviceControlList,
    FixedVar,
    Offset,
    PowerFactorWithExcitation,
    ReactivePower,
    TargetReduction,
)
from amiscen.sep.model.misc import Response, ResponseList, ResponseSet, ResponseSetList

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend

SETS = {0: ("dr", "DR responses"), 1: ("der", "DER control responses"), 2: ("flow", "flow reservation responses")}
SET_OF_KIND = {kind: s for s, (kind, _) in SETS.items()}
REQUIRED = int(c.ResponseRequired.RECEIVED | c.ResponseRequired.SPECIFIC)
VALID_STATUS = frozenset(int(s) for s in c.ResponseStatus)


def register(app: Headend) -> None:
    r = app.router
    r.add("/dr", GET=dr_program_list)
    r.add("/dr/{p}", GET=dr_program)
    r.add("/dr/{p}/edc", GET=lambda a, q, p: control_list(a, q, "dr", p, False))
    r.add("/dr/{p}/actedc", GET=lambda a, q, p: control_list(a, q, "dr", p, True))
    r.add("/dr/{p}/edc/{n}", GET=lambda a, q, p, n: control(a, q, "dr", p, n))
    r.add("/derp", GET=der_program_list)
    r.add("/derp/{p}", GET=der_program)
    r.add("/derp/{p}/derc", GET=lambda a, q, p: control_list(a, q, "der", p, False))
    r.add("/derp/{p}/actderc", GET=lambda a, q, p: control_list(a, q, "der", p, True))
    r.add("/derp/{p}/derc/{n}", GET=lambda a, q, p, n: control(a, q, "der", p, n))
    r.add("/derp/{p}/dderc", GET=default_der_control)
    r.add("/derp/{p}/dc", GET=curve_list)
    r.add("/derp/{p}/dc/{n}", GET=curve)
    # the same DER programs as each EndDevice sees them, under its own URL (its FunctionSetAssignments link
    # here): another client's controls are then another client's resources, refused with 403 (CSIP-AUS)
    r.add("/edev/{e}/derp", GET=_scoped(der_program_list))
    r.add("/edev/{e}/fsa/{f}/derp", GET=_scoped(der_program_list))
    r.add("/edev/{e}/derp/{p}", GET=_scoped(der_program))
    r.add("/edev/{e}/derp/{p}/derc", GET=_scoped(lambda a, q, p, base: control_list(a, q, "der", p, False, base)))
    r.add("/edev/{e}/derp/{p}/actderc", GET=_scoped(lambda a, q, p, base: control_list(a, q, "der", p, True, base)))
    r.add("/edev/{e}/derp/{p}/derc/{n}", GET=_scoped(lambda a, q, p, n, base: control(a, q, "der", p, n, base)))
    r.add("/edev/{e}/derp/{p}/dderc", GET=_scoped(default_der_control))
    r.add("/edev/{e}/derp/{p}/dc", GET=_scoped(curve_list))
    r.add("/edev/{e}/derp/{p}/dc/{n}", GET=_scoped(curve))
    r.add("/rsps", GET=response_set_list)
    r.add("/rsps/{s}", GET=response_set)
    r.add("/rsps/{s}/rsp", GET=response_list, POST=create_response)
    r.add("/rsps/{s}/rsp/{n}", GET=response)


def _scoped(handler: Callable[..., Reply]) -> Callable[..., Reply]:
    """A handler answered for EndDevice {e}, as that device sees it, under /edev/{e} (403 unless the requester
    is that device or its aggregator)."""

    def scoped(app: Headend, req: Request, e: int, **params: int) -> Reply:
        row = app.own_device(req, e)
        device = dataclasses.replace(req, lfdi=row["lfdi"], meter_id=row["meter_id"])
        return handler(app, device, base=f"/edev/{e}", **params)

    return scoped


def _programs(app: Headend, kind: str) -> list[Any]:
    return app.store.all("SELECT * FROM program WHERE kind = ? ORDER BY id", (kind,))


def _program(app: Headend, kind: str, p: int) -> Any:
    row = app.store.one("SELECT * FROM program WHERE kind = ? AND id = ?", (kind, p))
    if row is None:
        raise HttpError(404, f"no {'DemandResponseProgram' if kind == 'dr' else 'DERProgram'} {p}")
    return row


def _mine(app: Headend, req: Request, kind: str, program: str, active_only: bool) -> list[UtilityEvent]:
    now = app.clock.now()
    return [
        e
        for e in events(app.store, kind)
        if e.program == program and e.applies_to(req.meter_id) and e.visible(now) and (e.active(now) or not active_only)
    ]


def _counts(app: Headend, req: Request, kind: str, program: str) -> tuple[int, int]:
    return len(_mine(app, req, kind, program, False)), len(_mine(app, req, kind, program, True))


def _dr_program(app: Headend, req: Request, row: Any) -> DemandResponseProgram:
    p = row["id"]
    total, active = _counts(app, req, "dr", row["name"])
    return DemandResponseProgram(
        href=f"/dr/{p}",
        mRID=mrid(app.config.pen, "drp", row["name"]),
        description=row["name"][:32],
        primacy=row["primacy"],
        ActiveEndDeviceControlListLink=ListLink(f"/dr/{p}/actedc", active),
        EndDeviceControlListLink=ListLink(f"/dr/{p}/edc", total),
    )


def _der_program(app: Headend, req: Request, row: Any, base: str = "") -> DERProgram:
    p = row["id"]
    total, active = _counts(app, req, "der", row["name"])
    return DERProgram(
        href=f"{base}/derp/{p}",
        mRID=mrid(app.config.pen, "derp", row["name"]),
        description=row["name"][:32],
        primacy=row["primacy"],
        ActiveDERControlListLink=ListLink(f"{base}/derp/{p}/actderc", active),
        DefaultDERControlLink=Link(f"{base}/derp/{p}/dderc"),
        DERControlListLink=ListLink(f"{base}/derp/{p}/derc", total),
        DERCurveListLink=ListLink(f"{base}/derp/{p}/dc", _count_curves(app, p)),
    )


def dr_program_list(app: Headend, req: Request) -> Reply:
    items, total = window(_programs(app, "dr"), page(req.query, app.config.default_list_limit))
    return Reply.of(
        DemandResponseProgramList(
            all=total,
            results=len(items),
            href="/dr",
            subscribable=1,
            pollRate=app.poll_rate("DemandResponseProgramList"),
            DemandResponseProgram=[_dr_program(app, req, r) for r in items],
        )
    )


def dr_program(app: Headend, req: Request, p: int) -> Reply:
    return Reply.of(_dr_program(app, req, _program(app, "dr", p)))


def der_program_list(app: Headend, req: Request, base: str = "", f: int | None = None) -> Reply:
    """The DER programs: all of them, or those of FunctionSetAssignments ``f``."""
    programs = _programs(app, "der")
    if f is not None:
        mine = {r[0] for r in app.store.all("SELECT program_id FROM program_fsa WHERE fsa_id = ?", (f,))}
        if app.store.one("SELECT id FROM fsa WHERE id = ?", (f,)) is None:
            raise HttpError(404, f"no FunctionSetAssignments {f}")
        programs = [p for p in programs if p["id"] in mine]
    items, total = window(programs, page(req.query, app.config.default_list_limit))
    return Reply.of(
        DERProgramList(
            all=total,
            results=len(items),
            href=f"{base}/derp" if f is None else f"{base}/fsa/{f}/derp",
            subscribable=1,
            pollRate=app.poll_rate("DERProgramList"),
            DERProgram=[_der_program(app, req, r, base) for r in items],
        )
    )


def der_program(app: Headend, req: Request, p: int, base: str = "") -> Reply:
    return Reply.of(_der_program(app, req, _program(app, "der", p), base))


def _base(spec: dict[str, Any]) -> DERControlBase:
    control = spec["control"]
    kind = control["type"]
    if kind == "curtail":
        return DERControlBase(opModMaxLimW=round(control["max_w_percent"] * 100))
    if kind == "fixed_w":
        return DERControlBase(opModFixedW=round(control["percent"] * 100))
    if kind == "target_w":
        return DERControlBase(opModTargetW=ActivePower.of_watts(control["kw"] * 1000))
    if kind == "envelope":  # the scenario's kW limits, as the same fields in W
        fields = {name: control[key] * 1000 for key, name in ENVELOPE_FIELDS.items() if control.get(key) is not None}
        return _fields_base(fields)
    if kind == "fixed_pf":
        pf = PowerFactorWithExcitation(round(control["power_factor"] * 100), bool(control["absorbing"]), -2)
        return DERControlBase(opModFixedPFInjectW=pf, opModFixedPFAbsorbW=pf)
    if kind == "fixed_var":
        return DERControlBase(opModFixedVar=FixedVar(2, round(control["percent"] * 100)))
    if kind == "curve":  # the DERCurve was stored when the event was published (utility.publish)
        link: dict[str, Any] = {SCENARIO_CURVE_MODES[control["mode"]]: Link(control["href"])}
        return DERControlBase(**link)
    if kind == "base":  # any DERControlBase fields, in 2030.5's own units (`amiscen event add` builds these)
        return _fields_base({k: v for k, v in control.items() if k != "type"})
    return DERControlBase(opModConnect=bool(control["connected"]))


ENVELOPE_FIELDS = {
    "import_kw": "opModImpLimW",
    "export_kw": "opModExpLimW",
    "generation_kw": "opModGenLimW",
    "load_kw": "opModLoadLimW",
}
WATT_FIELDS = {"opModTargetW", *ENVELOPE_FIELDS.values()}


def _fields_base(fields: dict[str, Any]) -> DERControlBase:
    """A DERControlBase from field values in 2030.5's units: powers in W and var, power factors and fixed var as
    their parts, curve modes as the href of their DERCurve."""
    values: dict[str, Any] = {}
    for k, v in fields.items():
        if v is None:
            continue
        if k in WATT_FIELDS:
            v = ActivePower.of_watts(v)
        elif k == "opModTargetVar":
            v = ReactivePower(*scaled(v, -32768, 32767))
        elif k in RECORD_TYPES:
            v = RECORD_TYPES[k](**v)
        elif k in CURVE_MODES:
            v = Link(v)
        values[k] = v
    return DERControlBase(**values)


def _count_curves(app: Headend, p: int) -> int:
    return int(app.store.scalar("SELECT count(*) FROM der_curve WHERE program_id = ?", (p,)) or 0)


def _curve(app: Headend, row: Any, base: str) -> DERCurve:
    spec = json.loads(row["spec"])
    return DERCurve(
        href=f"{base}/derp/{row['program_id']}/dc/{row['id']}",
        mRID=mrid(app.config.pen, "dc", str(row["program_id"]), str(row["id"])),
        description=spec["mode"][:32],
        creationTime=row["created"],
        CurveData=[CurveData(xvalue=x, yvalue=y) for x, y in spec["points"]],
        curveType=CURVE_MODES[spec["mode"]],
        xMultiplier=spec["x_multiplier"],
        yMultiplier=spec["y_multiplier"],
        yRefType=spec["y_ref"],
    )


def curve_list(app: Headend, req: Request, p: int, base: str = "") -> Reply:
    _program(app, "der", p)
    rows = app.store.all("SELECT * FROM der_curve WHERE program_id = ? ORDER BY id", (p,))
    items, total = window(rows, page(req.query, app.config.default_list_limit))
    return Reply.of(
        DERCurveList(
            all=total, results=len(items), href=f"{base}/derp/{p}/dc", DERCurve=[_curve(app, r, base) for r in items]
        )
    )


def curve(app: Headend, req: Request, p: int, n: int, base: str = "") -> Reply:
    row = app.store.one("SELECT * FROM der_curve WHERE program_id = ? AND id = ?", (p, n))
    if row is None:
        raise HttpError(404, f"no DERCurve {n} in DERProgram {p}")
    return Reply.of(_curve(app, row, base))


def _status(app: Headend, req: Request, e: UtilityEvent, now: float, peers: list[UtilityEvent] | None) -> EventStatus:
    """An event's status for this device: superseded (4) once a later event of its program overlaps it."""
    if peers is None:
        peers = [x for x in events(app.store, e.kind) if x.applies_to(req.meter_id)]
    winner = e.superseded_by(peers, now)
    if winner is not None:
        return EventStatus(int(c.EventStatusCode.SUPERSEDED), winner.created)
    return e.status(now)


def _control(
    app: Headend, req: Request, e: UtilityEvent, p: int, base: str = "", peers: list[UtilityEvent] | None = None
) -> EndDeviceControl | DERControl:
    now = app.clock.now()
    common: dict[str, Any] = {
        "mRID": e.device_mrid(app.config.pen, req.lfdi),
        "description": e.event_id[:32],
        "creationTime": e.created,
        "EventStatus": _status(app, req, e, now, peers),
        "interval": DateTimeInterval(e.duration, e.start),
        "randomizeStart": e.randomize_start or None,
        "randomizeDuration": e.randomize_duration or None,
        "replyTo": f"/rsps/{SET_OF_KIND[e.kind]}/rsp",
        "responseRequired": REQUIRED if e.response_required else 0,
    }
    if e.kind == "der":
        return DERControl(href=f"{base}/derp/{p}/derc/{e.row_id}", DERControlBase=_base(e.spec), **common)
    share = e.spec.get("shares", {}).get(req.meter_id)
    return EndDeviceControl(
        href=f"/dr/{p}/edc/{e.row_id}",
        deviceCategory=int(c.CAMPUS_LOAD_CATEGORY),
        drProgramMandatory=bool(e.spec.get("mandatory", False)),
        loadShiftForward=False,
        TargetReduction=_target(share) if share is not None else None,
        Offset=Offset(round(e.spec["percent"] * 100)) if "percent" in e.spec else None,
        **common,
    )


def _target(share_kw: float) -> TargetReduction:
    """A meter's share of a kW target: in watts while a UInt16 holds it (a 0.4 kW share sent in whole kW was 0,
    and shed nothing), in kW above 65.535 kW."""
    watts = round(share_kw * 1000)
    if watts <= 65535:
        return TargetReduction(int(c.UnitType.WATTS), watts)
    return TargetReduction(int(c.UnitType.KW), min(65535, round(share_kw)))


def control_list(app: Headend, req: Request, kind: str, p: int, active_only: bool, base: str = "") -> Reply:
    row = _program(app, kind, p)
    app.requester_device(req)
    items, total = window(
        _mine(app, req, kind, row["name"], active_only), page(req.query, app.config.default_list_limit)
    )
    peers = [x for x in events(app.store, kind) if x.applies_to(req.meter_id)]  # read once for the page
    controls = [_control(app, req, e, p, base, peers) for e in items]
    if kind == "dr":
        edcs = [x for x in controls if isinstance(x, EndDeviceControl)]
        href = f"/dr/{p}/{'actedc' if active_only else 'edc'}"
        return Reply.of(
            EndDeviceControlList(all=total, results=len(items), href=href, subscribable=1, EndDeviceControl=edcs)
        )
    dercs = [x for x in controls if isinstance(x, DERControl)]
    href = f"{base}/derp/{p}/{'actderc' if active_only else 'derc'}"
    return Reply.of(DERControlList(all=total, results=len(items), href=href, subscribable=1, DERControl=dercs))


def control(app: Headend, req: Request, kind: str, p: int, n: int, base: str = "") -> Reply:
    row = _program(app, kind, p)
    app.requester_device(req)
    for e in _mine(app, req, kind, row["name"], False):
        if e.row_id == n:
            return Reply.of(_control(app, req, e, p, base))
    raise HttpError(404, f"no control {n} for {req.meter_id} in program {p}")


def default_der_control(app: Headend, req: Request, p: int, base: str = "") -> Reply:
    """The program's DefaultDERControl: what the operator set (`Operator.set_default_der_control`), else no
    curtailment."""
    row = _program(app, "der", p)
    stored = app.store.one("SELECT fields, changed FROM default_control WHERE program_id = ?", (p,))
    if stored is None:
        names, description, grad = [row["name"]], "no curtailment", None
        control = DERControlBase(opModConnect=True, opModMaxLimW=10000)
    else:
        fields = json.loads(stored["fields"])
        names, description, grad = (
            [row["name"], str(stored["changed"])],
            "operator default",
            fields.pop("setGradW", None),
        )
        control = _fields_base(fields)
    return Reply.of(
        DefaultDERControl(
            href=f"{base}/derp/{p}/dderc",
            subscribable=1,
            mRID=mrid(app.config.pen, "dderc", *names),
            description=description,
            DERControlBase=control,
            setGradW=grad,
        )
    )


def _count_responses(app: Headend, req: Request, s: int) -> int:
    """What the requester's ResponseList holds (a device sees its own Responses)."""
    where, args = app.acts_for_sql(req)
    return int(app.store.scalar(f"SELECT count(*) FROM response WHERE set_id = ? AND {where}", (s, *args)) or 0)


def _response_set(app: Headend, req: Request, s: int) -> ResponseSet:
    """A ResponseSet; its ResponseListLink carries ``all``, as 2030.5 requires of a link to a local list."""
    return ResponseSet(
        href=f"/rsps/{s}",
        mRID=mrid(32473, "rsps", str(s)),
        description=SETS[s][1][:32],
        ResponseListLink=ListLink(f"/rsps/{s}/rsp", _count_responses(app, req, s)),
    )


def response_set_list(app: Headend, req: Request) -> Reply:
    items, total = window(sorted(SETS), page(req.query, app.config.default_list_limit))
    return Reply.of(
        ResponseSetList(
            all=total,
            results=len(items),
            href="/rsps",
            pollRate=app.poll_rate("ResponseSetList"),
            ResponseSet=[_response_set(app, req, s) for s in items],
        )
    )


def response_set(app: Headend, req: Request, s: int) -> Reply:
    if s not in SETS:
        raise HttpError(404, f"no ResponseSet {s}")
    return Reply.of(_response_set(app, req, s))


def _response(row: Any) -> Response:
    return Response(
        href=f"/rsps/{row['set_id']}/rsp/{row['id']}",
        createdDateTime=row["created"],
        endDeviceLFDI=row["lfdi"],
        status=row["status"],
        subject=row["subject"],
    )


def response_list(app: Headend, req: Request, s: int) -> Reply:
    if s not in SETS:
        raise HttpError(404, f"no ResponseSet {s}")
    where, args = app.acts_for_sql(req)
    rows = app.store.all(f"SELECT * FROM response WHERE set_id = ? AND {where} ORDER BY id", (s, *args))
    items, total = window(rows, page(req.query, app.config.default_list_limit))
    return Reply.of(
        ResponseList(all=total, results=len(items), href=f"/rsps/{s}/rsp", Response=[_response(r) for r in items])
    )


def _subjects(app: Headend, kind: str, lfdi: str) -> set[str]:
    """The mRIDs of the controls a device was given (the subjects its Responses may name)."""
    device = app.device_row(lfdi)
    if device is None:
        return set()
    return {e.device_mrid(app.config.pen, lfdi) for e in events(app.store, kind) if e.applies_to(device["meter_id"])}


def create_response(app: Headend, req: Request, body: Resource, s: int) -> Reply:
    if s not in SETS:
        raise HttpError(404, f"no ResponseSet {s}")
    if not isinstance(body, Response):
        raise HttpError(400, f"expected a Response, got {type(body).__name__}")
    if body.status is not None and body.status not in VALID_STATUS:
        raise HttpError(400, f"Response status {body.status} is reserved (2030.5 Table 27)")
    lfdi = body.endDeviceLFDI.upper()
    if lfdi not in app.acts_for(req):
        raise HttpError(403, f"endDeviceLFDI {body.endDeviceLFDI} is not the client certificate's LFDI")
    if SETS[s][0] in ("dr", "der") and body.subject.upper() not in _subjects(app, SETS[s][0], lfdi):
        raise HttpError(400, f"subject {body.subject[:40]!r} is no {SETS[s][0].upper()} control of {lfdi}")
    app.store.execute(
        "INSERT OR IGNORE INTO response(set_id, lfdi, subject, status, created, received) VALUES (?, ?, ?, ?, ?, ?)",
        (s, lfdi, body.subject.upper(), body.status, body.createdDateTime, app.clock.now()),
    )
    row_id = app.store.scalar(
        "SELECT id FROM response WHERE set_id = ? AND lfdi = ? AND subject = ? AND status IS ?",
        (s, lfdi, body.subject.upper(), body.status),
    )
    return Reply.created(f"/rsps/{s}/rsp/{row_id}")


def response(app: Headend, req: Request, s: int, n: int) -> Reply:
    row = app.store.one("SELECT * FROM response WHERE set_id = ? AND id = ?", (s, n))
    if row is None:
        raise HttpError(404, f"no Response {n}")
    if row["lfdi"] not in app.acts_for(req):
        raise HttpError(403, f"{req.meter_id} may not read another device's Response")
    return Reply.of(_response(row))

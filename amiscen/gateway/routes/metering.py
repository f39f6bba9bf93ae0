"""Mirrored metering: meters POST MirrorUsagePoints and readings; the data reads back as UsagePoints.

Each reading is stored once, keyed by (mirror meter reading, interval start): a retried POST never double-counts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from amiscen.gateway.http import HttpError, Reply, Request, page, window
from amiscen.sep.model.common import DateTimeInterval, Link, ListLink, Resource
from amiscen.sep.model.metering import (
    MeterReading,
    MeterReadingList,
    MirrorMeterReading,
    MirrorMeterReadingList,
    MirrorUsagePoint,
    MirrorUsagePointList,
    Reading,
    ReadingList,
    ReadingSet,
    ReadingSetList,
    ReadingType,
    UsagePoint,
    UsagePointList,
)

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend

INT48_MIN, INT48_MAX = -(2**47), 2**47 - 1  # Reading.value is an Int48

log = logging.getLogger("amiscen.headend.metering")


def register(app: Headend) -> None:
    r = app.router
    r.add("/mup", GET=mirror_list, POST=create_mirror)
    r.add("/mup/{m}", GET=mirror, POST=post_reading, PUT=post_reading)
    r.add("/upt", GET=usage_point_list)
    r.add("/upt/{m}", GET=usage_point)
    r.add("/upt/{m}/mr", GET=meter_reading_list)
    r.add("/upt/{m}/mr/{r}", GET=meter_reading)
    r.add("/upt/{m}/mr/{r}/rt", GET=reading_type)
    r.add("/upt/{m}/mr/{r}/r", GET=latest_reading)
    r.add("/upt/{m}/mr/{r}/rs", GET=reading_set_list)
    r.add("/upt/{m}/mr/{r}/rs/{n}", GET=reading_set)
    r.add("/upt/{m}/mr/{r}/rs/{n}/r", GET=reading_list)


def _own_mirror(app: Headend, req: Request, m: int) -> Any:
    row = app.store.one(
        "SELECT m.*, d.lfdi, d.meter_id FROM mirror_usage_point m JOIN end_device d ON d.id = m.edev_id WHERE m.id = ?",
        (m,),
    )
    if row is None:
        raise HttpError(404, f"no MirrorUsagePoint {m}")
    if row["lfdi"] != req.lfdi and row["lfdi"] not in app.acts_for(req):
        raise HttpError(403, f"{req.meter_id} may not access MirrorUsagePoint {m} of {row['meter_id']}")
    return row


def _readings_of(app: Headend, m: int) -> list[Any]:
    return app.store.all("SELECT * FROM mirror_meter_reading WHERE mup_id = ? ORDER BY id", (m,))


def _reading_type(row: Any) -> ReadingType:
    return ReadingType(**json.loads(row["reading_type"]))


def _mirror(app: Headend, row: Any, with_readings: bool = True) -> MirrorUsagePoint:
    readings = (
        [
            MirrorMeterReading(mRID=r["mrid"], description=r["description"], ReadingType=_reading_type(r))
            for r in _readings_of(app, row["id"])
        ]
        if with_readings
        else []
    )
    return MirrorUsagePoint(
        href=f"/mup/{row['id']}", **_point(row), MirrorMeterReading=readings, postRate=row["post_rate"]
    )


def _my_mirrors(app: Headend, req: Request) -> list[Any]:
    where, args = app.acts_for_sql(req, "d.lfdi")
    return app.store.all(
        f"SELECT m.*, d.lfdi FROM mirror_usage_point m JOIN end_device d ON d.id = m.edev_id WHERE {where} "
        "ORDER BY m.id",
        args,
    )


def mirror_list(app: Headend, req: Request) -> Reply:
    items, total = window(_my_mirrors(app, req), page(req.query, app.config.default_list_limit))
    return Reply.of(
        MirrorUsagePointList(
            all=total,
            results=len(items),
            href="/mup",
            pollRate=app.poll_rate("MirrorUsagePointList"),
            MirrorUsagePoint=[_mirror(app, r) for r in items],
        )
    )


_DECLARED = "SELECT mrid, id FROM mirror_meter_reading WHERE mup_id = ?"


def _declare(app: Headend, mup: int, mmr: MirrorMeterReading) -> int:
    if mmr.ReadingType is not None:
        app.store.execute(
            "INSERT INTO mirror_meter_reading(mup_id, mrid, description, reading_type) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(mup_id, mrid) DO UPDATE SET description = excluded.description, "
            "reading_type = excluded.reading_type",
            (mup, mmr.mRID, mmr.description, json.dumps(asdict(mmr.ReadingType))),
        )
    row = app.store.one("SELECT id FROM mirror_meter_reading WHERE mup_id = ? AND mrid = ?", (mup, mmr.mRID))
    if row is None:
        raise HttpError(400, f"MirrorMeterReading {mmr.mRID} was never declared with a ReadingType")
    return int(row["id"])


def create_mirror(app: Headend, req: Request, body: Resource) -> Reply:
    if not isinstance(body, MirrorUsagePoint):
        raise HttpError(400, f"expected a MirrorUsagePoint, got {type(body).__name__}")
    if body.deviceLFDI.upper() not in app.acts_for(req):
        raise HttpError(403, f"deviceLFDI {body.deviceLFDI} is not the client certificate's LFDI {req.lfdi}")
    device = app.device_row(body.deviceLFDI.upper())
    if device is None:
        raise HttpError(403, f"{body.deviceLFDI} has no EndDevice here yet: POST one to the EndDeviceList first")
    existing = app.store.one("SELECT id, edev_id FROM mirror_usage_point WHERE mrid = ?", (body.mRID,))
    if existing is not None and existing["edev_id"] != device["id"]:
        raise HttpError(403, f"MirrorUsagePoint {body.mRID} belongs to another device")
    with app.store.transaction():
        if existing is None:
            mup = app.store.execute(
                "INSERT INTO mirror_usage_point(id, edev_id, mrid, description, role_flags, service_kind, status, "
                "post_rate) VALUES ((SELECT max(coalesce(max(id), 0) + 1, ?) FROM mirror_usage_point), "
                "?, ?, ?, ?, ?, ?, ?)",
                (
                    app.config.quirks.first_id,
                    device["id"],
                    body.mRID,
                    body.description,
                    body.roleFlags,
                    body.serviceCategoryKind,
                    body.status,
                    body.postRate or app.config.post_rate,
                ),
            )
        else:
            mup = int(existing["id"])
            app.store.execute(
                "UPDATE mirror_usage_point SET description = ?, role_flags = ?, status = ? WHERE id = ?",
                (body.description, body.roleFlags, body.status, mup),
            )
        for mmr in body.MirrorMeterReading:
            if mmr.ReadingType is None:
                raise HttpError(400, f"MirrorMeterReading {mmr.mRID} needs a ReadingType when declared")
            elsewhere = app.store.one(
                "SELECT r.mup_id FROM mirror_meter_reading r JOIN mirror_usage_point m ON m.id = r.mup_id "
                "WHERE r.mrid = ? AND m.edev_id != ?",
                (mmr.mRID, device["id"]),
            )
            if elsewhere is not None:  # an mRID names one thing: another device's reading is not this one's
                raise HttpError(403, f"MirrorMeterReading {mmr.mRID} belongs to another device's MirrorUsagePoint")
            _declare(app, mup, mmr)
    if existing is not None and app.config.quirks.mirror_upsert == 204:
        return Reply(204, headers={"Location": f"/mup/{mup}"})  # an upsert, as envoy answers it
    return Reply.created(f"/mup/{mup}")


def mirror(app: Headend, req: Request, m: int) -> Reply:
    return Reply.of(_mirror(app, _own_mirror(app, req, m)))


def post_reading(app: Headend, req: Request, body: Resource, m: int) -> Reply:
    """Store readings: a MirrorMeterReading (its MirrorReadingSets and/or single Reading), or a list of them."""
    owner = _own_mirror(app, req, m)["edev_id"]
    if isinstance(body, MirrorMeterReadingList):
        items = body.MirrorMeterReading
    elif isinstance(body, MirrorMeterReading):
        items = [body]
    else:
        raise HttpError(400, f"expected a MirrorMeterReading or MirrorMeterReadingList, got {type(body).__name__}")
    now = app.clock.now()
    rows: list[tuple[int, int, int, int | None, int | None, float]] = []
    declared: dict[str, int] | None = None  # the mirror's MirrorMeterReadings by mRID, read once per post
    for item in items:
        if item.ReadingType is not None:
            mmr = _declare(app, m, item)
            if declared is not None:
                declared[item.mRID] = mmr
        else:
            if declared is None:
                declared = {r["mrid"]: r["id"] for r in app.store.all(_DECLARED, (m,))}
            if item.mRID not in declared:
                raise HttpError(400, f"MirrorMeterReading {item.mRID} was never declared with a ReadingType")
            mmr = declared[item.mRID]
        singles = [item.Reading] if item.Reading is not None else []
        for reading in [x for s in item.MirrorReadingSet for x in s.Reading] + singles:
            if reading.value is not None and not INT48_MIN <= reading.value <= INT48_MAX:
                raise HttpError(
                    400, f"Reading value {reading.value} does not fit Int48 (MirrorMeterReading {item.mRID})"
                )
            period = reading.timePeriod or DateTimeInterval(0, int(now))
            rows.append((mmr, period.start, period.duration, reading.value, reading.qualityFlags, now))
    inserted = app.store.add_readings(rows, int(owner))
    if inserted < len(rows):  # posted again: the first value stays; a different one is kept on record and logged
        _conflicts(app, req, rows)
    return Reply.created(f"/mup/{m}")


def _conflicts(app: Headend, req: Request, rows: list[tuple[int, int, int, int | None, int | None, float]]) -> None:
    changed = []
    for mmr, start, _, value, _, now in rows:
        kept = app.store.scalar("SELECT value FROM reading WHERE mmr_id = ? AND start = ?", (mmr, start))
        if kept != value:
            changed.append((mmr, start, kept, value, now))
    if changed:
        app.store.executemany(
            "INSERT INTO reading_conflict(mmr_id, start, kept, posted, received) VALUES (?, ?, ?, ?, ?)", changed
        )
        mmr, start, kept, posted, _ = changed[0]
        log.warning(
            "%s posted %d reading(s) again with another value (MirrorMeterReading %d at %d: %s kept, %s posted); "
            "the first value stays",
            req.meter_id,
            len(changed),
            mmr,
            start,
            kept,
            posted,
        )


def _point(row: Any) -> dict[str, Any]:
    """What a MirrorUsagePoint and the UsagePoint it feeds have in common."""
    return {
        "mRID": row["mrid"],
        "description": row["description"],
        "roleFlags": row["role_flags"],
        "serviceCategoryKind": row["service_kind"],
        "status": row["status"],
        "deviceLFDI": row["lfdi"],
    }


def _usage_point(row: Any, count: int) -> UsagePoint:
    return UsagePoint(
        href=f"/upt/{row['id']}",
        **_point(row),
        MeterReadingListLink=ListLink(f"/upt/{row['id']}/mr", count),
    )


def usage_point_list(app: Headend, req: Request) -> Reply:
    items, total = window(_my_mirrors(app, req), page(req.query, app.config.default_list_limit))
    return Reply.of(
        UsagePointList(
            all=total,
            results=len(items),
            href="/upt",
            pollRate=app.poll_rate("UsagePointList"),
            UsagePoint=[_usage_point(r, len(_readings_of(app, r["id"]))) for r in items],
        )
    )


def usage_point(app: Headend, req: Request, m: int) -> Reply:
    row = _own_mirror(app, req, m)
    return Reply.of(_usage_point(row, len(_readings_of(app, m))))


def _meter_reading(m: int, index: int, row: Any) -> MeterReading:
    base = f"/upt/{m}/mr/{index}"
    return MeterReading(
        href=base,
        mRID=row["mrid"],
        description=row["description"],
        ReadingLink=Link(f"{base}/r"),
        ReadingSetListLink=ListLink(f"{base}/rs", 1),
        ReadingTypeLink=Link(f"{base}/rt"),
    )


def meter_reading_list(app: Headend, req: Request, m: int) -> Reply:
    _own_mirror(app, req, m)
    rows = list(enumerate(_readings_of(app, m)))
    items, total = window(rows, page(req.query, app.config.default_list_limit))
    return Reply.of(
        MeterReadingList(
            all=total, results=len(items), href=f"/upt/{m}/mr", MeterReading=[_meter_reading(m, i, r) for i, r in items]
        )
    )


def _nth_reading(app: Headend, req: Request, m: int, r: int) -> Any:
    _own_mirror(app, req, m)
    rows = _readings_of(app, m)
    if not 0 <= r < len(rows):
        raise HttpError(404, f"no MeterReading {r}")
    return rows[r]


def meter_reading(app: Headend, req: Request, m: int, r: int) -> Reply:
    return Reply.of(_meter_reading(m, r, _nth_reading(app, req, m, r)))


def reading_type(app: Headend, req: Request, m: int, r: int) -> Reply:
    row = _nth_reading(app, req, m, r)
    rt = _reading_type(row)
    return Reply.of(ReadingType(**{**asdict(rt), "href": f"/upt/{m}/mr/{r}/rt"}))


def _reading(x: Any) -> Reading:
    return Reading(qualityFlags=x["quality"], timePeriod=DateTimeInterval(x["duration"], x["start"]), value=x["value"])


def latest_reading(app: Headend, req: Request, m: int, r: int) -> Reply:
    row = _nth_reading(app, req, m, r)
    latest = app.store.one("SELECT * FROM reading WHERE mmr_id = ? ORDER BY start DESC LIMIT 1", (row["id"],))
    if latest is None:
        raise HttpError(404, f"no Reading stored for MeterReading {r} yet")
    return Reply.of(replace(_reading(latest), href=f"/upt/{m}/mr/{r}/r"))


def _reading_set(app: Headend, m: int, r: int, row: Any) -> ReadingSet:
    """One ReadingSet per MeterReading: every reading stored for it."""
    span = app.store.one(
        "SELECT min(start), max(start + duration), count(*) FROM reading WHERE mmr_id = ?", (row["id"],)
    )
    assert span is not None  # an aggregate always returns a row
    first, last, count = span
    start = int(first or 0)
    return ReadingSet(
        href=f"/upt/{m}/mr/{r}/rs/0",
        mRID=row["mrid"],
        description="all readings",
        timePeriod=DateTimeInterval(int((last or start) - start), start),
        ReadingListLink=ListLink(f"/upt/{m}/mr/{r}/rs/0/r", int(count)),
    )


def reading_set_list(app: Headend, req: Request, m: int, r: int) -> Reply:
    row = _nth_reading(app, req, m, r)
    items, total = window([_reading_set(app, m, r, row)], page(req.query, app.config.default_list_limit))
    return Reply.of(ReadingSetList(all=total, results=len(items), href=f"/upt/{m}/mr/{r}/rs", ReadingSet=items))


def reading_set(app: Headend, req: Request, m: int, r: int, n: int) -> Reply:
    row = _nth_reading(app, req, m, r)
    if n != 0:
        raise HttpError(404, f"no ReadingSet {n}")
    return Reply.of(_reading_set(app, m, r, row))


def reading_list(app: Headend, req: Request, m: int, r: int, n: int) -> Reply:
    """Stored readings, newest first; ``a`` filters by interval start."""
    row = _nth_reading(app, req, m, r)
    if n != 0:
        raise HttpError(404, f"no ReadingSet {n}")
    p = page(req.query, app.config.default_list_limit)
    where, args = "mmr_id = ?", [row["id"]]
    if p.after is not None:
        where, args = where + " AND start > ?", [*args, p.after]
    total = int(app.store.scalar(f"SELECT count(*) FROM reading WHERE {where}", args))
    rows = app.store.all(
        f"SELECT * FROM reading WHERE {where} ORDER BY start DESC LIMIT ? OFFSET ?", [*args, p.limit, p.start]
    )
    return Reply.of(
        ReadingList(all=total, results=len(rows), href=f"/upt/{m}/mr/{r}/rs/0/r", Reading=[_reading(x) for x in rows])
    )

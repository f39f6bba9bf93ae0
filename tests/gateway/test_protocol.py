"""The head-end is strict about the standard: content types, methods, paths, bodies, lists, Location, dedup."""

from __future__ import annotations

import pytest

from amiscen.gateway.utility import UtilityEvent, publish
from amiscen.sep import constants as c
from amiscen.sep.model.common import DateTimeInterval
from amiscen.sep.model.device import EndDevice, EndDeviceList, Time
from amiscen.sep.model.events import DemandResponseProgramList, EndDeviceControlList
from amiscen.sep.model.metering import MirrorMeterReading, MirrorReadingSet, MirrorUsagePoint, Reading, ReadingType
from amiscen.sep.parse import parse_as
from amiscen.sep.render import render_bytes

from ..fixtures import METERS, T0, Running


def _register(h: Running, meter_id: str) -> str:
    ident = h.identity(meter_id)
    x = h.session(meter_id).send(
        "POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
    )
    return x.header("Location")


def test_wrong_content_type_is_415(headend: Running) -> None:
    import http.client
    from urllib.parse import urlsplit

    session = headend.session(METERS[0])
    where = urlsplit(session.base_url)
    connection = http.client.HTTPSConnection(where.hostname or "", where.port, context=session.context)
    connection.request("POST", "/edev", b"<EndDevice/>", {"Content-Type": "text/xml"})
    x = connection.getresponse()
    assert x.status == 415
    assert b"<reasonCode>0</reasonCode>" in x.read()
    connection.close()


def test_unknown_path_404_and_wrong_method_405(headend: Running) -> None:
    session = headend.session(METERS[0])
    assert session.send("GET", "/nowhere").status == 404
    x = session.send("DELETE", "/dcap")
    assert x.status == 405


def test_malformed_body_is_400_with_error(headend: Running) -> None:
    x = headend.session(METERS[0]).send("POST", "/edev", b"<EndDevice xmlns='urn:ieee:std:2030.5:ns'><sFDI>x")
    assert x.status == 400 and b"<Error" in x.response_body
    reason = headend.app.store.scalar("SELECT reason FROM rejection")
    assert reason.startswith("invalid body: malformed XML")


def test_time_resource(headend: Running) -> None:
    headend.clock.advance_to(T0 + 3600)
    x = headend.session(METERS[0]).send("GET", "/tm")
    tm = parse_as(x.response_body, Time)
    assert tm.currentTime == T0 + 3600 and tm.quality == c.TimeQuality.INTENTIONALLY_UNCOORDINATED


def test_create_returns_location_and_lists_page(headend: Running) -> None:
    location = _register(headend, METERS[0])
    assert location.startswith("/edev/")
    session = headend.session(METERS[0])
    default = parse_as(session.send("GET", "/edev").response_body, EndDeviceList)
    assert (default.all, default.results) == (1, 1)
    empty = parse_as(session.send("GET", "/edev", params={"s": 1, "l": 10}).response_body, EndDeviceList)
    assert (empty.all, empty.results, empty.EndDevice) == (1, 0, [])


def _mirror_point(lfdi: str, mup: str, mmr: str, rt: ReadingType) -> MirrorUsagePoint:
    return MirrorUsagePoint(
        mRID=mup,
        roleFlags=0x13,
        serviceCategoryKind=0,
        status=1,
        deviceLFDI=lfdi,
        MirrorMeterReading=[MirrorMeterReading(mRID=mmr, description="import", ReadingType=rt)],
    )


def _mirror(h: Running, meter_id: str) -> tuple[str, str]:
    _register(h, meter_id)
    ident = h.identity(meter_id)
    rt = ReadingType(
        uom=int(c.Uom.WH), kind=int(c.Kind.ENERGY), flowDirection=1, accumulationBehaviour=4, intervalLength=15
    )
    mup = _mirror_point(ident.lfdi, "AB" * 16, "CD" * 16, rt)
    x = h.session(meter_id).send("POST", "/mup", render_bytes(mup))
    assert x.status == 201
    return x.header("Location"), "CD" * 16


def _four_readings(mmr: str) -> bytes:
    return render_bytes(
        MirrorMeterReading(
            mRID=mmr,
            MirrorReadingSet=[
                MirrorReadingSet(
                    mRID="EF" * 16,
                    timePeriod=DateTimeInterval(60, T0),
                    Reading=[Reading(value=i, timePeriod=DateTimeInterval(15, T0 + 15 * i)) for i in range(4)],
                )
            ],
        )
    )


def test_retried_readings_are_stored_once(headend: Running) -> None:
    location, mmr = _mirror(headend, METERS[0])
    body = _four_readings(mmr)
    session = headend.session(METERS[0])
    assert session.send("POST", location, body).status == 201
    assert session.send("POST", location, body).status == 201  # a retry after a lost response
    assert headend.app.store.scalar("SELECT count(*) FROM reading") == 4


def test_a_reading_posted_again_with_another_value_is_kept_on_record(
    headend: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """issue #17: the first value stays (201, as for a retry), but a changed one is no longer dropped without a
    trace: it is kept in reading_conflict and logged."""
    location, mmr = _mirror(headend, METERS[2])
    session = headend.session(METERS[2])
    assert session.send("POST", location, _four_readings(mmr)).status == 201
    changed = _four_readings(mmr).replace(b"<value>3</value>", b"<value>99</value>")
    with caplog.at_level("WARNING", logger="amiscen.headend.metering"):
        assert session.send("POST", location, changed).status == 201
    store = headend.app.store
    assert store.scalar("SELECT value FROM reading WHERE start = ?", (T0 + 45,)) == 3
    assert [tuple(r) for r in store.all("SELECT start, kept, posted FROM reading_conflict")] == [(T0 + 45, 3, 99)]
    assert "posted 1 reading(s) again with another value" in caplog.text
    assert session.send("POST", location, _four_readings(mmr)).status == 201  # the same values again: no conflict
    assert store.scalar("SELECT count(*) FROM reading_conflict") == 1


def test_another_meter_cannot_post_into_my_mirror(headend: Running) -> None:
    location, mmr = _mirror(headend, METERS[0])
    _register(headend, METERS[1])
    body = render_bytes(MirrorMeterReading(mRID=mmr, Reading=Reading(value=1, timePeriod=DateTimeInterval(15, T0))))
    assert headend.session(METERS[1]).send("POST", location, body).status == 403
    assert headend.app.store.scalar("SELECT count(*) FROM reading") == 0


def test_a_reading_that_does_not_fit_int48_is_refused_and_nothing_is_stored(headend: Running) -> None:
    location, mmr = _mirror(headend, METERS[0])
    big = render_bytes(MirrorMeterReading(mRID=mmr, Reading=Reading(value=2**47, timePeriod=DateTimeInterval(15, T0))))
    x = headend.session(METERS[0]).send("POST", location, big)
    assert x.status == 400 and headend.app.store.scalar("SELECT count(*) FROM reading") == 0
    assert "Int48" in headend.app.store.scalar("SELECT reason FROM rejection")


def test_another_device_reading_mrid_cannot_be_declared_in_my_mirror(headend: Running) -> None:
    """mRIDs are globally unique: a MirrorMeterReading mRID of meter 0's mirror is refused in meter 1's."""
    _, mmr = _mirror(headend, METERS[0])
    _register(headend, METERS[1])
    ident = headend.identity(METERS[1])
    rt = ReadingType(uom=int(c.Uom.W), kind=int(c.Kind.POWER), flowDirection=1)
    mup = _mirror_point(ident.lfdi, "12" * 16, mmr, rt)
    assert headend.session(METERS[1]).send("POST", "/mup", render_bytes(mup)).status == 403
    assert headend.app.store.scalar("SELECT count(*) FROM mirror_usage_point") == 1  # the refused one is not kept


def test_dr_event_status_follows_the_simulated_clock(headend: Running) -> None:
    _register(headend, METERS[0])
    publish(
        headend.app.store,
        [
            UtilityEvent(
                kind="dr",
                event_id="DR1",
                program="p",
                primacy=0,
                start=T0 + 3600,
                duration=1800,
                spec={"shares": {METERS[0]: 50.0}},
                targets=[METERS[0]],
                created=T0,
            )
        ],
    )
    session = headend.session(METERS[0])
    programs = parse_as(session.send("GET", "/dr", params={"s": 0, "l": 10}).response_body, DemandResponseProgramList)
    edc_link = programs.DemandResponseProgram[0].EndDeviceControlListLink
    assert edc_link is not None

    def status() -> int:
        page = parse_as(
            session.send("GET", edc_link.href, params={"s": 0, "l": 10}).response_body, EndDeviceControlList
        )
        (control,) = page.EndDeviceControl
        target = control.TargetReduction  # 50 kW: in watts, which a UInt16 holds up to 65.535 kW
        assert target is not None and (target.type, target.value) == (2, 50_000)
        return control.EventStatus.currentStatus

    assert status() == c.EventStatusCode.SCHEDULED
    headend.clock.advance_to(T0 + 3700)
    assert status() == c.EventStatusCode.ACTIVE
    # a meter that is not targeted sees nothing
    _register(headend, METERS[1])
    other = parse_as(headend.session(METERS[1]).send("GET", edc_link.href).response_body, EndDeviceControlList)
    assert other.all == 0


def test_stored_readings_are_found_by_following_links(headend: Running) -> None:
    from amiscen.sep.model.metering import MeterReadingList, ReadingList, ReadingSetList, UsagePointList

    location, mmr = _mirror(headend, METERS[0])
    body = _four_readings(mmr)
    session = headend.session(METERS[0])
    assert session.send("POST", location, body).status == 201
    page = {"s": 0, "l": 50}
    ups = parse_as(session.send("GET", "/upt", params=page).response_body, UsagePointList)
    mr_link = ups.UsagePoint[0].MeterReadingListLink
    assert mr_link is not None
    mrs = parse_as(session.send("GET", mr_link.href, params=page).response_body, MeterReadingList)
    sets_link = mrs.MeterReading[0].ReadingSetListLink
    assert sets_link is not None
    sets = parse_as(session.send("GET", sets_link.href, params=page).response_body, ReadingSetList)
    readings_link = sets.ReadingSet[0].ReadingListLink
    assert readings_link is not None and readings_link.all == 4
    readings = parse_as(session.send("GET", readings_link.href, params=page).response_body, ReadingList)
    assert [r.value for r in readings.Reading] == [3, 2, 1, 0]  # newest first


def test_http_semantics_head_allow_options_and_no_201_for_an_update(headend: Running) -> None:
    """issue #15: HEAD is GET without the body, 405 names what is allowed, PATCH/OPTIONS/TRACE get a 2030.5
    answer rather than an HTML 501, and re-POSTing an existing EndDevice creates nothing (204 + Location)."""
    location = _register(headend, METERS[0])
    session = headend.session(METERS[0])
    head = session.send("HEAD", "/dcap")
    assert head.status == 200 and head.response_body == b""
    refused = session.send("DELETE", "/dcap")
    assert refused.status == 405 and refused.header("Allow") == "GET, HEAD, OPTIONS"
    for method in ("PATCH", "TRACE"):
        x = session.send(method, "/edev")
        assert x.status == 405 and b"<Error" in x.response_body and x.header("Allow") == "GET, HEAD, OPTIONS, POST"
    options = session.send("OPTIONS", "/edev")
    assert options.status == 204 and options.header("Allow") == "GET, HEAD, OPTIONS, POST"
    ident = headend.identity(METERS[0])
    again = session.send("POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0)))
    assert again.status == 204 and again.header("Location") == location


def test_der_singletons_come_back_as_our_document_with_href(headend: Running) -> None:
    """issue #15: GET of a DER singleton gives a document with its href, never the client's bytes verbatim."""
    location = _register(headend, METERS[0])
    session = headend.session(METERS[0])
    path = f"{location}/der/0/ders"
    body = (
        b'<DERStatus xmlns="urn:ieee:std:2030.5:ns" xmlns:x="urn:example:other"><readingTime>5</readingTime>'
        b"<x:secret>foreign</x:secret></DERStatus>"
    )
    assert session.send("PUT", path, body).status == 204
    got = session.send("GET", path)
    assert got.status == 200 and f'href="{path}"'.encode() in got.response_body
    assert b"foreign" not in got.response_body and b"<readingTime>5</readingTime>" in got.response_body


def test_response_list_link_carries_all(headend: Running) -> None:
    _register(headend, METERS[0])
    got = headend.session(METERS[0]).send("GET", "/rsps/1")
    assert b'<ResponseListLink href="/rsps/1/rsp" all="0"/>' in got.response_body

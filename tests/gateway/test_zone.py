"""The Time resource across a DST change: tzOffset excludes DST; dstOffset and the window follow the zone's rules for
the current year, and localTime moves by an hour exactly at the change (issue #15)."""

from __future__ import annotations

import datetime as dt

from amiscen.gateway.zone import zone_time

CHANGE = int(dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.timezone.utc).timestamp())  # Berlin: 03:00 CEST -> 02:00 CET
SPRING = int(dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.timezone.utc).timestamp())


def test_berlin_before_and_after_the_october_change() -> None:
    before, after = zone_time("Europe/Berlin", CHANGE - 1), zone_time("Europe/Berlin", CHANGE)
    for z in (before, after):
        assert (z.tz_offset, z.dst_offset, z.dst_start, z.dst_end) == (3600, 3600, SPRING, CHANGE)
    assert before.local_time == CHANGE - 1 + 7200 and after.local_time == CHANGE + 3600


def test_a_zone_without_dst() -> None:
    z = zone_time("Asia/Bangkok", CHANGE)
    assert (z.tz_offset, z.dst_offset, z.dst_start, z.dst_end, z.local_time) == (25200, 0, 0, 0, CHANGE + 25200)


def test_southern_hemisphere_dst_spans_the_new_year() -> None:
    z = zone_time("Australia/Sydney", int(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc).timestamp()))
    assert z.tz_offset == 36000 and z.dst_offset == 3600 and z.dst_end < z.dst_start  # April end, October start
    assert z.local_time - int(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc).timestamp()) == 39600

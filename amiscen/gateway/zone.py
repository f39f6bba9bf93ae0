"""The Time resource's zone fields from the site's time zone rules (2030.5 Time): tzOffset is the standard offset
(it excludes DST), dstOffset the DST shift the zone uses this year, dstStartTime and dstEndTime that year's
changes; localTime adds dstOffset only between them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


@dataclass(frozen=True)
class ZoneTime:
    tz_offset: int
    dst_offset: int
    dst_start: int
    dst_end: int
    local_time: int


def _dst(zone: ZoneInfo, t: float) -> int:
    shift = dt.datetime.fromtimestamp(t, zone).dst()
    return int(shift.total_seconds()) if shift else 0


def _change(zone: ZoneInfo, low: float, high: float) -> int:
    """The first second in (low, high] whose DST differs from low's (one change lies between)."""
    before = _dst(zone, low)
    lo, hi = int(low), int(high)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _dst(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


@lru_cache(maxsize=64)
def dst_window(zone_name: str, year: int) -> tuple[int, int, int]:
    """(dstOffset, dstStartTime, dstEndTime) of a zone in a year; (0, 0, 0) where it keeps no DST."""
    zone = ZoneInfo(zone_name)
    t = dt.datetime(year, 1, 1, tzinfo=UTC).timestamp()
    end_of_year = dt.datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
    shift, start, end = 0, 0, 0
    day = 86400.0
    while t < end_of_year:
        now, later = _dst(zone, t), _dst(zone, min(t + day, end_of_year))
        if later != now:
            at = _change(zone, t, min(t + day, end_of_year))
            if later > now:
                shift, start = later, at
            else:
                end = at
        t += day
    return shift, start, end


def zone_time(zone_name: str, now: int) -> ZoneTime:
    zone = ZoneInfo(zone_name)
    here = dt.datetime.fromtimestamp(now, zone)
    offset = here.utcoffset()
    total = int(offset.total_seconds()) if offset else 0
    in_dst = _dst(zone, now)
    shift, start, end = dst_window(zone_name, here.astimezone(UTC).year)
    return ZoneTime(total - in_dst, shift, start, end, now + total)

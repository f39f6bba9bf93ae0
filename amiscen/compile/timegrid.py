"""The simulated time grid: interval starts and midpoints, in epoch seconds and in site-local calendar terms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np


@dataclass(frozen=True)
class TimeGrid:
    start: float  # epoch seconds of the first interval's start
    step: float  # seconds per interval
    count: int
    timezone: str

    @property
    def starts(self) -> np.ndarray:
        return self.start + np.arange(self.count, dtype=np.float64) * self.step

    @property
    def mids(self) -> np.ndarray:
        return self.starts + self.step / 2

    def local_days(self) -> tuple[list[dt.date], np.ndarray]:
        """The local dates covered and, per interval, the index of its date in that list."""
        zone = ZoneInfo(self.timezone)
        first = dt.datetime.fromtimestamp(self.start, zone).date()
        last = dt.datetime.fromtimestamp(self.start + self.count * self.step, zone).date()
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        offsets = self.utc_offsets()
        local = self.mids + offsets
        day_index = (np.floor(local / 86400) - np.floor((self.start + offsets[0]) / 86400)).astype(np.int64)
        return days, np.clip(day_index, 0, len(days) - 1)

    def through_last_day(self) -> TimeGrid:
        """The same grid run on to the end of its last local day: what is drawn day by day (cloud levels held to
        a day's mean) is then the same whether the window ends mid-day or days later."""
        zone = ZoneInfo(self.timezone)
        last = dt.datetime.fromtimestamp(self.start + (self.count - 0.5) * self.step, zone).date()
        midnight = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).timestamp()
        return TimeGrid(
            self.start, self.step, max(self.count, int(np.ceil((midnight - self.start) / self.step))), self.timezone
        )

    def utc_offsets(self) -> np.ndarray:
        """Seconds east of UTC at each interval (evaluated hourly, so DST changes land on the right hour)."""
        return utc_offsets(self.mids, self.timezone)

    def local_hours(self) -> np.ndarray:
        """Local time of day in hours (0..24) at each interval's midpoint."""
        return ((self.mids + self.utc_offsets()) % 86400) / 3600


def utc_offsets(epoch: np.ndarray, timezone: str) -> np.ndarray:
    """Seconds east of UTC at each instant in ``timezone``, looked up once per hour the instants fall in (at the
    hour's middle, so a DST change lands on its hour)."""
    zone = ZoneInfo(timezone)
    hours = np.floor(epoch / 3600).astype(np.int64)
    if len(hours) > 1 and np.all(hours[1:] >= hours[:-1]):  # in order (a time grid): each hour's run, no sort
        first = np.empty(len(hours), dtype=bool)
        first[0] = True
        np.not_equal(hours[1:], hours[:-1], out=first[1:])
        unique, inverse = hours[first], np.cumsum(first) - 1
    else:
        unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [
            dt.datetime.fromtimestamp(h * 3600 + 1800, zone).utcoffset().total_seconds()  # type: ignore[union-attr]
            for h in unique
        ]
    )
    return offsets[inverse]

"""Durations written as ``15s``, ``5m``, ``1h``, ``1d`` (or combined: ``1h30m``) or in ISO 8601 (``PT15S``,
``P1DT2H``, ``P1W``: what the JSON schema's defaults show), and times relative to start."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$")

_NUMBER = r"\d+(?:\.\d+)?"
# ISO 8601 durations of fixed length: weeks, days, hours, minutes, seconds (years and months vary in length)
_ISO = re.compile(
    rf"^P(?:(?P<w>{_NUMBER})W)?(?:(?P<d>{_NUMBER})D)?"
    rf"(?:T(?=\d)(?:(?P<h>{_NUMBER})H)?(?:(?P<m>{_NUMBER})M)?(?:(?P<s>{_NUMBER})S)?)?$"
)
_ISO_SCHEMA = r"P(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?"

DURATION_PATTERN = rf"^((\d+(\.\d+)?(ms|s|m|h|d|w))+|{_ISO_SCHEMA})$"
RELATIVE_PATTERN = rf"^\+((\d+(\.\d+)?(ms|s|m|h|d|w))+|{_ISO_SCHEMA})$"
_EXPECTED = "a duration like 15s, 5m, 1h, 1d or PT15S"


def parse_duration(value: object) -> timedelta:
    """``'1h30m'`` -> 5400 s. Plain numbers are seconds. Raises ValueError with a user-facing message."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected {_EXPECTED} (got {value!r})")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative (got {value})")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError(f"expected {_EXPECTED} (got {type(value).__name__})")
    text = value.strip().replace(" ", "")
    if text.startswith("P"):
        return _iso(text, value)
    if not _WHOLE.match(text):
        raise ValueError(f"expected {_EXPECTED} (got {value!r})")
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
    return timedelta(seconds=seconds)


def _iso(text: str, value: str) -> timedelta:
    match = _ISO.match(text)
    if match is None or text in ("P", "PT"):
        if re.match(r"^P(\d+Y)?(\d+M)?", text) and ("Y" in text.split("T")[0] or "M" in text.split("T")[0]):
            raise ValueError(f"years and months have no fixed length: give days or weeks (got {value!r})")
        raise ValueError(f"expected {_EXPECTED} (got {value!r})")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    seconds = sum(parts.get(k, 0.0) * _UNITS[k] for k in ("w", "d", "h", "m", "s"))
    return timedelta(seconds=seconds)


def parse_time_ref(value: object, zone: str | None = None) -> timedelta | datetime:
    """An absolute ISO 8601 time, or ``+DURATION`` relative to the scenario start. A time without an offset is
    the site's wall-clock time in ``zone`` (without a zone it is an error)."""
    if isinstance(value, str) and value.strip().startswith("+"):
        return parse_duration(value.strip()[1:])
    return parse_time(value, zone, " or '+DURATION' from the start")


def parse_time(value: object, zone: str | None = None, or_else: str = "") -> datetime:
    """An ISO 8601 time: with an offset, that instant; without, the wall-clock time in ``zone``."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value
        if zone is None:
            raise ValueError(f"a time needs a UTC offset, e.g. 2026-03-02T14:00:00+07:00 (got {value.isoformat()})")
        return local_instant(value, zone)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            if re.match(r"^\d{4}-\d{2}-\d{2}", value.strip()):
                raise ValueError(f"is not a real date and time: {exc} (got {value!r})") from None
            raise ValueError(
                f"expected an ISO 8601 time (2026-03-02T14:00, the site's clock, or with an offset){or_else} "
                f"(got {value!r})"
            ) from None
        return parse_time(parsed, zone, or_else)
    raise ValueError(f"expected an ISO 8601 time{or_else} (got {value!r})")


def local_instant(naive: datetime, zone_name: str) -> datetime:
    """The instant a wall clock in ``zone_name`` shows as ``naive``, with its offset. A time the clocks skip
    (spring forward) or show twice (fall back) is an error that says which offsets to write."""
    zone = ZoneInfo(zone_name)
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    shown = f"{naive:%Y-%m-%dT%H:%M}" + (f":{naive:%S}" if naive.second else "")
    if early.utcoffset() != late.utcoffset():
        if early.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
            raise ValueError(
                f"{shown} does not happen in {zone_name}: the clocks skip that hour (they go forward); give a time "
                "outside it"
            )
        first, second = _fixed(early), _fixed(late)
        raise ValueError(
            f"{shown} happens twice in {zone_name} (the clocks go back that night): write {first.isoformat()} for "
            f"the first or {second.isoformat()} for the second"
        )
    return _fixed(early)


def _fixed(when: datetime) -> datetime:
    """The same instant with a fixed offset (it prints and serialises with it)."""
    return when.astimezone(timezone(when.utcoffset() or timedelta(0)))


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling: 5400 s -> ``1h30m``."""
    total = delta.total_seconds()
    if total == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        count, total = divmod(total, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    if total:
        parts.append(f"{round(total * 1000)}ms")
    return "".join(parts)

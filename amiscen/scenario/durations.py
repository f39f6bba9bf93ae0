"""Durations written as ``15s``, ``5m``, ``1h``, ``1d`` (or combined: ``1h30m``) or in ISO 8601 (``PT15S``,
``P1DT2H``, ``P1W``: what the JSON schema's defaults show), and times relative to start."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

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


def parse_time_ref(value: object) -> timedelta | datetime:
    """An absolute ISO 8601 time with offset, or ``+DURATION`` relative to the scenario start."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a time needs a UTC offset, e.g. 2026-03-02T14:00:00+07:00 (got {value.isoformat()})")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("+"):
            return parse_duration(text[1:])
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"expected an ISO 8601 time with offset or '+DURATION' from the start (got {value!r})"
            ) from None
        return parse_time_ref(parsed)
    raise ValueError(f"expected an ISO 8601 time with offset or '+DURATION' from the start (got {value!r})")


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

"""Field types shared by the scenario models: durations, time references, identifiers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)

from amiscen.scenario.durations import (
    DURATION_PATTERN,
    RELATIVE_PATTERN,
    format_duration,
    parse_duration,
    parse_time,
    parse_time_ref,
)


class Model(BaseModel):
    """Base of every scenario model: immutable, and unknown keys are errors (typos never pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def _duration_json() -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "pattern": DURATION_PATTERN, "examples": ["15s", "5m", "1h", "1d", "1h30m", "PT15S"]},
            {"type": "number", "minimum": 0, "description": "seconds"},
        ]
    }


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(_duration_json()),
]
"""A duration written ``15s``, ``5m``, ``1h``, ``1d`` or combined (``1h30m``), or in ISO 8601 (``PT15S``, the JSON
schema's spelling of its defaults); a bare number is seconds."""


def _site_zone(info: ValidationInfo) -> str | None:
    """The site's time zone, which a scenario's times without an offset are read in (the loader passes it)."""
    return (info.context or {}).get("timezone")


def _time_ref(value: object, info: ValidationInfo) -> timedelta | datetime:
    return parse_time_ref(value, _site_zone(info))


def _time(value: object, info: ValidationInfo) -> datetime:
    return parse_time(value, _site_zone(info))


LOCAL_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
_ABSOLUTE_JSON = [
    {"type": "string", "format": "date-time", "examples": ["2026-03-02T14:00:00+07:00"]},
    {
        "type": "string",
        "pattern": LOCAL_PATTERN,
        "description": "the site's wall-clock time (site.timezone), without an offset",
        "examples": ["2026-03-02T14:00"],
    },
]

Time = Annotated[datetime, BeforeValidator(_time), WithJsonSchema({"anyOf": _ABSOLUTE_JSON})]
"""An ISO 8601 time: with an offset, or without one for the site's wall clock (14:00 on the site's clocks)."""

TimeRef = Annotated[
    timedelta | datetime,
    BeforeValidator(_time_ref),
    PlainSerializer(lambda v: "+" + format_duration(v) if isinstance(v, timedelta) else v.isoformat(), return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": RELATIVE_PATTERN, "examples": ["+14h", "+1d2h"]},
                *_ABSOLUTE_JSON,
            ]
        }
    ),
]
"""An ISO 8601 time (with an offset, or the site's wall clock without one), or ``+DURATION`` from the start."""

# an id that is also a file name (a meter's certificate directory): never "." or "..", never a separator
IDENTIFIER_PATTERN = r"^(?!\.{1,2}$)[A-Za-z0-9_.\-]{1,64}$"


def _not_dots(value: str) -> str:
    if value in (".", ".."):
        raise ValueError(f"{value!r} is not an id (it names a directory)")
    return value


Identifier = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$", description="letters, digits, '_', '.', '-' (at most 64; not . or ..)"),
    AfterValidator(_not_dots),
]


def resolve_time(ref: timedelta | datetime, start: datetime) -> datetime:
    """An event's absolute time: relative references are added to the scenario start."""
    return start + ref if isinstance(ref, timedelta) else ref

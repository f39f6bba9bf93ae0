"""Field types shared by the scenario models: durations, time references, identifiers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from amiscen.scenario.durations import (
    DURATION_PATTERN,
    RELATIVE_PATTERN,
    format_duration,
    parse_duration,
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

TimeRef = Annotated[
    timedelta | datetime,
    BeforeValidator(parse_time_ref),
    PlainSerializer(lambda v: "+" + format_duration(v) if isinstance(v, timedelta) else v.isoformat(), return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": RELATIVE_PATTERN, "examples": ["+14h", "+1d2h"]},
                {"type": "string", "format": "date-time", "examples": ["2026-03-02T14:00:00+07:00"]},
            ]
        }
    ),
]
"""An ISO 8601 time with offset, or ``+DURATION`` relative to the scenario start."""

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

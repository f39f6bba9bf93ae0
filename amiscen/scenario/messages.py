"""Pydantic's validation errors rewritten as the short, specific messages users read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from amiscen.diagnostics import did_you_mean
from amiscen.scenario.fields import allowed_keys


def got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


_COMPARE = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}
_TYPES = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
    "list_type": "a list",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_type": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_parsing": "an ISO 8601 time with offset",
    "datetime_type": "an ISO 8601 time with offset",
    "datetime_from_date_parsing": "an ISO 8601 time with offset",
    "timezone_aware": "a time with a UTC offset, e.g. 2026-03-02T00:00:00+07:00",
}


def message_for(error: ErrorDetails, root: type[BaseModel]) -> str:
    """One error's message, with the offending value and, for a misspelt key or choice, a suggestion."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    loc: Sequence[str | int] = error["loc"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        choices = allowed_keys(root, loc[:-1])
        return f"unknown key '{key}'{did_you_mean(key, choices)}"
    if kind in _COMPARE:
        bound = next(iter(ctx.values()), "?")
        shown = f"{bound:g}" if isinstance(bound, float) else str(bound)
        return f"must be {_COMPARE[kind]} {shown} (got {got(value)})"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip().strip("'\"") for c in str(expected).replace(" or ", ", ").split(",")]
        return f"must be one of {expected} (got {got(value)}){did_you_mean(str(value), choices)}"
    if kind == "union_tag_invalid":
        tag = ctx.get("tag", value)
        choices = [c.strip().strip("'\"") for c in str(ctx.get("expected_tags", "")).split(",")]
        return f"unknown type '{tag}'; expected one of {ctx.get('expected_tags')}{did_you_mean(str(tag), choices)}"
    if kind == "union_tag_not_found":
        return "needs a `type:` key saying what kind of entry it is"
    if kind in ("too_short", "too_long"):
        actual = ctx.get("actual_length")
        if kind == "too_short":
            return f"must have at least {ctx.get('min_length')} item(s) (got {actual})"
        return f"must have at most {ctx.get('max_length')} item(s) (got {actual})"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern.startswith("^[A-Za-z0-9_.\\-]{1,64}"):
            return f"must be 1-64 letters, digits, '_', '.' or '-' (got {got(value)})"
        return f"does not have the expected form (got {got(value)})"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind in _TYPES:
        reason = str(ctx.get("error", ""))
        if "out of range" in reason or "outside expected range" in reason:  # 2026-02-30, month 13, hour 25
            return f"is not a real date and time: {reason} (got {got(value)})"
        return f"must be {_TYPES[kind]} (got {got(value)})"
    message = error["msg"]
    return f"{message[:1].lower()}{message[1:]} (got {got(value)})"

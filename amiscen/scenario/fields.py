"""What keys a scenario model accepts at a given location (for 'did you mean' suggestions)."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any, Union

from pydantic import BaseModel


def _models_in(annotation: Any) -> list[Any]:
    """Unwrap Annotated, Optional, unions, lists and dicts to the types inside."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            found.extend(_models_in(arg))
        return found
    return [annotation]


def _step(annotation: Any, step: str | int) -> list[Any]:
    """The annotations reached from ``annotation`` by one location step."""
    reached: list[Any] = []
    for candidate in _models_in(annotation):
        origin = typing.get_origin(candidate)
        if origin in (list, tuple) and isinstance(step, int):
            reached.extend(_models_in(typing.get_args(candidate)[0]))
        elif origin is dict and isinstance(step, str):
            reached.extend(_models_in(typing.get_args(candidate)[1]))
        elif isinstance(candidate, type) and issubclass(candidate, BaseModel) and isinstance(step, str):
            field = candidate.model_fields.get(step)
            if field is not None:
                reached.extend(_models_in(field.annotation))
            elif _tag_of(candidate) == step:  # pydantic puts the union tag into the location
                reached.append(candidate)
    return reached


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return str(args[0]) if args else None


def allowed_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names of the model(s) at ``loc``; empty when the location is not a model."""
    current: list[Any] = [root]
    for step in loc:
        nxt: list[Any] = []
        for annotation in current:
            nxt.extend(_step(annotation, step))
        # a union tag step keeps only the member it names
        current = nxt or current
    keys: list[str] = []
    for annotation in current:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(k for k in annotation.model_fields if k not in keys)
    return keys

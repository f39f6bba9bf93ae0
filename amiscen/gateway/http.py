"""Requests and replies as plain data, a path router, and the helpers every function set uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from amiscen.sep.constants import MEDIA_TYPE, ErrorReason
from amiscen.sep.model.common import Resource
from amiscen.sep.model.misc import Error
from amiscen.sep.render import render_bytes

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    content_type: str | None
    lfdi: str  # of the client's TLS certificate
    sfdi: int
    meter_id: str  # the certificate's common name


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # why a request was refused, for the rejection log

    @classmethod
    def of(cls, resource: Resource, status: int = 200, csipaus: bool = False) -> Reply:
        return cls(status, render_bytes(resource, csipaus), {"Content-Type": MEDIA_TYPE})

    @classmethod
    def created(cls, location: str) -> Reply:
        return cls(201, headers={"Location": location})

    @classmethod
    def error(cls, status: int, reason: str, code: ErrorReason = ErrorReason.INVALID_REQUEST_VALUES) -> Reply:
        return cls(status, render_bytes(Error(reasonCode=int(code))), {"Content-Type": MEDIA_TYPE}, reason)


class HttpError(Exception):
    """Raised by a handler to answer with an error status and an <Error> body."""

    def __init__(self, status: int, reason: str, code: ErrorReason = ErrorReason.INVALID_REQUEST_VALUES) -> None:
        super().__init__(reason)
        self.reply = Reply.error(status, reason, code)


Handler = Callable[..., Reply]


class Router:
    """Maps METHOD + path pattern (``/edev/{e}/rg``) to a handler; 404 for unknown paths, 405 for methods."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def add(self, pattern: str, **methods: Handler) -> None:
        # ids of at most 18 digits: SQLite's integers end at 2^63 (a longer one is no resource here: 404)
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[0-9]{1,18})", pattern) + "$")
        self._routes.append((regex, {m.upper(): h for m, h in methods.items()}))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, int]]:
        """The handler of METHOD on a path. HEAD is GET without the body (RFC 9110 section 9.3.2: GET and HEAD
        are supported wherever GET is); OPTIONS answers 204 with Allow; any other method 405 with Allow."""
        for regex, methods in self._routes:
            match = regex.match(path)
            if match:
                handler = methods.get("GET" if method == "HEAD" else method)
                allowed = ", ".join(sorted({*methods, "OPTIONS", *(["HEAD"] if "GET" in methods else [])}))
                if method == "OPTIONS":
                    return _options(allowed), {}
                if handler is None:
                    error = HttpError(405, f"{method} not allowed on {path} (allowed: {allowed})")
                    error.reply.headers["Allow"] = allowed
                    raise error
                return handler, {k: int(v) for k, v in match.groupdict().items()}
        raise HttpError(404, f"no resource at {path}")


def _options(allowed: str) -> Handler:
    def answer(*args: Any, **kwargs: Any) -> Reply:
        return Reply(204, headers={"Allow": allowed})

    return answer


@dataclass(frozen=True)
class Page:
    start: int
    limit: int
    after: int | None


def page(query: dict[str, str], default_limit: int) -> Page:
    """The list query parameters: s (start), l (limit), a (changed after, epoch seconds)."""
    try:
        start = int(query.get("s", "0"))
        limit = int(query.get("l", str(default_limit)))
        after = int(query["a"]) if "a" in query else None
    except ValueError:
        raise HttpError(400, "list parameters s, l and a must be integers") from None
    if start < 0 or limit < 0:
        raise HttpError(400, "list parameters s and l must not be negative")
    if max(start, limit, abs(after or 0)) >= 2**63:
        raise HttpError(400, "list parameters s, l and a must be below 2^63")
    return Page(start, min(limit, 10_000), after)


def window(items: Sequence[T], p: Page, changed: Callable[[T], int] | None = None) -> tuple[list[T], int]:
    """The requested slice of a list and the list's size (the ``all`` attribute)."""
    chosen = list(items)
    if p.after is not None and changed is not None:
        chosen = [i for i in chosen if changed(i) > p.after]
    return chosen[p.start : p.start + p.limit], len(chosen)


def json_or(value: Any, default: Any) -> Any:
    import json

    return default if value is None else json.loads(value)

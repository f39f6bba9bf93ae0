"""A meter session that hands each request to the embedded head-end's core in this process: no sockets, no TLS.
`amiscen run --dry-run` plays the whole scenario this way and records every exchange."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from amiscen.gateway.app import Headend
from amiscen.gateway.http import Request
from amiscen.runner.transport import Exchange, classify, retry_after
from amiscen.sep.constants import MEDIA_TYPE


class LocalSession:
    def __init__(self, app: Headend, meter_id: str, lfdi: str, sfdi: int) -> None:
        self.app = app
        self.meter_id = meter_id
        self.lfdi = lfdi
        self.sfdi = sfdi

    def send(self, method: str, path: str, body: bytes = b"", params: dict[str, Any] | None = None) -> Exchange:
        started = time.perf_counter()
        parts = urlsplit(path)
        query = {k: str(v) for k, v in (params or {}).items()}
        request = Request(
            method=method,
            path=parts.path.rstrip("/") or "/",
            query=query,
            body=body,
            content_type=MEDIA_TYPE if body else None,
            lfdi=self.lfdi,
            sfdi=self.sfdi,
            meter_id=self.meter_id,
        )
        reply = self.app.handle(request)
        failure = classify(reply.status)
        return Exchange(
            method,
            f"local:{parts.path}",
            reply.status,
            body,
            reply.body,
            dict(reply.headers),
            time.perf_counter() - started,
            failure,
            "" if failure is None else f"HTTP {reply.status}",
            retry_after(reply.headers.get("Retry-After")),
        )

    def close(self) -> None:
        pass

"""The operator API: the head-end's utility side as JSON over HTTP on loopback (`amiscen serve --operator-port`).

It has no authentication, so it listens on 127.0.0.1 only. Every route is one `Operator` action:

    GET    /status                    devices, programs, controls, poll rates
    POST   /reset                     forget everything (a test's fresh head-end)
    PUT    /EndDevice                 {"lfdi", "registered", "sfdi"?, "pin"?, "name"?, "aggregator"?: lfdi}
    PUT    /aggregator                {"lfdi"}  (a certificate that registers and acts for site devices)
    DELETE /MirrorUsagePointList      ?lfdi=...  (empty a device's mirrors)
    PUT    /access                    {"lfdi", "granted"}
    PUT    /FunctionSetAssignments    {"name"}  (every EndDevice is given it; DER programs go in it)
    PUT    /DERProgram                {"program"?, "primacy"?, "fsa"?: name}
    POST   /DERControl                {"fields": {...}, "program"?, "start"? | "start_in"? | "after_last"?,
                                       "duration"?, "randomize_start"?, "primacy"?, "targets"?: [lfdi]}
                                      (program: by name, else the latest of that primacy, else the latest)
    POST   /DERControl/cancel         {"all"?: true}
    PUT    /DefaultDERControl         {"fields": {...}, "program"?, "primacy"?}
    POST   /DERCurve                  {"mode": "opModVoltVar", "points": [[x, y], ...], "x_multiplier"?,
                                       "y_multiplier"?, "y_ref_type"?, "program"?, "primacy"?}  -> {"href"}
                                      (a control uses it as {"fields": {"opModVoltVar": href}})
    PUT    /pollRate                  {"resource", "seconds"}
    PUT    /postRate                  {"seconds", "lfdi"?}
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from amiscen.gateway.app import Headend
from amiscen.gateway.operator import Operator, OperatorError
from amiscen.gateway.utility import events

log = logging.getLogger("amiscen.operator")
MAX_BODY = 64 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: OperatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def _answer(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, indent=1).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            self._answer(400, {"error": "Content-Length must be a number up to 64 KiB"})
            return
        raw = self.rfile.read(int(length)) if int(length) else b""
        try:
            payload = json.loads(raw) if raw else {}
            if not isinstance(payload, dict):
                raise OperatorError("the body must be a JSON object")
            query = dict(parse_qsl(parts.query))
            with self.server.lock:
                status, answer = route(self.server.operator, self.command, parts.path.rstrip("/"), payload, query)
            changed = self.server.operator.app.changed
            if self.command != "GET" and changed is not None:
                changed()  # subscribers hear of what the operator changed now
        except (OperatorError, json.JSONDecodeError, TypeError) as exc:
            status, answer = 400, {"error": str(exc)}
        except Exception:
            log.exception("operator %s %s failed", self.command, self.path)
            status, answer = 500, {"error": "internal error (see the head-end's log)"}
        self._answer(status, answer)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


def route(op: Operator, method: str, path: str, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
    """One operator request: (HTTP status, JSON answer)."""
    key = (method, path)
    if key == ("GET", "/status"):
        return 200, status(op)
    if key == ("POST", "/reset"):
        op.reset()
        return 200, {"reset": True}
    if key == ("PUT", "/EndDevice"):
        return 200, op.ensure_end_device(
            _required(body, "lfdi"),
            registered=bool(body.get("registered", True)),
            sfdi=body.get("sfdi"),
            pin=body.get("pin"),
            name=str(body.get("name") or ""),
            aggregator=body.get("aggregator"),
        )
    if key == ("PUT", "/aggregator"):
        return 200, op.register_aggregator(_required(body, "lfdi"))
    if key == ("DELETE", "/MirrorUsagePointList"):
        return 200, {"removed": op.remove_mirrors(_required(query, "lfdi"))}
    if key == ("PUT", "/access"):
        op.set_client_access(_required(body, "lfdi"), bool(_required(body, "granted")))
        return 200, {"lfdi": body["lfdi"], "granted": bool(body["granted"])}
    if key == ("PUT", "/FunctionSetAssignments"):
        return 200, op.ensure_fsa(str(_required(body, "name")))
    if key == ("PUT", "/DERProgram"):
        return 200, op.ensure_der_program(
            str(body.get("program") or "operator"), int(body.get("primacy", 1)), body.get("fsa")
        )
    if key == ("POST", "/DERControl"):
        start = body.get("start")
        if body.get("start_in") is not None:
            start = op.app.now() + int(body["start_in"])
        elif body.get("after_last"):
            start = op.latest_end() + int(body.get("gap", 0))
        published = op.publish_der_control(
            dict(_required(body, "fields")),
            program=body.get("program"),
            start=None if start is None else int(start),
            duration=int(body.get("duration", 3600)),
            randomize_start=int(body.get("randomize_start", 0)),
            primacy=body.get("primacy"),
            targets=body.get("targets"),
            event_id=body.get("event_id"),
        )
        return 201, dataclasses.asdict(published)
    if key == ("POST", "/DERControl/cancel"):
        return 200, {"cancelled": op.cancel_der_controls(bool(body.get("all", True)))}
    if key == ("PUT", "/DefaultDERControl"):
        return 200, op.set_default_der_control(
            dict(_required(body, "fields")), body.get("program"), body.get("primacy")
        )
    if key == ("POST", "/DERCurve"):
        return 201, op.add_der_curve(
            str(_required(body, "mode")),
            list(_required(body, "points")),
            x_multiplier=int(body.get("x_multiplier", 0)),
            y_multiplier=int(body.get("y_multiplier", 0)),
            y_ref_type=body.get("y_ref_type"),
            program=body.get("program"),
            primacy=body.get("primacy"),
        )
    if key == ("PUT", "/pollRate"):
        op.set_poll_rate(str(_required(body, "resource")), int(_required(body, "seconds")))
        return 200, {"pollRates": op.app.poll_rates}
    if key == ("PUT", "/postRate"):
        return 200, {"changed": op.set_post_rate(int(_required(body, "seconds")), body.get("lfdi"))}
    return 404, {"error": f"no operator route {method} {path} (see amiscen/gateway/operator_api.py)"}


def status(op: Operator) -> dict[str, Any]:
    store = op.store
    return {
        "now": op.app.now(),
        "devices": [
            {"lfdi": r["lfdi"], "sfdi": r["sfdi"], "name": r["meter_id"], "href": f"/edev/{r['id']}"}
            for r in store.all("SELECT * FROM end_device ORDER BY id")
        ],
        "programs": [
            {"kind": r["kind"], "name": r["name"], "primacy": r["primacy"], "id": r["id"]}
            for r in store.all("SELECT * FROM program ORDER BY id")
        ],
        "controls": [
            {
                "event_id": e.event_id,
                "program": e.program,
                "start": e.start,
                "duration": e.duration,
                "cancelled_at": e.cancelled_at,
                "spec": e.spec,
            }
            for e in events(store, "der")
        ],
        "pollRates": op.app.poll_rates,
        "revoked": sorted(op.app.revoked),
    }


def _required(body: dict[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise OperatorError(f"'{name}' is required")
    return body[name]


class OperatorServer(ThreadingHTTPServer):
    """The operator API on 127.0.0.1 (never another address: it has no authentication)."""

    daemon_threads = True

    def __init__(self, app: Headend, port: int = 0) -> None:
        self.operator = Operator(app)
        self.lock = threading.Lock()  # one operator action at a time
        super().__init__(("127.0.0.1", port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> OperatorServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

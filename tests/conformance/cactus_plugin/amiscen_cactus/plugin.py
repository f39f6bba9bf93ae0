"""CACTUS admin plugin for amiscen's embedded head-end.

cactus-client (the CSIP-AUS server test harness) asks an admin plugin to put the server under test into the
state each step needs ("a DERControl with opModExpLimW 30 % of setMaxW is active"). This plugin does that only
through amiscen's operator API (`amiscen serve --operator-port N`, JSON on loopback), whose address it reads from
$AMISCEN_OPERATOR_URL. It runs in cactus-client's own environment (Python >= 3.12) and imports nothing of amiscen.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from cactus_client.admin.plugins import hookimpl
from cactus_client.model.context import AdminContext
from cactus_client.model.execution import ActionResult, StepExecution
from cactus_client.model.parameter import resolve_variable_expressions_from_parameters
from cactus_client.sep2 import lfdi_from_cert_file
from cactus_test_definitions.server.admin_instructions import AdminInstruction
from cactus_test_definitions.server.admin_instructions import AdminInstructionType as T
from cactus_test_definitions.server.test_procedures import ClientType

CONTROL_FIELDS = (
    "opModExpLimW",
    "opModImpLimW",
    "opModGenLimW",
    "opModLoadLimW",
    "opModConnect",
    "opModEnergize",
    "opModFixedW",
    "rampTms",
)
DEFAULT_FIELDS = ("opModExpLimW", "opModImpLimW", "opModGenLimW", "opModLoadLimW", "setGradW")
ACTIVE_SINCE = 60  # an "active" control started this many seconds ago (a tenth of a short one)
ACTIVE_DURATION = 3600  # and lasts an hour unless the procedure says
SCHEDULED_GAP = 60  # a "scheduled" control with no start given starts this long after the last one ends
SCHEDULED_DURATION = 120  # and lasts two minutes unless the procedure says
# the longest an operator call may take: a guard against a hang (the head-end answers in milliseconds)
HANG = 1800


class OperatorApiError(RuntimeError):
    pass


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    base = os.environ.get("AMISCEN_OPERATOR_URL", "http://127.0.0.1:8081").rstrip("/")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=HANG) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise OperatorApiError(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')}") from None


class AmiscenAdmin:
    """Maps each admin instruction type to operator API calls. One instance per cactus run."""

    def __init__(self) -> None:
        self.programs: dict[str, str] = {}  # FSA annotation -> DERProgram name

    @hookimpl
    async def admin_setup(self, context: AdminContext) -> ActionResult:
        _call("POST", "/reset")  # every procedure starts from a fresh head-end
        self.programs.clear()
        return ActionResult.done()

    @hookimpl
    async def admin_teardown(self, context: AdminContext) -> ActionResult:
        return ActionResult.done()

    @hookimpl
    async def admin_instruction(
        self, instruction: AdminInstruction, step: StepExecution, context: AdminContext
    ) -> ActionResult | None:
        client = context.client_config_for(instruction.client)
        p = await resolve_variable_expressions_from_parameters(client, dict(instruction.parameters or {}))
        try:
            self._apply(instruction.type, p, client)
        except OperatorApiError as exc:
            return ActionResult.failed(str(exc))
        return ActionResult.done()

    def _apply(self, kind: T, p: dict[str, Any], client: Any) -> None:
        lfdi = client.lfdi
        if kind == T.ENSURE_END_DEVICE:
            device: dict[str, Any] = {
                "lfdi": lfdi,
                "sfdi": client.sfdi,
                "pin": client.pin,
                "registered": bool(p["registered"]),
                "name": client.id,
            }
            if client.type == ClientType.AGGREGATOR:  # its certificate acts for the site device it registers
                aggregator = lfdi_from_cert_file(client.certificate_file)
                _call("PUT", "/aggregator", {"lfdi": aggregator})
                device["aggregator"] = aggregator
            _call("PUT", "/EndDevice", device)
        elif kind == T.ENSURE_MUP_LIST_EMPTY:
            _call("DELETE", f"/MirrorUsagePointList?lfdi={lfdi}")
        elif kind == T.ENSURE_FSA:
            annotation = p.get("annotation") or "fsa"
            _call("PUT", "/FunctionSetAssignments", {"name": annotation})
        elif kind == T.ENSURE_DER_PROGRAM:
            annotation = p.get("fsa_annotation") or "fsa"
            name = self.programs.setdefault(annotation, f"{annotation} program")
            body = {"program": name, "primacy": int(p.get("primacy") or 1), "fsa": annotation}
            _call("PUT", "/DERProgram", body)
        elif kind == T.ENSURE_DER_CONTROL_LIST:  # every DERProgram has its DERControlList (subscribable)
            if not self.programs:
                _call("PUT", "/DERProgram", {"program": "operator", "primacy": 1})
        elif kind == T.CREATE_DER_CONTROL:
            fields = {k: p[k] for k in CONTROL_FIELDS if p.get(k) is not None}
            offset = p.get("start_offset_seconds")
            scheduled = p["status"] == "scheduled"
            if scheduled:  # in the future: where asked, else a minute after the last one ends
                timing: dict[str, Any] = (
                    {"start_in": int(offset)} if offset is not None else {"after_last": True, "gap": SCHEDULED_GAP}
                )
            default_duration = SCHEDULED_DURATION if scheduled else ACTIVE_DURATION
            duration = int(p.get("duration_seconds") or default_duration)
            if not scheduled:  # started a little while ago, a tenth of its length at most: still on when read
                timing = {"start_in": int(offset) if offset is not None else -min(ACTIVE_SINCE, duration // 10)}
            body: dict[str, Any] = {
                "fields": fields,
                "duration": duration,
                "randomize_start": int(p.get("randomizeStart_seconds") or 0),
                **timing,
            }
            if p.get("primacy") is not None:
                body["primacy"] = int(p["primacy"])
            _call("POST", "/DERControl", body)
        elif kind == T.CREATE_DEFAULT_DER_CONTROL:
            fields = {k: p[k] for k in DEFAULT_FIELDS if p.get(k) is not None}
            default: dict[str, Any] = {"fields": fields}
            if p.get("primacy") is not None:  # the program of that primacy
                default["primacy"] = int(p["primacy"])
            _call("PUT", "/DefaultDERControl", default)
        elif kind == T.CLEAR_DER_CONTROLS:
            _call("POST", "/DERControl/cancel", {"all": bool(p.get("all", True))})
        elif kind == T.SET_POLL_RATE:
            _call("PUT", "/pollRate", {"resource": str(p["resource"]), "seconds": int(p["rate_seconds"])})
        elif kind == T.SET_POST_RATE:
            _call("PUT", "/postRate", {"seconds": int(p["rate_seconds"]), "lfdi": lfdi})
        elif kind == T.SET_CLIENT_ACCESS:
            _call("PUT", "/access", {"lfdi": lfdi, "granted": bool(p["granted"])})
        else:
            raise OperatorApiError(f"no operator action for {kind}")

"""What the utility's operator does to a running head-end: register a device out of band, publish or cancel a
DERControl, set a DefaultDERControl, change poll and post rates, grant or revoke a client's access.

The operator API (operator_api.py) serves these over loopback HTTP, so test harnesses (the CACTUS admin plugin
in conformance/) and scripts drive the head-end while meters talk to it. Names follow 2030.5's resources."""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amiscen.gateway.utility import UtilityEvent, cancel, curve_spec, ensure_program, events, publish, store_curve
from amiscen.sep.ids import registration_pin, sfdi_from_lfdi
from amiscen.sep.model.events import CURVE_MODES, RECORD_TYPES

if TYPE_CHECKING:
    from amiscen.gateway.app import Headend
    from amiscen.gateway.store import Store

# DERControlBase fields an operator may publish, in 2030.5's units (powers in W, percentages in hundredths)
CONTROL_FIELDS: dict[str, type] = {
    "opModConnect": bool,
    "opModEnergize": bool,
    "opModFixedPFAbsorbW": dict,  # {"displacement": 95, "excitation": true, "multiplier": -2}
    "opModFixedPFInjectW": dict,
    "opModFixedVar": dict,  # {"refType": 2, "value": -3000}: hundredths of a percent of setMaxVar
    "opModFixedW": int,
    "opModFreqDroop": dict,  # {"dBOF": 36, "dBUF": 36, "kOF": 50, "kUF": 50, "openLoopTms": 500}
    "opModMaxLimW": int,
    "opModTargetVar": float,  # var
    "opModTargetW": float,
    "opModExpLimW": float,
    "opModImpLimW": float,
    "opModGenLimW": float,
    "opModLoadLimW": float,
    "rampTms": int,
}
CONTROL_FIELDS.update(dict.fromkeys(CURVE_MODES, str))  # the href of a DERCurve (`Operator.add_der_curve`)
DEFAULT_CONTROL_FIELDS = {**CONTROL_FIELDS, "setGradW": int}  # setGradW: DefaultDERControl's own
# the parts of each record field and their types, as the 2030.5 model has them
RECORD_FIELDS: dict[str, dict[str, type]] = {name: typing.get_type_hints(cls) for name, cls in RECORD_TYPES.items()}
# the resources whose pollRate an operator can set
POLLED = (
    "DeviceCapability",
    "EndDeviceList",
    "FunctionSetAssignmentsList",
    "DERProgramList",
    "DERList",
    "MirrorUsagePointList",
    "UsagePointList",
    "DemandResponseProgramList",
    "ResponseSetList",
    "Time",
    "Registration",
)
OPERATOR_PROGRAM = "operator"  # the DERProgram controls go to when none is named


class OperatorError(ValueError):
    """A request the operator API cannot carry out (answered 400 with this text)."""


@dataclass(frozen=True)
class Published:
    event_id: str
    program: str
    start: int
    duration: int


class Operator:
    """The operator's actions on one head-end (its store, clock and settings)."""

    def __init__(self, app: Headend) -> None:
        self.app = app
        self.store = app.store

    # -- devices ------------------------------------------------------------------------------------------------
    def ensure_end_device(
        self,
        lfdi: str,
        registered: bool = True,
        sfdi: int | None = None,
        pin: int | None = None,
        name: str = "",
        aggregator: str | None = None,
    ) -> dict[str, Any]:
        """Register a device out of band (as a utility does before it ships), or remove it and what it owns.
        ``aggregator``: the LFDI of the aggregator certificate that acts for it (registered as one first)."""
        lfdi = _lfdi(lfdi)
        owner = None if aggregator is None else _lfdi(aggregator)
        if owner is not None and owner not in self.app.aggregators:
            self.register_aggregator(owner)
        row = self.app.device_row(lfdi)
        if not registered:
            if row is not None:
                self._remove_device(int(row["id"]))
            return {"lfdi": lfdi, "registered": False}
        if row is None:
            meter_id = name or lfdi
            self.store.execute(
                "INSERT INTO end_device(id, lfdi, sfdi, meter_id, device_category, changed_time, post_rate, "
                "registered_time, pin) VALUES ((SELECT max(coalesce(max(id), 0) + 1, ?) FROM end_device), "
                "?, ?, ?, NULL, ?, ?, ?, ?)",
                (
                    self.app.config.quirks.first_id,
                    lfdi,
                    sfdi if sfdi is not None else sfdi_from_lfdi(lfdi),
                    meter_id,
                    self.app.now(),
                    self.app.config.post_rate,
                    self.app.now(),
                    pin if pin is not None else registration_pin(meter_id),
                ),
            )
            row = self.app.device_row(lfdi)
            assert row is not None
            if owner is not None:
                self.store.execute("INSERT INTO edev_owner(edev_id, owner) VALUES (?, ?)", (row["id"], owner))
        elif pin is not None:
            self.store.execute("UPDATE end_device SET pin = ? WHERE id = ?", (pin, row["id"]))
        assert row is not None
        return {"lfdi": lfdi, "registered": True, "href": f"/edev/{row['id']}"}

    def register_aggregator(self, lfdi: str) -> dict[str, Any]:
        """A certificate that acts for site devices (CSIP aggregator): it gets its own EndDevice and may register
        and use EndDevices under their own LFDIs."""
        lfdi = _lfdi(lfdi)
        self.store.execute("INSERT OR IGNORE INTO aggregator(lfdi) VALUES (?)", (lfdi,))
        self.app.aggregators.add(lfdi)
        return self.ensure_end_device(lfdi, name=f"aggregator {lfdi[:8]}")

    def _remove_device(self, edev: int) -> None:
        with self.store.transaction() as db:
            _delete_mirrors(db, edev)
            for table in ("der_resource", "log_event", "flow_request", "edev_owner"):
                db.execute(f"DELETE FROM {table} WHERE edev_id = ?", (edev,))
            db.execute("DELETE FROM end_device WHERE id = ?", (edev,))

    def remove_mirrors(self, lfdi: str) -> int:
        """Empty a device's MirrorUsagePointList (and the readings under it); how many were removed."""
        row = self.app.device_row(_lfdi(lfdi))
        if row is None:
            return 0
        with self.store.transaction() as db:
            return _delete_mirrors(db, int(row["id"]))

    def set_client_access(self, lfdi: str, granted: bool) -> None:
        """Revoke (or grant again) a client's access: a revoked certificate's every request is answered 403."""
        lfdi = _lfdi(lfdi)
        self.store.execute(
            "INSERT INTO client_access(lfdi, granted) VALUES (?, ?) "
            "ON CONFLICT(lfdi) DO UPDATE SET granted = excluded.granted",
            (lfdi, int(granted)),
        )
        if granted:
            self.app.revoked.discard(lfdi)
        else:
            self.app.revoked.add(lfdi)

    # -- programs and controls -------------------------------------------------------------------------------
    def ensure_fsa(self, name: str) -> dict[str, Any]:
        """A FunctionSetAssignments every EndDevice is given, by name. The first one replaces the built-in
        assignment: the DER programs it held move into it (none is left unreachable)."""
        if not name:
            raise OperatorError("a FunctionSetAssignments needs a name")
        first = self.store.scalar("SELECT count(*) FROM fsa") == 0
        self.store.execute("INSERT OR IGNORE INTO fsa(name, created) VALUES (?, ?)", (name, self.app.now()))
        fsa = int(self.store.scalar("SELECT id FROM fsa WHERE name = ?", (name,)))
        if first:
            self.store.execute(
                "INSERT OR IGNORE INTO program_fsa(program_id, fsa_id) SELECT id, ? FROM program WHERE kind = 'der'",
                (fsa,),
            )
        return {"fsa": name, "id": fsa}

    def ensure_der_program(
        self, name: str = OPERATOR_PROGRAM, primacy: int = 1, fsa: str | None = None
    ) -> dict[str, Any]:
        """A DERProgram by name, in the FunctionSetAssignments named (else the latest the operator made, if any)."""
        program = ensure_program(self.store, "der", name, primacy)
        self.store.execute("UPDATE program SET primacy = ? WHERE id = ?", (primacy, program))
        self._assign(program, fsa)
        return {"program": name, "href": f"/derp/{program}", "primacy": primacy}

    def _assign(self, program: int, fsa: str | None) -> None:
        if fsa is not None:
            target = self.ensure_fsa(fsa)["id"]
        elif self.store.scalar("SELECT count(*) FROM program_fsa WHERE program_id = ?", (program,)):
            return
        else:
            target = self.store.scalar("SELECT max(id) FROM fsa")
            if target is None:
                return
        self.store.execute(
            "INSERT INTO program_fsa(program_id, fsa_id) VALUES (?, ?) "
            "ON CONFLICT(program_id) DO UPDATE SET fsa_id = excluded.fsa_id",
            (program, target),
        )

    def publish_der_control(
        self,
        fields: dict[str, Any],
        *,
        program: str | None = None,
        start: int | None = None,
        duration: int = 3600,
        randomize_start: int = 0,
        primacy: int | None = None,
        targets: list[str] | None = None,
        event_id: str | None = None,
    ) -> Published:
        """A DERControl from DERControlBase fields (2030.5 units), for every device or the devices named by
        LFDI. ``start`` defaults to now (active at once). It goes to the ``program`` named, else to the latest
        program of that ``primacy``, else to the latest program."""
        base = _fields(fields, CONTROL_FIELDS)
        if not base:
            raise OperatorError(f"a DERControl needs at least one of {', '.join(CONTROL_FIELDS)}")
        if duration <= 0:
            raise OperatorError("duration must be positive")
        name = self._program_for(program, primacy)
        row = self.store.one("SELECT primacy FROM program WHERE kind = 'der' AND name = ?", (name,))
        now = self.app.now()
        when = now if start is None else int(start)
        event_id = event_id or f"OP-{len(events(self.store, 'der')) + 1:04d}-{now}"
        meter_ids = None if targets is None else [self._meter_id(t) for t in targets]
        added = publish(
            self.store,
            [
                UtilityEvent(
                    kind="der",
                    event_id=event_id,
                    program=name,
                    primacy=int(row["primacy"]) if row is not None else (primacy or 1),
                    start=when,
                    duration=int(duration),
                    spec={"control": {"type": "base", **base}},
                    targets=meter_ids,
                    randomize_start=int(randomize_start),
                    created=now,  # its creationTime: what decides which of two overlapping controls wins
                )
            ],
        )
        if not added:
            raise OperatorError(f"a control '{event_id}' exists already")
        return Published(event_id, name, when, int(duration))

    def latest_end(self) -> int:
        """When the last scheduled DERControl ends (now if none lies ahead): where the next one is stacked."""
        now = self.app.now()
        ends = [e.end for e in events(self.store, "der") if e.cancelled_at is None and e.end > now]
        return max(ends, default=now)

    def cancel_der_controls(self, all_controls: bool = True) -> list[str]:
        """Cancel the controls not yet over: all, or only the most recently created one."""
        now = self.app.now()
        live = [e for e in events(self.store, "der") if e.cancelled_at is None and e.end > now]
        live.sort(key=lambda e: (e.created, e.row_id))
        chosen = live if all_controls else live[-1:]
        for e in chosen:
            cancel(self.store, e.event_id, now)
        return [e.event_id for e in chosen]

    def set_default_der_control(
        self, fields: dict[str, Any], program: str | None = None, primacy: int | None = None
    ) -> dict[str, Any]:
        """Replace a program's DefaultDERControl: what devices do when no DERControl is active."""
        base = _fields(fields, DEFAULT_CONTROL_FIELDS)
        name = self._program_for(program, primacy)
        program_id = ensure_program(self.store, "der", name, 1)
        self._assign(program_id, None)
        store_default_control(self.store, program_id, base, self.app.now())
        return {"program": name, "href": f"/derp/{program_id}/dderc", "fields": base}

    def add_der_curve(
        self,
        mode: str,
        points: list[list[float]],
        *,
        x_multiplier: int = 0,
        y_multiplier: int = 0,
        y_ref_type: int | None = None,
        program: str | None = None,
        primacy: int | None = None,
    ) -> dict[str, Any]:
        """A DERCurve for a curve mode (``opModVoltVar``, ...) in a program's DERCurveList: 2 to 10 (x, y) points
        as 2030.5 writes them (integers, scaled by the multipliers). Its href goes in a control's field of that
        mode. ``y_ref_type`` defaults to %setMaxVar for var curves and %setMaxW for the others."""
        if mode not in CURVE_MODES:
            raise OperatorError(f"unknown curve mode {mode!r} (known: {', '.join(CURVE_MODES)})")
        if not 2 <= len(points) <= 10 or any(len(p) != 2 for p in points):
            raise OperatorError("a DERCurve has 2 to 10 points, each [x, y]")
        try:
            data = [[int(x), int(y)] for x, y in points]
        except (TypeError, ValueError):
            raise OperatorError(f"curve points must be integers (got {points!r})") from None
        name = self._program_for(program, primacy)
        program_id = ensure_program(self.store, "der", name, 1)
        spec = curve_spec(mode, data, x_multiplier, y_multiplier, y_ref_type)
        return {"program": name, "href": store_curve(self.store, program_id, spec, self.app.now()), **spec}

    def _program_for(self, program: str | None, primacy: int | None) -> str:
        """The DERProgram a control goes to: the one named; else the latest with that primacy (made if none
        has it); else the latest."""
        if program is not None:
            if primacy is not None:
                self.ensure_der_program(program, primacy)
            return program
        if primacy is not None:
            row = self.store.one(
                "SELECT name FROM program WHERE kind = 'der' AND primacy = ? ORDER BY id DESC LIMIT 1", (primacy,)
            )
            if row is not None:
                return str(row["name"])
            name = f"{OPERATOR_PROGRAM} primacy {primacy}"
            self.ensure_der_program(name, primacy)
            return name
        return self._latest_program()

    def _latest_program(self) -> str:
        row = self.store.one("SELECT name FROM program WHERE kind = 'der' ORDER BY id DESC LIMIT 1")
        if row is not None:
            return str(row["name"])
        self.ensure_der_program(OPERATOR_PROGRAM, 1)
        return OPERATOR_PROGRAM

    def _meter_id(self, lfdi: str) -> str:
        row = self.app.device_row(_lfdi(lfdi))
        if row is None:
            raise OperatorError(f"no EndDevice with LFDI {lfdi}")
        return str(row["meter_id"])

    # -- rates ---------------------------------------------------------------------------------------------
    def set_poll_rate(self, resource: str, seconds: int) -> None:
        if resource not in POLLED:
            raise OperatorError(f"pollRate of {resource!r} cannot be set (one of: {', '.join(POLLED)})")
        if seconds <= 0:
            raise OperatorError("a pollRate is a positive number of seconds")
        self.app.poll_rates[resource] = int(seconds)
        self.store.set_meta("poll_rates", self.app.poll_rates)

    def set_post_rate(self, seconds: int, lfdi: str | None = None) -> int:
        """The postRate of MirrorUsagePoints (one device's, or all); how many changed."""
        if seconds <= 0:
            raise OperatorError("a postRate is a positive number of seconds")
        if lfdi is None:
            return self.store.update("UPDATE mirror_usage_point SET post_rate = ?", (int(seconds),))
        return self.store.update(
            "UPDATE mirror_usage_point SET post_rate = ? WHERE edev_id IN (SELECT id FROM end_device WHERE lfdi = ?)",
            (int(seconds), _lfdi(lfdi)),
        )

    def reset(self) -> None:
        """Forget every device, reading, program, control and setting: a fresh head-end (a test's set-up)."""
        with self.store.transaction() as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                if table != "meta":
                    db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key = 'poll_rates'")
        self.app.poll_rates.clear()
        self.app.revoked.clear()
        self.app.aggregators.clear()


def _delete_mirrors(db: Any, edev: int) -> int:
    """Delete an EndDevice's MirrorUsagePoints with their readings (inside the caller's transaction)."""
    mups = [r[0] for r in db.execute("SELECT id FROM mirror_usage_point WHERE edev_id = ?", (edev,))]
    for mup in mups:
        db.execute("DELETE FROM reading WHERE mmr_id IN (SELECT id FROM mirror_meter_reading WHERE mup_id = ?)", (mup,))
        db.execute("DELETE FROM mirror_meter_reading WHERE mup_id = ?", (mup,))
    db.execute("DELETE FROM mirror_usage_point WHERE edev_id = ?", (edev,))
    db.execute("DELETE FROM reading_count WHERE edev_id = ?", (edev,))
    return len(mups)


def store_default_control(store: Store, program_id: int, fields: dict[str, Any], now: int) -> None:
    """Replace a program's DefaultDERControl (fields in 2030.5's units, checked): read on every GET, so a
    running head-end serves it at once (`amiscen event default` writes here too)."""
    store.execute(
        "INSERT INTO default_control(program_id, fields, changed) VALUES (?, ?, ?) "
        "ON CONFLICT(program_id) DO UPDATE SET fields = excluded.fields, changed = excluded.changed",
        (program_id, json.dumps(_fields(fields, DEFAULT_CONTROL_FIELDS)), now),
    )


def _lfdi(value: str) -> str:
    text = str(value).strip().upper()
    if len(text) != 40 or any(ch not in "0123456789ABCDEF" for ch in text):
        raise OperatorError(f"an LFDI is 40 hex digits (got {value!r})")
    return text


def _fields(values: dict[str, Any], allowed: dict[str, type]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise OperatorError(f"unknown control field(s) {', '.join(unknown)} (known: {', '.join(allowed)})")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        kind = allowed[key]
        if kind is dict:
            parts = RECORD_FIELDS[key]
            if not isinstance(value, dict) or set(value) != set(parts):
                raise OperatorError(f"{key} must be an object with {', '.join(parts)} (got {value!r})")
            out[key] = _fields(value, parts)
            continue
        try:
            out[key] = bool(value) if kind is bool else kind(value)
        except (TypeError, ValueError):
            raise OperatorError(f"{key} must be a {kind.__name__} (got {value!r})") from None
    return out

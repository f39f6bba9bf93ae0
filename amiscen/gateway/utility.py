"""The utility side: DR events and DER controls the head-end publishes, by simulated time.

Events live in the database, so an operator can add or cancel one while the head-end runs
(`amiscen serve event ...`) and meters see it at their next poll.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from amiscen.gateway.store import Store
from amiscen.sep.constants import EventStatusCode
from amiscen.sep.ids import mrid
from amiscen.sep.model.common import EventStatus

LISTED_AFTER_CANCEL = 3600  # seconds a cancelled event stays listed (as cancelled), so every poller sees the cancel


@dataclass(frozen=True)
class UtilityEvent:
    """One event as the utility schedules it. ``targets`` None means every device of its kind."""

    kind: Literal["dr", "der"]
    event_id: str
    program: str
    primacy: int
    start: int
    duration: int
    spec: dict[str, Any]
    targets: list[str] | None = None
    randomize_start: int = 0
    randomize_duration: int = 0
    created: int = 0
    cancelled_at: int | None = None
    response_required: bool = True
    row_id: int = field(default=0, compare=False)

    @property
    def end(self) -> int:
        return self.start + self.duration

    def applies_to(self, meter_id: str) -> bool:
        return self.targets is None or meter_id in self.targets

    def status(self, now: float) -> EventStatus:
        if self.cancelled_at is not None and now >= self.cancelled_at:
            return EventStatus(int(EventStatusCode.CANCELLED), self.cancelled_at)
        if now < self.start:
            return EventStatus(int(EventStatusCode.SCHEDULED), self.created)
        return EventStatus(int(EventStatusCode.ACTIVE), self.start)

    def superseded_by(self, others: list[UtilityEvent], now: float) -> UtilityEvent | None:
        """The event of the same program created later whose window overlaps this one's (2030.5: of two
        overlapping events of equal primacy, the more recently created one wins; of two created in the same
        second, the one published later), if any is live; a cancelled event stays cancelled."""
        if self.cancelled_at is not None and now >= self.cancelled_at:
            return None
        for other in others:
            if (
                other.row_id != self.row_id
                and other.kind == self.kind
                and other.program == self.program
                and (other.created, other.row_id) > (self.created, self.row_id)  # created later (in the same
                # second: published later)
                and other.created <= now
                and (other.cancelled_at is None or now < other.cancelled_at)
                and other.start < self.end
                and self.start < other.end
            ):
                return other
        return None

    def visible(self, now: float) -> bool:
        """Listed from its creation until it ends (the latest a randomised device ends it); a cancelled one for an
        hour after the cancel, so a device that applied it learns of the cancel however seldom it polls (a
        completed event is gone at its end, as CSIP-AUS servers do: its devices know its end without being told)."""
        if self.created > now:
            return False
        if self.cancelled_at is not None and self.cancelled_at < self.end:
            return now < self.cancelled_at + LISTED_AFTER_CANCEL
        # with randomisation a device may run up to randomizeStart + randomizeDuration past the end: still listed
        return now < self.end + max(self.randomize_start, 0) + max(self.randomize_duration, 0)

    @property
    def until(self) -> int:
        """When it stops being in force: its end, or its cancellation if that came first."""
        return self.end if self.cancelled_at is None else min(self.end, self.cancelled_at)

    def changes(self) -> tuple[int, ...]:
        """The times its listing changes (listed, active, cancelled, gone): when subscribers are told."""
        times = [self.created, self.start, self.end]
        if self.cancelled_at is not None:
            times += [self.cancelled_at, self.cancelled_at + LISTED_AFTER_CANCEL]
        return tuple(times)

    def active(self, now: float) -> bool:
        cancelled = self.cancelled_at is not None and now >= self.cancelled_at
        return self.start <= now < self.end and not cancelled

    def device_mrid(self, pen: int, lfdi: str) -> str:
        """Each device gets its own control (its own share of a kW target), so its own mRID."""
        return mrid(pen, self.kind, self.event_id, lfdi)


def ensure_program(store: Store, kind: str, name: str, primacy: int) -> int:
    store.execute("INSERT OR IGNORE INTO program(kind, name, primacy) VALUES (?, ?, ?)", (kind, name, primacy))
    return int(store.scalar("SELECT id FROM program WHERE kind = ? AND name = ?", (kind, name)))


def store_curve(store: Store, program_id: int, spec: dict[str, Any], created: int) -> str:
    """Keep a DERCurve in a program's DERCurveList (``spec``: mode, points, x_multiplier, y_multiplier, y_ref);
    its href."""
    n = store.execute(
        "INSERT INTO der_curve(program_id, spec, created) VALUES (?, ?, ?)", (program_id, json.dumps(spec), created)
    )
    return f"/derp/{program_id}/dc/{n}"


SCENARIO_CURVE_MODES = {
    "volt_var": "opModVoltVar",
    "watt_var": "opModWattVar",
    "volt_watt": "opModVoltWatt",
    "freq_watt": "opModFreqWatt",
}


def curve_spec(
    mode: str, points: list[list[int]], x_multiplier: int, y_multiplier: int, y_ref: int | None = None
) -> dict[str, Any]:
    """What is kept of a DERCurve: its mode, its (x, y) points as 2030.5 writes them (integers, scaled by the
    multipliers) and the unit of y (DERUnitRefType; by default %setMaxVar for a var curve, %setMaxW otherwise)."""
    if y_ref is None:
        y_ref = 2 if mode in ("opModVoltVar", "opModWattVar") else 1
    return {"mode": mode, "points": points, "x_multiplier": x_multiplier, "y_multiplier": y_multiplier, "y_ref": y_ref}


def _with_curve(store: Store, program_id: int, e: UtilityEvent) -> dict[str, Any]:
    """A scenario's curve control: its DERCurve stored (x and y in hundredths) and linked from the spec."""
    control = e.spec.get("control", {})
    if control.get("type") != "curve" or "href" in control:
        return e.spec
    points = [[round(x * 100), round(y * 100)] for x, y in control["points"]]
    spec = curve_spec(SCENARIO_CURVE_MODES[control["mode"]], points, -2, -2)
    return {**e.spec, "control": {**control, "href": store_curve(store, program_id, spec, e.created)}}


def publish(store: Store, events: list[UtilityEvent]) -> int:
    """Schedule events (those already known by id are left as they are); how many were new."""
    added = 0
    for e in events:
        program_id = ensure_program(store, e.kind, e.program, e.primacy)
        if store.one("SELECT 1 FROM event WHERE event_id = ?", (e.event_id,)) is not None:
            continue
        added += store.update(
            "INSERT OR IGNORE INTO event(kind, event_id, program, primacy, start, duration, randomize_start, "
            "randomize_duration, spec, targets, created, cancelled_at, response_required) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.kind,
                e.event_id,
                e.program,
                e.primacy,
                e.start,
                e.duration,
                e.randomize_start,
                e.randomize_duration,
                json.dumps(_with_curve(store, program_id, e)),
                None if e.targets is None else json.dumps(e.targets),
                e.created,
                e.cancelled_at,
                int(e.response_required),
            ),
        )
    return added


def cancel(store: Store, event_id: str, at: int) -> bool:
    return bool(
        store.update("UPDATE event SET cancelled_at = ? WHERE event_id = ? AND cancelled_at IS NULL", (at, event_id))
    )


def events(store: Store, kind: str | None = None) -> list[UtilityEvent]:
    """The events scheduled (of ``kind``: dr or der), by start. Read on most requests (every DR and DER list a
    meter polls): held by the store until the events change (``Store.cached``)."""
    return [e for e in store.cached("event", lambda: _events(store)) if kind is None or e.kind == kind]


def _events(store: Store) -> list[UtilityEvent]:
    rows = store.all("SELECT * FROM event ORDER BY start, id")
    return [
        UtilityEvent(
            kind=r["kind"],
            event_id=r["event_id"],
            program=r["program"],
            primacy=r["primacy"],
            start=r["start"],
            duration=r["duration"],
            spec=json.loads(r["spec"]),
            targets=None if r["targets"] is None else json.loads(r["targets"]),
            randomize_start=r["randomize_start"],
            randomize_duration=r["randomize_duration"],
            created=r["created"],
            cancelled_at=r["cancelled_at"],
            response_required=bool(r["response_required"]),
            row_id=r["id"],
        )
        for r in rows
    ]

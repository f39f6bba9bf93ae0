"""The scenario's ``expect:`` block, checked against what happened; JUnit XML for CI."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from amiscen.play.observe import Metrics
from amiscen.scenario.events import DemandResponseEvent
from amiscen.scenario.model import Scenario
from amiscen.sep.constants import ResponseStatus as RS


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    judged: bool = True  # False: this run could not judge it (the detail says why); it neither holds nor fails

    @property
    def verdict(self) -> str:
        return "not judged" if not self.judged else "ok" if self.ok else "FAIL"


def not_judged(name: str, why: str) -> Check:
    return Check(name, True, why, judged=False)


def dr_window(scenario: Scenario, event: DemandResponseEvent) -> tuple[float, float]:
    """When a DR event was in force: from its start to its end, or to its cancellation if that came first (the
    report measures the same span)."""
    start = scenario.at(event.start).timestamp()
    end = start + event.duration.total_seconds()
    if event.cancel_at is not None:
        end = max(start, min(end, scenario.at(event.cancel_at).timestamp()))
    return start, end


def measured_reduction_kw(metrics: Metrics, start: float, end: float) -> float:
    """Campus demand reduction over [start, end): baseline minus actual net import, averaged, in kW."""
    cuts = [w for t, w in metrics.reduction_w.items() if start <= t < end]
    return sum(cuts) / len(cuts) / 1000 if cuts else 0.0


def _sequence_ok(statuses: list[int]) -> bool:
    if int(RS.OPTED_OUT) in statuses:
        return int(RS.EVENT_RECEIVED) in statuses
    if int(RS.EVENT_CANCELLED) in statuses or int(RS.EVENT_SUPERSEDED) in statuses:
        return int(RS.EVENT_RECEIVED) in statuses
    wanted = [int(RS.EVENT_RECEIVED), int(RS.EVENT_STARTED), int(RS.EVENT_COMPLETED)]
    return [s for s in statuses if s in wanted] == wanted


def interrupted_check(c: Check, reached: float) -> Check:
    """A check of a run interrupted at ``reached``: judged on what was played, and saying so; a delivery count of
    nothing is no success."""
    if not c.judged:
        return c
    at = dt.datetime.fromtimestamp(reached, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok = c.ok and not (c.name == "all_readings_delivered" and c.detail.startswith("0 of 0 "))
    return dataclasses.replace(c, ok=ok, detail=f"interrupted at {at}, judged on what was played: {c.detail}")


def check(
    scenario: Scenario,
    metrics: Metrics,
    targets: dict[str, list[str]],
    stored_readings: int | None,
    pending_readings: int,
    schema_invalid: int | None,
    played_until: float | None = None,
    outbox_totals: tuple[int, int] | None = None,
    whole_campus: bool = True,
) -> list[Check]:
    """The expectations; events that end after ``played_until`` (a run cut short with --duration) are not
    judged, and the detail says so. A shard (not ``whole_campus``) cannot judge a campus-wide reduction.
    Deliveries are counted from the durable outbox when given (a resumed run spans several sessions), else from
    this session's events."""
    e = scenario.expect
    checks: list[Check] = []
    if e.all_readings_delivered:
        generated, delivered = outbox_totals or (metrics.generated, metrics.delivered)
        ok = generated == delivered and pending_readings == 0
        detail = f"{delivered:,} of {generated:,} readings delivered, {pending_readings:,} still queued"
        if stored_readings is not None:
            ok = ok and stored_readings == generated
            detail += f"; the head-end stored {stored_readings:,} (each exactly once)"
        checks.append(Check("all_readings_delivered", ok, detail))
    played = [
        x
        for x in scenario.demand_response_events()
        if played_until is None or scenario.at(x.start).timestamp() + x.duration.total_seconds() <= played_until
    ]
    skipped = len(scenario.demand_response_events()) - len(played)
    if e.dr_responses_complete:
        missing = []
        for event in played:
            for meter in targets.get(event.id, []):
                statuses = metrics.responses.get(event.id, {}).get(meter, [])
                if not _sequence_ok(statuses):
                    missing.append(f"{event.id}/{meter}: {statuses or 'none'}")
        detail = (
            f"{len(missing)} incomplete: " + "; ".join(missing[:5])
            if missing
            else f"every targeted meter of {len(played)} event(s) answered 1 -> 2 -> 3 (or opted out / cancelled)"
        )
        if skipped:
            detail += f"; {skipped} event(s) after the end of this run not judged"
        checks.append(Check("dr_responses_complete", not missing, detail))
    # an expectation of a repeated event holds for each of its occurrences
    expected = [(x, kw) for event_id, kw in e.min_dr_reduction_kw.items() for x in scenario.occurrences_of(event_id)]
    for occurrence, minimum in expected:
        assert isinstance(occurrence, DemandResponseEvent)
        event = occurrence
        event_id = event.id
        name = f"min_dr_reduction_kw[{event_id}]"
        if not whole_campus:
            checks.append(not_judged(name, "a campus-wide reduction, and this run plays a shard of the campus"))
            continue
        if event not in played:
            checks.append(not_judged(name, f"event '{event_id}' ends after the end of this run"))
            continue
        got = measured_reduction_kw(metrics, *dr_window(scenario, event))
        checks.append(
            Check(
                name,
                got >= minimum,
                f"measured {got:,.1f} kW, expected at least {minimum:,.1f} kW",
            )
        )
    if e.max_http_4xx is not None:
        n = metrics.count_4xx()
        checks.append(
            Check("max_http_4xx", n <= e.max_http_4xx, f"{n} responses with a 4xx status (limit {e.max_http_4xx})")
        )
    if schema_invalid is not None:
        checks.append(
            Check(
                "max_schema_invalid",
                schema_invalid <= e.max_schema_invalid,
                f"{schema_invalid} bodies failed sep.xsd (limit {e.max_schema_invalid})",
            )
        )
    failed = metrics.permanent_failures
    checks.append(
        Check(
            "max_failed_deliveries",
            failed <= e.max_failed_deliveries,
            f"{failed} requests refused for good (limit {e.max_failed_deliveries})",
        )
    )
    return checks


def dr_targets(scenario: Scenario, fleet_targets: dict[str, list[str]]) -> dict[str, list[str]]:
    return {e.id: fleet_targets.get(e.id, []) for e in scenario.demand_response_events()}


def write_junit(path: Path, suite: str, checks: list[Check], seconds: float) -> None:
    failures = sum(not c.ok for c in checks)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name={quoteattr(suite)} tests="{len(checks)}" failures="{failures}" errors="0" '
        f'skipped="{sum(not c.judged for c in checks)}" time="{seconds:.3f}">',
    ]
    for c in checks:
        lines.append(f"  <testcase classname={quoteattr(suite)} name={quoteattr(c.name)}>")
        if not c.judged:
            lines.append(f"    <skipped message={quoteattr(c.detail)}/>")
        elif c.ok:
            lines.append(f"    <system-out>{escape(c.detail)}</system-out>")
        else:
            lines.append(f"    <failure message={quoteattr(c.detail)}>{escape(c.detail)}</failure>")
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

"""The end-of-run summary: what the campus did, what the gateway got, what failed and what to do about it."""

from __future__ import annotations

from amiscen.play.expect import Check, dr_window, measured_reduction_kw
from amiscen.play.observe import Metrics
from amiscen.runner.fleet import Lateness
from amiscen.runner.transport import FIXES
from amiscen.scenario.model import MeterSpec, Scenario


def summary_text(
    s: Scenario,
    metrics: Metrics,
    checks: list[Check],
    fleet: list[MeterSpec],
    wall: float,
    sim_seconds: float,
    interrupted: bool,
    lateness: dict[str, Lateness] | None = None,
) -> str:
    load, pv = metrics.energy_wh["load"] / 1000, metrics.energy_wh["pv"] / 1000
    imported, exported = metrics.energy_wh["import"] / 1000, metrics.energy_wh["export"] / 1000
    lines = [
        f"amiscen run: {s.name} ({s.network.id}) {'INTERRUPTED' if interrupted else ''}".rstrip(),
        f"  simulated {sim_seconds / 3600:,.2f} h in {wall:,.1f} s wall ({sim_seconds / max(wall, 1e-9):,.0f}x)",
        f"  campus: consumption {load:,.0f} kWh{_shed_note(metrics)}, PV {pv:,.0f} kWh, import {imported:,.0f} kWh, "
        f"feed-in {exported:,.0f} kWh",
        f"  readings: {metrics.delivered:,} delivered of {metrics.generated:,} generated; "
        f"{metrics.requests:,} requests; {metrics.retries} retried failures",
    ]
    if lateness:
        lines.append(f"  on time: {lateness_text(lateness)}")
    if metrics.subscriptions:
        lines.append(
            f"  subscriptions: {metrics.subscriptions:,} to event lists; {metrics.notifications:,} notifications taken"
        )
    socs = list(metrics.stored_wh.values())
    if socs:
        lines.append(f"  batteries: {len(socs)} holding {sum(socs) / 1000:,.0f} kWh at the end")
    for e in s.demand_response_events():
        cut = measured_reduction_kw(metrics, *dr_window(s, e))
        statuses: dict[int, int] = {}
        for codes in metrics.responses.get(e.id, {}).values():
            for code in codes:
                statuses[code] = statuses.get(code, 0) + 1
        shown = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())) or "none"
        lines.append(f"  DR {e.id}: measured reduction {cut:,.1f} kW; responses by status {{{shown}}}")
    connected = [m.id for m in fleet if metrics.meters[m.id].connected_at is not None]
    lines.append(f"  meters: {len(connected)}/{len(fleet)} connected")
    for m in fleet:
        stats = metrics.meters[m.id]
        if stats.connected_at is None or stats.delivered < stats.generated:
            lines.append(
                f"    {m.id}: {'connected' if stats.connected_at else 'NOT connected'}, "
                f"{stats.delivered:,}/{stats.generated:,} readings; last failure: {stats.last_failure or '-'}"
            )
    if metrics.failures:
        lines.append("  failures by class:")
        for kind, n in metrics.failures.most_common():
            lines.append(f"    {kind}: {n}  -> {FIXES.get(kind, '')}")
    lines.append("  expectations:")
    for c in checks:
        lines.append(f"    [{c.verdict}] {c.name}: {c.detail}")
    return "\n".join(lines) + "\n"


def _shed_note(metrics: Metrics) -> str:
    """Why consumption differs from `amiscen plan`'s: what DR and controls shed from the planned load."""
    shed = (metrics.energy_wh["planned_load"] - metrics.energy_wh["load"]) / 1000
    if shed < 0.5:
        return ""
    return f" ({metrics.energy_wh['planned_load'] / 1000:,.0f} planned, {shed:,.0f} shed by DR and controls)"


def lateness_text(lateness: dict[str, Lateness]) -> str:
    """How late work started in a paced run, posts first: "99 % of 3,000 posts under 0.05 s late (worst 0.21 s)"."""
    work = Lateness.of_all(lateness)
    parts = []
    for name, part in (("posts", lateness.get("post")), ("tasks", work)):
        if part is not None and part.n:
            parts.append(f"99 % of {part.n:,} {name} under {part.upper(0.99):g} s late (worst {part.worst:.2f} s)")
    return "; ".join(parts)

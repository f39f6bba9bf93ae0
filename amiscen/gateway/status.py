"""What the head-end has seen, from its database (while it runs or after)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from amiscen.gateway.store import Store
from amiscen.gateway.utility import events


def _clock(zone: ZoneInfo) -> Callable[[float | None], str]:
    """Times as the report shows them: the site's local time, with its UTC offset (+07:00) so nothing is ambiguous."""

    def show(epoch: float | None) -> str:
        if epoch is None:
            return "-"
        return dt.datetime.fromtimestamp(epoch, zone).isoformat(sep=" ", timespec="seconds")

    return show


def status_text(store: Store) -> str:
    name = store.meta("timezone") or "UTC"
    at = _clock(ZoneInfo(name))
    lines = [f"times are local ({name})"]
    devices = store.all(
        "SELECT d.meter_id, d.lfdi, d.last_contact, coalesce(c.n, 0) AS readings "
        "FROM end_device d LEFT JOIN reading_count c ON c.edev_id = d.id ORDER BY d.meter_id"
    )
    lines.append(f"devices registered: {len(devices)}")
    for d in devices:
        lines.append(
            f"  {d['meter_id']:<24} {d['lfdi']}  readings {d['readings']:>9,}  last contact {at(d['last_contact'])}"
        )
    total = store.scalar("SELECT sum(n) FROM reading_count") or 0  # kept as readings arrive: no table scan
    lines.append(f"readings stored: {total:,}")
    lines.append("events:")
    pen = int(store.meta("pen") or 32473)
    lfdis = [d["lfdi"] for d in devices]
    for e in events(store):
        subjects = {e.device_mrid(pen, lfdi) for lfdi in lfdis}
        counts: dict[int, int] = {}
        for r in store.all("SELECT subject, status FROM response WHERE set_id = ?", (0 if e.kind == "dr" else 1,)):
            if r["subject"] in subjects:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "none"
        state = "cancelled" if e.cancelled_at is not None else "scheduled"
        lines.append(
            f"  {e.kind.upper():<3} {e.event_id:<24} {at(e.start)} for {e.duration // 60} min ({state}); "
            f"responses by status {{{shown}}}"
        )
    rejected = store.all(
        "SELECT status, reason, count(*) AS n FROM rejection GROUP BY status, reason ORDER BY n DESC LIMIT 20"
    )
    lines.append(f"rejected requests: {sum(r['n'] for r in rejected)}")
    for r in rejected:
        lines.append(f"  {r['n']:>6} x {r['status']} {r['reason']}")
    return "\n".join(lines) + "\n"

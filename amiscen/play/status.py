"""`amiscen status RUN_DIR`: what a run (running or finished) has done, from the files it keeps."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from amiscen.errors import UsageError, is_damaged_database
from amiscen.gateway.status import status_text
from amiscen.gateway.store import Store
from amiscen.play.runfiles import SUMMARY_FILE, DamagedRunFile, read_run_json
from amiscen.runner.outbox import shard_files

SUMMARY_KEYS = {"readings_delivered", "readings_generated"}  # what the status line reads of summary.json


def run_status(run_dir: Path) -> str:
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run directory")
    outbox = run_dir / "outbox.db"
    if not outbox.exists():
        raise UsageError(f"{run_dir}: not an amiscen run directory (no outbox.db)")
    lines: list[str] = []
    summary = run_dir / SUMMARY_FILE
    seen: dict[str, str] = {}  # each meter's last failure of any kind (connecting too), from the summary
    data = _summary(summary, lines) if summary.exists() else None
    if data is not None:
        seen = {mid: m.get("last_failure") or "" for mid, m in data.get("meters", {}).items()}
        state = "interrupted" if data.get("interrupted") else "finished"
        failed = [c["name"] for c in data.get("checks", []) if not c["ok"]]
        lines.append(
            f"{run_dir}: {state}; {data['readings_delivered']:,} of {data['readings_generated']:,} readings "
            f"delivered; expectations {'all held' if not failed else 'failed: ' + ', '.join(failed)}"
        )
    else:
        lines.append(f"{run_dir}: running (or stopped without a summary)")
    try:
        rows = sorted(row for shard in shard_files(outbox) for row in _meters(shard))  # a meter is on one shard
    except sqlite3.DatabaseError as exc:
        if not is_damaged_database(exc):  # a lock held too long is not damage
            raise
        raise UsageError(f"{outbox}: not an outbox, or a damaged one ({exc}): the run's state cannot be read") from None
    lines.append(f"{'meter':<24} {'posts':>7} {'readings sent':>14} {'queued':>8} {'items queued':>13}  last failure")
    for meter, posts, sent, queued, items, failure in rows:
        failure = failure or seen.get(meter)  # a meter that never connected tried no outbox item
        lines.append(
            f"{meter:<24} {posts or 0:>7,} {sent or 0:>14,} {queued or 0:>8,} {items or 0:>13,}  "
            f"{(failure or '-')[:60]}"
        )
    headend = run_dir / "headend.db"
    if headend.exists():
        lines.append("embedded head-end:")
        lines += ["  " + line for line in status_text(Store(headend)).splitlines()]
    return "\n".join(lines) + "\n"


def _summary(path: Path, lines: list[str]) -> dict[str, Any] | None:
    """A run's summary.json; a damaged one is said in ``lines`` and read as none (the outbox still tells)."""
    try:
        return read_run_json(path, SUMMARY_KEYS)
    except DamagedRunFile as exc:
        lines.append(f"{exc.message}; the outbox below is what is known")
        return None


def _meters(shard: Path) -> list[tuple[str, int, int, int, int, str | None]]:
    """Per meter of one outbox file: posts and readings sent, readings and items queued, the last failure."""
    with contextlib.closing(sqlite3.connect(f"file:{shard}?mode=ro", uri=True)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        in_flight = (
            "SELECT meter, sum(delivered IS NOT NULL AND readings > 0) AS posts, sum(CASE WHEN delivered IS NOT NULL "
            "THEN readings ELSE 0 END) AS sent, sum(CASE WHEN delivered IS NULL THEN readings ELSE 0 END) AS queued, "
            "sum(delivered IS NULL) AS items, max(last_failure) AS failure FROM outbox GROUP BY meter"
        )
        if "sent" in tables:  # delivered items left the outbox and were counted per meter
            return db.execute(
                "SELECT m.meter, coalesce(s.posts, 0) + coalesce(o.posts, 0), coalesce(s.readings, 0) + "
                "coalesce(o.sent, 0), o.queued, o.items, coalesce(o.failure, s.last_failure) "
                "FROM (SELECT meter FROM outbox UNION SELECT meter FROM sent) AS m "
                f"LEFT JOIN sent AS s ON s.meter = m.meter LEFT JOIN ({in_flight}) AS o ON o.meter = m.meter "
                "ORDER BY m.meter"
            ).fetchall()
        return db.execute(in_flight + " ORDER BY meter").fetchall()  # an outbox of an older amiscen: rows kept

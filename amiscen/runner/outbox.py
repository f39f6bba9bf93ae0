"""The durable outbox: everything a meter must deliver enters SQLite before it is sent and leaves only on a 2xx.

A killed run resumes from it; a gateway outage fills it and it drains on recovery. A delivered item leaves the
table (the head-end has it), counted per meter in `sent`: the outbox is the size of what is in flight, not of the
whole run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, meter TEXT NOT NULL, kind TEXT NOT NULL, target TEXT, body BLOB NOT NULL,
    readings INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL, delivered REAL, last_failure TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (meter, delivered, id);
CREATE TABLE IF NOT EXISTS state (meter TEXT PRIMARY KEY, saved_at REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sent (
    meter TEXT PRIMARY KEY, posts INTEGER NOT NULL, readings INTEGER NOT NULL, last_failure TEXT);
"""


@dataclass(frozen=True)
class Item:
    id: int
    meter: str
    kind: str  # readings / response / log_event / flow_request / der
    target: str | None  # path; None: the meter's mirror, resolved at send time
    body: bytes
    readings: int
    attempts: int
    next_try: float


class Outbox:
    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # a new outbox gives freed pages back (see close)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def add(self, meter: str, kind: str, target: str | None, body: bytes, readings: int, now: float) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO outbox(meter, kind, target, body, readings, created, next_try) VALUES (?,?,?,?,?,?,?)",
                (meter, kind, target, body, readings, now, now),
            )
            return int(cur.lastrowid or 0)

    def add_with_state(
        self, meter: str, kind: str, target: str | None, body: bytes, readings: int, now: float, state: dict[str, Any]
    ) -> int:
        """Queue an item and checkpoint the meter's state in one transaction: after a crash the two agree, so a
        resumed run neither repeats nor skips an interval."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    "INSERT INTO outbox(meter, kind, target, body, readings, created, next_try) VALUES (?,?,?,?,?,?,?)",
                    (meter, kind, target, body, readings, now, now),
                )
                self._db.execute(
                    "INSERT INTO state(meter, saved_at, data) VALUES (?, ?, ?) ON CONFLICT(meter) "
                    "DO UPDATE SET saved_at = excluded.saved_at, data = excluded.data",
                    (meter, now, json.dumps(state)),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return int(cur.lastrowid or 0)

    def state(self, meter: str) -> tuple[float, dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute("SELECT saved_at, data FROM state WHERE meter = ?", (meter,)).fetchone()
        return None if row is None else (float(row[0]), json.loads(row[1]))

    def totals(self) -> tuple[int, int]:
        """(readings ever queued, readings delivered), over every session of this run."""
        with self._lock:
            queued, old = self._db.execute(
                "SELECT coalesce(sum(readings), 0), coalesce(sum(CASE WHEN delivered IS NOT NULL "
                "THEN readings ELSE 0 END), 0) FROM outbox"  # delivered rows kept: an outbox of an older amiscen
            ).fetchone()
            sent = self._db.execute("SELECT coalesce(sum(readings), 0) FROM sent").fetchone()[0]
        return int(queued) + int(sent), int(old) + int(sent)

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def due(self, meter: str, now: float, limit: int = 100) -> list[Item]:
        """Undelivered items of a meter whose retry time has come, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, meter, kind, target, body, readings, attempts, next_try FROM outbox "
                "WHERE meter = ? AND delivered IS NULL AND next_try <= ? ORDER BY id LIMIT ?",
                (meter, now, limit),
            ).fetchall()
        return [Item(*row) for row in rows]

    def split(self, item_id: int, parts: list[tuple[bytes, int]]) -> None:
        """Replace an item by smaller ones (a server refused it as too large): the first part keeps its place, the
        others follow; the readings they carry add up to the item's."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT meter, kind, target, created, next_try FROM outbox WHERE id = ?", (item_id,)
                ).fetchone()
                (first_body, first_readings), *rest = parts
                self._db.execute(
                    "UPDATE outbox SET body = ?, readings = ? WHERE id = ?", (first_body, first_readings, item_id)
                )
                for body, readings in rest:
                    self._db.execute(
                        "INSERT INTO outbox(meter, kind, target, body, readings, created, next_try) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (*row[:3], body, readings, row[3], row[4]),
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def delivered(self, item_id: int, now: float) -> None:
        """The item reached the head-end: it leaves the outbox, and its meter's counts of what was sent grow."""
        del now  # when it was delivered is the head-end's record
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT meter, readings, last_failure FROM outbox WHERE id = ?", (item_id,))
                found = row.fetchone()
                if found is not None:
                    meter, readings, failure = found
                    self._db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
                    self._db.execute(
                        "INSERT INTO sent(meter, posts, readings, last_failure) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(meter) DO UPDATE SET posts = posts + excluded.posts, "
                        "readings = readings + excluded.readings, "
                        "last_failure = coalesce(excluded.last_failure, last_failure)",
                        (meter, 1 if readings > 0 else 0, readings, failure),
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def failed(self, item_id: int, next_try: float, failure: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_failure = ? WHERE id = ?",
                (next_try, failure, item_id),
            )

    def pending(self, meter: str | None = None) -> tuple[int, int]:
        """(items, readings) not yet delivered."""
        where = "delivered IS NULL" + (" AND meter = ?" if meter else "")
        with self._lock:
            row = self._db.execute(
                f"SELECT count(*), coalesce(sum(readings), 0) FROM outbox WHERE {where}", (meter,) if meter else ()
            ).fetchone()
        return int(row[0]), int(row[1])

    def earliest_retry(self, meter: str) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT min(next_try) FROM outbox WHERE meter = ? AND delivered IS NULL", (meter,)
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.executescript("PRAGMA incremental_vacuum;")  # delivered items' pages go back to the disk
            self._db.close()

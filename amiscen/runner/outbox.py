"""The durable outbox: everything a meter must deliver enters SQLite before it is sent and leaves only on a 2xx.

A killed run resumes from it; a gateway outage fills it and it drains on recovery. A delivered item leaves the
table (the head-end has it), counted per meter in `sent`: the outbox is the size of what is in flight, not of the
whole run.

A large fleet's meters are spread over shards, SQLite files of their own with a lock of their own (`outbox.db`,
`outbox-1.db`, ...), so that meters on different shards never wait for each other: a meter always lands on the
same shard (a hash of its id), and `outbox.db` records how many shards the run has, so a resumed run finds them.
An item's id names its shard (id = row id x shards + shard).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import zlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amiscen.transaction import immediate

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


METERS_PER_SHARD = 200
MOST_SHARDS = 16


def shards_for(meters: int) -> int:
    """How many shards a new outbox of ``meters`` meters gets: one up to METERS_PER_SHARD meters (a campus keeps a
    single file), then one more per METERS_PER_SHARD, at most MOST_SHARDS."""
    return max(1, min(MOST_SHARDS, -(-meters // METERS_PER_SHARD)))


def shard_files(path: Path | str) -> list[Path]:
    """The files of the outbox whose first shard is ``path`` (which must exist), as it recorded them."""
    path = Path(path)
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'shards'").fetchone()
        except sqlite3.OperationalError:  # no meta table: not (or not yet) an outbox; the caller checks it
            row = None
    return _files(path, int(row[0]) if row else 1)


def _files(path: Path, shards: int) -> list[Path]:
    return [path] + [path.with_name(f"{path.stem}-{k}{path.suffix}") for k in range(1, shards)]


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


class _Shard:
    """One SQLite file of the outbox and its lock."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        with self.lock:
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # a new outbox gives freed pages back (see close)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """The shard's connection, its lock held, in one transaction (rolled back if the block raises)."""
        return immediate(self.db, self.lock)

    def empty(self) -> bool:
        with self.lock:
            return not any(
                self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in ("outbox", "state", "sent")
            )


class Outbox:
    def __init__(self, path: Path | str, shards: int = 1) -> None:
        """The outbox whose first shard is ``path``; a new one gets ``shards`` shards, an existing one keeps the
        shards it was made with (an outbox of an older amiscen has one)."""
        path = Path(path)
        first = _Shard(path)
        recorded = first.db.execute("SELECT value FROM meta WHERE key = 'shards'").fetchone()
        if recorded is not None:
            shards = int(recorded[0])
        else:
            shards = shards if first.empty() else 1
            first.db.execute("INSERT INTO meta(key, value) VALUES ('shards', ?)", (str(shards),))
        self._shards = [first] + [_Shard(p) for p in _files(path, shards)[1:]]
        self._count = shards

    def _of(self, meter: str) -> tuple[int, _Shard]:
        number = zlib.crc32(meter.encode()) % self._count if self._count > 1 else 0
        return number, self._shards[number]

    def _id(self, row_id: int, number: int) -> int:
        """An item's id, from its row id in shard ``number``."""
        return row_id * self._count + number

    def _item(self, item_id: int) -> tuple[int, _Shard]:
        """The row id of an item in its shard, and the shard (the inverse of _id)."""
        row, number = divmod(item_id, self._count)
        return row, self._shards[number]

    @property
    def shards(self) -> int:
        return self._count

    def add(self, meter: str, kind: str, target: str | None, body: bytes, readings: int, now: float) -> int:
        number, shard = self._of(meter)
        with shard.lock:
            cur = shard.db.execute(
                "INSERT INTO outbox(meter, kind, target, body, readings, created, next_try) VALUES (?,?,?,?,?,?,?)",
                (meter, kind, target, body, readings, now, now),
            )
            return self._id(int(cur.lastrowid or 0), number)

    def add_with_state(
        self, meter: str, kind: str, target: str | None, body: bytes, readings: int, now: float, state: dict[str, Any]
    ) -> int:
        """Queue an item and checkpoint the meter's state in one transaction: after a crash the two agree, so a
        resumed run neither repeats nor skips an interval."""
        number, shard = self._of(meter)
        with shard.transaction() as db:
            cur = db.execute(
                "INSERT INTO outbox(meter, kind, target, body, readings, created, next_try) VALUES (?,?,?,?,?,?,?)",
                (meter, kind, target, body, readings, now, now),
            )
            db.execute(
                "INSERT INTO state(meter, saved_at, data) VALUES (?, ?, ?) ON CONFLICT(meter) "
                "DO UPDATE SET saved_at = excluded.saved_at, data = excluded.data",
                (meter, now, json.dumps(state)),
            )
        return self._id(int(cur.lastrowid or 0), number)

    def state(self, meter: str) -> tuple[float, dict[str, Any]] | None:
        _, shard = self._of(meter)
        with shard.lock:
            row = shard.db.execute("SELECT saved_at, data FROM state WHERE meter = ?", (meter,)).fetchone()
        return None if row is None else (float(row[0]), json.loads(row[1]))

    def totals(self) -> tuple[int, int]:
        """(readings ever queued, readings delivered), over every session of this run."""
        queued = delivered = 0
        for shard in self._shards:
            with shard.lock:
                in_flight, old = shard.db.execute(
                    "SELECT coalesce(sum(readings), 0), coalesce(sum(CASE WHEN delivered IS NOT NULL "
                    "THEN readings ELSE 0 END), 0) FROM outbox"  # delivered rows kept: an outbox of an older amiscen
                ).fetchone()
                sent = shard.db.execute("SELECT coalesce(sum(readings), 0) FROM sent").fetchone()[0]
            queued += int(in_flight) + int(sent)
            delivered += int(old) + int(sent)
        return queued, delivered

    def meta(self, key: str) -> str | None:
        first = self._shards[0]
        with first.lock:
            row = first.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        first = self._shards[0]
        with first.lock:
            first.db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def due(self, meter: str, now: float, limit: int = 100) -> list[Item]:
        """Undelivered items of a meter whose retry time has come, oldest first."""
        number, shard = self._of(meter)
        with shard.lock:
            rows = shard.db.execute(
                "SELECT id, meter, kind, target, body, readings, attempts, next_try FROM outbox "
                "WHERE meter = ? AND delivered IS NULL AND next_try <= ? ORDER BY id LIMIT ?",
                (meter, now, limit),
            ).fetchall()
        return [Item(self._id(row[0], number), *row[1:]) for row in rows]

    def split(self, item_id: int, parts: list[tuple[bytes, int]]) -> None:
        """Replace an item by smaller ones (a server refused it as too large): the first part keeps its place, the
        others follow; the readings they carry add up to the item's."""
        row_id, shard = self._item(item_id)
        with shard.transaction() as db:
            row = db.execute(
                "SELECT meter, kind, target, created, next_try FROM outbox WHERE id = ?", (row_id,)
            ).fetchone()
            (first_body, first_readings), *rest = parts
            db.execute("UPDATE outbox SET body = ?, readings = ? WHERE id = ?", (first_body, first_readings, row_id))
            for body, readings in rest:
                db.execute(
                    "INSERT INTO outbox(meter, kind, target, body, readings, created, next_try) VALUES (?,?,?,?,?,?,?)",
                    (*row[:3], body, readings, row[3], row[4]),
                )

    def delivered(self, item_id: int, now: float) -> None:
        """The item reached the head-end: it leaves the outbox, and its meter's counts of what was sent grow."""
        del now  # when it was delivered is the head-end's record
        row_id, shard = self._item(item_id)
        with shard.transaction() as db:
            found = db.execute("SELECT meter, readings, last_failure FROM outbox WHERE id = ?", (row_id,)).fetchone()
            if found is not None:
                meter, readings, failure = found
                db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                db.execute(
                    "INSERT INTO sent(meter, posts, readings, last_failure) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(meter) DO UPDATE SET posts = posts + excluded.posts, "
                    "readings = readings + excluded.readings, "
                    "last_failure = coalesce(excluded.last_failure, last_failure)",
                    (meter, 1 if readings > 0 else 0, readings, failure),
                )

    def failed(self, item_id: int, next_try: float, failure: str) -> None:
        row_id, shard = self._item(item_id)
        with shard.lock:
            shard.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_failure = ? WHERE id = ?",
                (next_try, failure, row_id),
            )

    def pending(self, meter: str | None = None) -> tuple[int, int]:
        """(items, readings) not yet delivered, of one meter or of all."""
        if meter is not None:
            _, shard = self._of(meter)
            with shard.lock:
                row = shard.db.execute(
                    "SELECT count(*), coalesce(sum(readings), 0) FROM outbox WHERE delivered IS NULL AND meter = ?",
                    (meter,),
                ).fetchone()
            return int(row[0]), int(row[1])
        items = readings = 0
        for shard in self._shards:
            with shard.lock:
                row = shard.db.execute(
                    "SELECT count(*), coalesce(sum(readings), 0) FROM outbox WHERE delivered IS NULL"
                ).fetchone()
            items += int(row[0])
            readings += int(row[1])
        return items, readings

    def earliest_retry(self, meter: str) -> float | None:
        _, shard = self._of(meter)
        with shard.lock:
            row = shard.db.execute(
                "SELECT min(next_try) FROM outbox WHERE meter = ? AND delivered IS NULL", (meter,)
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def close(self) -> None:
        for shard in self._shards:
            with shard.lock:
                shard.db.executescript("PRAGMA incremental_vacuum;")  # delivered items' pages go back to the disk
                shard.db.close()

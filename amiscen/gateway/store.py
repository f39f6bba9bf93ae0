"""The head-end's storage: SQLite, so a run's data survives a restart and can be inspected with any tool."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

from amiscen.errors import UsageError, is_damaged_database
from amiscen.transaction import immediate

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS end_device (
    id INTEGER PRIMARY KEY, lfdi TEXT UNIQUE NOT NULL, sfdi INTEGER NOT NULL, meter_id TEXT NOT NULL,
    device_category INTEGER, changed_time INTEGER NOT NULL, post_rate INTEGER, registered_time INTEGER,
    pin INTEGER NOT NULL, last_contact REAL);
CREATE TABLE IF NOT EXISTS mirror_usage_point (
    id INTEGER PRIMARY KEY, edev_id INTEGER NOT NULL REFERENCES end_device(id), mrid TEXT UNIQUE NOT NULL,
    description TEXT, role_flags INTEGER NOT NULL, service_kind INTEGER NOT NULL, status INTEGER NOT NULL,
    post_rate INTEGER);
CREATE TABLE IF NOT EXISTS mirror_meter_reading (
    id INTEGER PRIMARY KEY, mup_id INTEGER NOT NULL REFERENCES mirror_usage_point(id), mrid TEXT NOT NULL,
    description TEXT, reading_type TEXT NOT NULL, UNIQUE (mup_id, mrid));
CREATE TABLE IF NOT EXISTS reading (
    mmr_id INTEGER NOT NULL, start INTEGER NOT NULL, duration INTEGER NOT NULL, value INTEGER,
    quality INTEGER, received REAL NOT NULL, PRIMARY KEY (mmr_id, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reading_count (edev_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS der_resource (
    edev_id INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (edev_id, kind));
CREATE TABLE IF NOT EXISTS program (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, primacy INTEGER NOT NULL, UNIQUE (kind, name));
CREATE TABLE IF NOT EXISTS event (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, event_id TEXT UNIQUE NOT NULL, program TEXT NOT NULL,
    primacy INTEGER NOT NULL, start INTEGER NOT NULL, duration INTEGER NOT NULL, randomize_start INTEGER NOT NULL,
    randomize_duration INTEGER NOT NULL, spec TEXT NOT NULL, targets TEXT, created INTEGER NOT NULL,
    cancelled_at INTEGER, response_required INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS response (
    id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL, lfdi TEXT NOT NULL, subject TEXT NOT NULL,
    status INTEGER, created INTEGER, received REAL NOT NULL, UNIQUE (set_id, lfdi, subject, status));
CREATE TABLE IF NOT EXISTS log_event (
    id INTEGER PRIMARY KEY, edev_id INTEGER NOT NULL, created INTEGER NOT NULL, function_set INTEGER NOT NULL,
    code INTEGER NOT NULL, log_id INTEGER NOT NULL, pen INTEGER NOT NULL, profile INTEGER NOT NULL,
    details TEXT, extended INTEGER, UNIQUE (edev_id, created, log_id));
CREATE TABLE IF NOT EXISTS flow_request (
    id INTEGER PRIMARY KEY, edev_id INTEGER NOT NULL, mrid TEXT NOT NULL, body TEXT NOT NULL,
    start INTEGER NOT NULL, duration INTEGER NOT NULL, energy_wh INTEGER NOT NULL, power_w INTEGER NOT NULL,
    granted_energy_wh INTEGER NOT NULL, granted_power_w INTEGER NOT NULL, created INTEGER NOT NULL,
    UNIQUE (edev_id, mrid));
CREATE TABLE IF NOT EXISTS rejection (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, lfdi TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    status INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS request_count (lfdi TEXT PRIMARY KEY, requests INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS default_control (
    program_id INTEGER PRIMARY KEY, fields TEXT NOT NULL, changed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS client_access (lfdi TEXT PRIMARY KEY, granted INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aggregator (lfdi TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS fsa (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS program_fsa (program_id INTEGER PRIMARY KEY, fsa_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subscription (
    id INTEGER PRIMARY KEY, edev_id INTEGER NOT NULL, lfdi TEXT NOT NULL, sfdi INTEGER NOT NULL,
    meter_id TEXT NOT NULL, resource TEXT NOT NULL, notification_uri TEXT NOT NULL, lim INTEGER NOT NULL,
    level TEXT NOT NULL, created REAL NOT NULL, digest TEXT, delivered INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE IF NOT EXISTS edev_owner (edev_id INTEGER PRIMARY KEY, owner TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reading_conflict (
    mmr_id INTEGER NOT NULL, start INTEGER NOT NULL, kept INTEGER, posted INTEGER, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS der_curve (
    id INTEGER PRIMARY KEY, program_id INTEGER NOT NULL, spec TEXT NOT NULL, created INTEGER NOT NULL);
-- lookups that scanned a whole table on every request that made them (issue #16: a device's mirrors on each
-- DeviceCapability, every other device's MirrorMeterReadings on each declaration, so a fleet's boot grew with
-- the square of its size)
CREATE INDEX IF NOT EXISTS mirror_usage_point_edev ON mirror_usage_point (edev_id);
CREATE INDEX IF NOT EXISTS mirror_meter_reading_mrid ON mirror_meter_reading (mrid);
CREATE INDEX IF NOT EXISTS subscription_edev ON subscription (edev_id);
-- every change to the utility's events counted, whoever makes it (Store.cached)
INSERT OR IGNORE INTO meta(key, value) VALUES ('changes:event', 0);
CREATE TRIGGER IF NOT EXISTS event_inserted AFTER INSERT ON event
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'changes:event'; END;
CREATE TRIGGER IF NOT EXISTS event_updated AFTER UPDATE ON event
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'changes:event'; END;
CREATE TRIGGER IF NOT EXISTS event_deleted AFTER DELETE ON event
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'changes:event'; END;
"""


class Store:
    """One SQLite connection shared by the server's threads behind a lock (writes are short)."""

    def __init__(self, path: Path | str, readonly: bool = False) -> None:
        """``readonly`` opens an existing database for reading only (a report on a finished or running run)."""
        self.path = Path(path)
        self._cached: dict[str, tuple[Any, Any]] = {}  # by table: its count of changes, and what was read
        if readonly:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._lock = threading.RLock()
            with self._told_if_damaged():
                tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"end_device", "reading", "meta"} <= tables:
                raise UsageError(f"{self.path}: not an amiscen head-end database (its tables are missing)")
            return
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock, self._told_if_damaged():
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            if self._db.execute("SELECT value FROM meta WHERE key = 'reading_count'").fetchone() is None:
                # a database from before the counts were kept: count once what it holds
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("DELETE FROM reading_count")
                self._db.execute(
                    "INSERT INTO reading_count(edev_id, n) SELECT u.edev_id, count(*) FROM reading r "
                    "JOIN mirror_meter_reading m ON m.id = r.mmr_id JOIN mirror_usage_point u ON u.id = m.mup_id "
                    "GROUP BY u.edev_id"
                )
                self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('reading_count', '1')")
                self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _told_if_damaged(self) -> Iterator[None]:
        """A file that is not a database, or a damaged one: the user's to see to (exit 2), not a bug."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if not is_damaged_database(exc):
                raise
            self._db.close()
            raise UsageError(
                f"{self.path}: not a database, or a damaged one ({exc})",
                hint="give another --db (or run directory); a damaged head-end database cannot be read",
            ) from None

    def close(self, compact: bool = False) -> None:
        """``compact``: rewrite the file with its pages full first (VACUUM; readings arrive interleaved across
        devices and leave B-tree pages part-empty: a campus day's database shrinks by a tenth, in a quarter
        second). For a run's own head-end, whose database is as large as the run; never on a long-lived one."""
        with self._lock:
            if compact:
                self._db.execute("VACUUM")
            self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock)

    def cached(self, table: str, read: Callable[[], T]) -> T:
        """``read()`` of a small table that is read on most requests and seldom written (the utility's events),
        read again only once the table has changed: triggers count every change to it in meta ``changes:TABLE``,
        whoever makes it (this head-end, `amiscen serve event` from another process, the operator's reset). What
        it returns is shared: not to be changed."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"changes:{table}",)).fetchone()
            held = self._cached.get(table)
        if row is None:  # a database without the count (opened read-only, made by an older amiscen): not held
            return read()
        if held is not None and held[0] == row[0]:
            return typing.cast(T, held[1])
        value = read()  # a change after the count was taken leaves a count that no longer matches: read again
        with self._lock:
            self._cached[table] = (row[0], value)
        return value

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self.one(sql, args)
        return None if row is None else row[0]

    def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; the last row id."""
        with self._lock:
            cursor = self._db.execute(sql, args)
            return int(cursor.lastrowid or 0)

    def update(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        with self._lock:
            return int(self._db.execute(sql, args).rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(sql, rows)
            return db.total_changes - before

    def add_readings(self, rows: Sequence[Sequence[Any]], edev_id: int) -> int:
        """Store readings (mmr_id, start, duration, value, quality, received) a device posted, each once (the
        first value stays), and count them with the device in the same transaction, so that status never has to
        count the whole table (it took minutes for thousands of meters). How many were new."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO reading(mmr_id, start, duration, value, quality, received) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            inserted = db.total_changes - before
            if inserted:
                db.execute(
                    "INSERT INTO reading_count(edev_id, n) VALUES (?, ?) "
                    "ON CONFLICT(edev_id) DO UPDATE SET n = n + excluded.n",
                    (edev_id, inserted),
                )
            return inserted

    def meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else str(value)

    def set_meta(self, key: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value)
        self.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, text),
        )

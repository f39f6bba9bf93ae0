"""The one write transaction the outbox and the head-end's store share: committed at the end of the block,
rolled back when it raises, under the caller's lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from amiscen.errors import is_disk_full
from amiscen.transaction import immediate


def test_committed_or_rolled_back_whole(tmp_path: Path) -> None:
    db = sqlite3.connect(str(tmp_path / "t.db"), isolation_level=None)
    db.execute("CREATE TABLE t (x INTEGER)")
    lock = threading.Lock()
    with immediate(db, lock) as tx:
        tx.execute("INSERT INTO t VALUES (1)")
        assert lock.locked()
    with pytest.raises(RuntimeError), immediate(db, lock) as tx:
        tx.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("half way")
    assert not lock.locked() and not db.in_transaction
    assert db.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_full_disk_is_told_as_such_and_leaves_no_transaction_open(tmp_path: Path) -> None:
    """SQLite rolls a transaction back itself when the disk is full (SQLITE_FULL, here a page cap): the error that
    comes out is that one, not "cannot rollback - no transaction is active", and the next transaction works."""
    db = sqlite3.connect(str(tmp_path / "t.db"), isolation_level=None)
    db.execute("CREATE TABLE t (x BLOB)")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    lock = threading.Lock()
    with pytest.raises(sqlite3.OperationalError) as full, immediate(db, lock) as tx:
        tx.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,)] * 20)
    assert is_disk_full(full.value)  # SQLITE_FULL
    assert not lock.locked() and not db.in_transaction
    db.execute(f"PRAGMA max_page_count = {pages * 100}")
    with immediate(db, lock) as tx:
        tx.execute("INSERT INTO t VALUES (x'01')")
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 1

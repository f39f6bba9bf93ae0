"""One SQLite write transaction under a lock: the outbox's shards and the head-end's store both need it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def immediate(db: sqlite3.Connection, lock: AbstractContextManager[object]) -> Iterator[sqlite3.Connection]:
    """``db`` (in autocommit mode, ``isolation_level=None``) with ``lock`` held, in one BEGIN IMMEDIATE
    transaction: committed when the block ends, rolled back if it or the commit raises. SQLite may have rolled it
    back itself (a full disk, SQLITE_FULL, does): then there is nothing to roll back, and the error told is the
    one that ended it, not "cannot rollback"."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

"""One SQLite write transaction under a lock: the outbox's shards and the head-end's store both need it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def immediate(db: sqlite3.Connection, lock: AbstractContextManager[object]) -> Iterator[sqlite3.Connection]:
    """``db`` (in autocommit mode, ``isolation_level=None``) with ``lock`` held, in one BEGIN IMMEDIATE
    transaction: committed when the block ends, rolled back if it raises."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

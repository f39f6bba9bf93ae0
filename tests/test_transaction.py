"""The one write transaction the outbox and the head-end's store share: committed at the end of the block,
rolled back when it raises, under the caller's lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

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

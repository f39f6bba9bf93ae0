"""The outbox keeps what is in flight, not the whole run (issue #19: 184 MB per campus day of delivered bodies)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from amiscen.runner.outbox import Outbox


def test_a_delivered_item_keeps_its_counts_and_drops_its_body(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    ids = [outbox.add("M1", "readings", None, b"x" * 10_000, 24, float(n)) for n in range(50)]
    for item_id in ids[:40]:
        outbox.delivered(item_id, 100.0)
    assert outbox.totals() == (50 * 24, 40 * 24)
    assert outbox.pending("M1") == (10, 10 * 24)
    assert [len(i.body) for i in outbox.due("M1", 1e9)] == [10_000] * 10  # what is in flight is whole
    outbox.close()
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        assert db.execute("SELECT sum(length(body)) FROM outbox WHERE delivered IS NOT NULL").fetchone()[0] == 0

"""The outbox keeps what is in flight, not the whole run (issue #19: 184 MB per campus day of delivered bodies;
issue #16: delivered rows leave it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from amiscen.play.status import run_status
from amiscen.runner.outbox import Outbox


def test_a_delivered_item_leaves_and_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    ids = [outbox.add("M1", "readings", None, b"x" * 10_000, 24, float(n)) for n in range(500)]
    ids.append(outbox.add("M1", "response", "/rsp", b"<Response/>", 0, 1.0))
    outbox.failed(ids[0], 5.0, "503 Service Unavailable")
    for item_id in [*ids[:400], ids[-1]]:
        outbox.delivered(item_id, 100.0)
    assert outbox.totals() == (500 * 24, 400 * 24)
    assert outbox.pending("M1") == (100, 100 * 24)
    assert [len(i.body) for i in outbox.due("M1", 1e9)] == [10_000] * 100  # what is in flight is whole
    outbox.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 100
        assert db.execute("SELECT * FROM sent").fetchall() == [("M1", 400, 400 * 24, "503 Service Unavailable")]
    assert path.stat().st_size < 1.5 * 100 * 10_000  # the delivered items' pages went back to the disk
    again = Outbox(path)  # a resumed run counts on
    assert again.totals() == (500 * 24, 400 * 24)
    again.close()


def test_status_reads_what_was_sent_and_what_is_queued(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    for n in range(3):
        item = outbox.add("M1", "readings", None, b"r", 10, float(n))
        if n < 2:
            outbox.delivered(item, 10.0)
    outbox.delivered(outbox.add("M2", "readings", None, b"r", 7, 0.0), 1.0)
    outbox.close()
    text = run_status(tmp_path)
    rows = {line.split()[0]: line.split()[1:5] for line in text.splitlines() if line.startswith("M")}
    assert rows == {"M1": ["2", "20", "10", "1"], "M2": ["1", "7", "0", "0"]}

"""The outbox keeps what is in flight, not the whole run (issue #19: 184 MB per campus day of delivered bodies;
issue #16: delivered rows leave it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from amiscen.play.status import run_status
from amiscen.runner.outbox import SCHEMA, Outbox, shards_for


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


def test_meters_spread_over_shards_each_item_found_by_its_id(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path, shards=4)
    meters = [f"AMI_{n:03d}" for n in range(40)]
    ids = {m: [outbox.add(m, "readings", None, f"{m}/{k}".encode(), 10, float(k)) for k in range(3)] for m in meters}
    assert len({i for row in ids.values() for i in row}) == 120  # unique across shards
    for m in meters:
        outbox.delivered(ids[m][0], 5.0)
        outbox.failed(ids[m][1], 50.0, "503 Service Unavailable")
        outbox.split(ids[m][2], [(f"{m}/2a".encode(), 4), (f"{m}/2b".encode(), 6)])
    assert outbox.totals() == (1200, 400)
    assert outbox.pending() == (120, 800)
    assert [(i.body, i.readings) for i in outbox.due("AMI_007", 10.0)] == [(b"AMI_007/2a", 4), (b"AMI_007/2b", 6)]
    assert outbox.earliest_retry("AMI_007") == 2.0
    outbox.close()
    files = sorted(p.name for p in tmp_path.glob("outbox*.db"))
    assert files == ["outbox-1.db", "outbox-2.db", "outbox-3.db", "outbox.db"]
    for name in files:  # every shard holds some meters, and a meter is on one shard only
        with sqlite3.connect(tmp_path / name) as db:
            assert db.execute("SELECT count(DISTINCT meter) FROM sent").fetchone()[0] > 0
    reopened = Outbox(path)  # a resumed run finds the shards it was made with
    assert reopened.shards == 4
    assert reopened.totals() == (1200, 400)
    assert [i.body for i in reopened.due("AMI_039", 100.0)] == [b"AMI_039/1", b"AMI_039/2a", b"AMI_039/2b"]
    reopened.close()
    rows = [line.split() for line in run_status(tmp_path).splitlines() if line.startswith("AMI_")]
    assert [r[0] for r in rows] == meters
    assert {tuple(r[1:5]) for r in rows} == {("1", "10", "20", "3")}


def test_an_outbox_of_an_older_amiscen_stays_one_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as db:  # what an older amiscen left: its tables, no record of shards
        db.executescript(SCHEMA)
        db.execute("INSERT INTO outbox(meter, kind, body, readings, created, next_try) VALUES ('M', 'readings', "
                   "x'00', 5, 0, 0)")  # fmt: skip
    outbox = Outbox(path, shards=8)
    assert outbox.shards == 1
    assert outbox.pending("M") == (1, 5)
    outbox.close()
    assert list(tmp_path.glob("outbox-*.db")) == []


def test_shards_grow_with_the_fleet() -> None:
    assert [shards_for(n) for n in (1, 25, 200, 201, 3000, 100_000)] == [1, 1, 1, 2, 15, 16]

"""The utility's events as the head-end reads them: held between requests (issue #16), never stale."""

from __future__ import annotations

from pathlib import Path

from amiscen.gateway.store import Store
from amiscen.gateway.utility import UtilityEvent, cancel, events, publish

T0 = 1_772_384_400


def _event(event_id: str, kind: str = "dr", start: int = T0) -> UtilityEvent:
    return UtilityEvent(kind, event_id, kind.upper(), 1, start, 1800, spec={})  # type: ignore[arg-type]


def test_events_are_read_once_until_they_change(tmp_path: Path) -> None:
    store = Store(tmp_path / "headend.db")
    publish(store, [_event("B", start=T0 + 60), _event("A"), _event("C", "der", T0 + 120)])
    reads = []
    store.all = lambda sql, args=(): reads.append(sql) or Store.all(store, sql, args)  # type: ignore[method-assign]
    assert [e.event_id for e in events(store)] == ["A", "B", "C"]
    assert [e.event_id for e in events(store, "dr")] == ["A", "B"]
    assert [e.event_id for e in events(store, "der")] == ["C"]
    assert len(reads) == 1  # the readings a head-end stores in between change nothing
    store.add_readings([], 1)

    assert cancel(store, "A", T0 + 10)
    assert events(store, "dr")[0].cancelled_at == T0 + 10
    publish(store, [_event("D", start=T0 - 60)])
    assert [e.event_id for e in events(store, "dr")] == ["D", "A", "B"]
    assert len(reads) == 3
    assert not cancel(store, "A", T0 + 20)  # nothing changed, but read again all the same: never stale
    assert events(store, "dr")[1].cancelled_at == T0 + 10
    store.close()


def test_an_event_another_process_publishes_is_seen_at_once(tmp_path: Path) -> None:
    """`amiscen serve event ...` writes the running head-end's database through a connection of its own."""
    headend = Store(tmp_path / "headend.db")
    publish(headend, [_event("A")])
    assert [e.event_id for e in events(headend)] == ["A"]
    operator = Store(tmp_path / "headend.db")
    publish(operator, [_event("B", start=T0 + 60)])
    assert [e.event_id for e in events(headend)] == ["A", "B"]
    cancel(operator, "B", T0)
    assert events(headend)[1].cancelled_at == T0
    operator.close()
    headend.close()


def test_events_deleted_by_any_statement_are_gone_at_once(tmp_path: Path) -> None:
    """The operator's reset deletes every table's rows through a transaction of its own (CACTUS's S-ALL-15 then
    found S-ALL-14's control still listed when events were only read again after publish and cancel)."""
    store = Store(tmp_path / "headend.db")
    publish(store, [_event("A"), _event("B", "der")])
    assert len(events(store)) == 2
    with store.transaction() as db:
        db.execute("DELETE FROM event WHERE kind = 'der'")
    assert [e.event_id for e in events(store)] == ["A"]
    with store.transaction() as db:
        db.execute("UPDATE event SET start = start + 60")
    assert events(store)[0].start == T0 + 60
    store.execute("DELETE FROM event")
    assert events(store) == []
    store.close()


def test_a_read_only_store_reads_the_events_every_time(tmp_path: Path) -> None:
    """A report opens a run's database read-only, perhaps one made before the changes were counted."""
    store = Store(tmp_path / "headend.db")
    publish(store, [_event("A")])
    store.execute("DELETE FROM meta WHERE key = 'changes:event'")
    store.close()
    report = Store(tmp_path / "headend.db", readonly=True)
    reads = []
    report.all = lambda sql, args=(): reads.append(sql) or Store.all(report, sql, args)  # type: ignore[method-assign]
    assert [e.event_id for e in events(report)] == ["A"]
    assert [e.event_id for e in events(report)] == ["A"]
    assert len(reads) == 2
    report.close()

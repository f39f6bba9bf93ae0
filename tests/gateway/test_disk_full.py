"""A head-end whose database cannot grow (the disk is full) answers 503 with Retry-After and says so once in its log,
not a 500 and a traceback per request; it serves again as soon as there is room. The full disk is SQLite's own
SQLITE_FULL, reached by capping the database's pages (``max_page_count``), over real mutual TLS."""

from __future__ import annotations

import logging

import pytest

from amiscen.gateway.server import DISK_FULL_RETRY_S
from amiscen.runner import messages
from amiscen.runner.quantities import Interval, quantities
from amiscen.sep import constants as c
from amiscen.sep.render import render_bytes

from ..fixtures import METERS, Running

T0 = 1_772_384_400
QUANTITIES = quantities(15, False, False)


def _readings(meter: str, lfdi: str, post: int) -> bytes:
    intervals = [
        Interval(
            index=i,
            start=T0 + 15 * i,
            duration=15,
            load_w=1000.0 + i,
            pv_w=0,
            battery_w=0,
            stored_wh=None,
            import_wh=4.2,
            export_wh=0,
            import_total_wh=4.2 * (i + 1),
            export_total_wh=0,
            voltage_v=230.0,
            baseline_net_w=1000.0,
        )
        for i in range(4 * post, 4 * post + 4)
    ]
    return render_bytes(messages.readings(32473, meter, lfdi, QUANTITIES, intervals))


def test_a_full_database_is_answered_503_told_once_and_recovers(
    headend: Running, caplog: pytest.LogCaptureFixture
) -> None:
    meter = METERS[0]
    ident = headend.identity(meter)
    session = headend.session(meter)
    assert session.send("POST", "/edev", render_bytes(messages.end_device(ident.lfdi, ident.sfdi, 0))).status == 201
    mup = messages.mirror_usage_point(32473, meter, ident.lfdi, QUANTITIES, 60, int(c.ROLE_REVENUE_PREMISES))
    location = session.send("POST", "/mup", render_bytes(mup)).header("Location")
    assert location
    store = headend.app.store
    pages = int(store.scalar("PRAGMA page_count"))
    store.scalar(f"PRAGMA max_page_count = {pages}")  # no page more: the next write that needs one is SQLITE_FULL
    statuses = []
    with caplog.at_level(logging.ERROR, logger="amiscen"):
        for post in range(40):
            x = session.send("POST", location, _readings(meter, ident.lfdi, post))
            statuses.append(x.status)
            if x.status == 503:
                assert x.header("Retry-After") == str(DISK_FULL_RETRY_S)
                assert b"<Error" in x.response_body
    assert 503 in statuses and 500 not in statuses, statuses
    assert statuses.count(503) >= 2  # refused again and again ...
    told = [r for r in caplog.records if "no space left" in r.getMessage()]
    assert len(told) == 1, [r.getMessage() for r in caplog.records]  # ... and told once
    assert not any(r.exc_info for r in caplog.records)  # no traceback: not a bug
    stored = int(store.scalar("SELECT count(*) FROM reading"))
    store.scalar(f"PRAGMA max_page_count = {pages * 1000}")  # space again
    x = session.send("POST", location, _readings(meter, ident.lfdi, 1000))
    assert x.status == 201
    assert int(store.scalar("SELECT count(*) FROM reading")) == stored + 4 * len(QUANTITIES)
    session.close()

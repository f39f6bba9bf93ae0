"""`amiscen status` and `serve`'s closing status: times in the site's local time, as the report shows them."""

from __future__ import annotations

from pathlib import Path

from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.server import HeadendServer
from amiscen.gateway.status import status_text
from amiscen.gateway.store import Store
from amiscen.gateway.tls import server_context
from amiscen.pki.layout import Layout
from amiscen.sep.model.device import EndDevice
from amiscen.sep.render import render_bytes

from ..fixtures import METERS, T0, Running


def test_times_are_the_sites_local_time_with_its_offset(pki: Layout, tmp_path: Path) -> None:
    clock = SimClock(T0 + 14 * 3600, Pace(None))  # 14:00 in Bangkok, 07:00 UTC
    app = Headend(Store(tmp_path / "headend.db"), clock, HeadendConfig(timezone="Asia/Bangkok"))
    server = HeadendServer(app, server_context(pki), pki.crl, port=0).start()
    try:
        running = Running(server, app, clock, pki)
        ident = running.identity(METERS[0])
        body = render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
        assert running.session(METERS[0]).send("POST", "/edev", body).status == 201
    finally:
        server.stop()
    shown = status_text(app.store)
    app.store.close()
    assert shown.startswith("times are local (Asia/Bangkok)\n")
    assert "last contact 2026-03-02 14:00:00+07:00" in shown
    # the zone is kept with the database: `amiscen status` of a finished run shows the same
    assert status_text(Store(tmp_path / "headend.db")) == shown


def test_status_counts_readings_as_they_arrive_without_scanning_the_table(tmp_path: Path) -> None:
    """issue #16: `serve`'s closing status counted every reading per device (minutes for thousands of meters).
    The counts are kept with the readings, in the same transaction; a database from before is counted once."""
    store = Store(tmp_path / "headend.db")
    store.execute("INSERT INTO end_device(id, meter_id, lfdi, sfdi, changed_time, pin) VALUES (1, 'M1', 'AB', 1, 0, 1)")
    store.execute(
        "INSERT INTO mirror_usage_point(id, edev_id, mrid, role_flags, service_kind, status) "
        "VALUES (1, 1, 'U', 13, 0, 1)"
    )
    store.execute("INSERT INTO mirror_meter_reading(id, mup_id, mrid, reading_type) VALUES (1, 1, 'R', '{}')")
    rows = [(1, 900 * i, 900, i, 0, 0.0) for i in range(10)]
    assert store.add_readings(rows, 1) == 10
    assert store.add_readings([*rows[5:], (1, 9000, 900, 10, 0, 0.0)], 1) == 1  # posted again: counted once
    assert (
        store.scalar("SELECT n FROM reading_count WHERE edev_id = 1")
        == 11
        == store.scalar("SELECT count(*) FROM reading")
    )
    assert "readings stored: 11" in status_text(store)
    store.execute("DELETE FROM reading_count")  # as a database written before the counts were kept
    store.execute("DELETE FROM meta WHERE key = 'reading_count'")
    store.close()
    assert "readings stored: 11" in status_text(Store(tmp_path / "headend.db"))

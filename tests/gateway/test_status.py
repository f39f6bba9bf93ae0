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

"""An EndDevice's last contact: the time of its latest request, written only when it moves (issue #16: every
request wrote it, a write transaction of its own, though most requests of a fast run come at the same moment)."""

from __future__ import annotations

from pathlib import Path

from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.store import Store
from amiscen.play.local import LocalSession
from amiscen.runner import messages
from amiscen.sep.ids import sfdi_from_lfdi
from amiscen.sep.render import render_bytes

T0 = 1_772_384_400
LFDI = "3E4F45AB31EDFE5B67E343E5E4562E31984E23E5"


def test_last_contact_follows_requests_and_a_request_at_the_same_time_writes_nothing(tmp_path: Path) -> None:
    clock = SimClock(T0, Pace(None))
    app = Headend(Store(tmp_path / "headend.db"), clock, HeadendConfig())
    meter = LocalSession(app, "M1", LFDI, sfdi_from_lfdi(LFDI))
    assert meter.send("POST", "/edev", render_bytes(messages.end_device(LFDI, sfdi_from_lfdi(LFDI), 0))).ok

    def contact() -> float:
        return float(app.store.scalar("SELECT last_contact FROM end_device WHERE lfdi = ?", (LFDI,)))

    assert contact() == T0
    changes = app.store._db.total_changes
    assert meter.send("GET", "/dcap").ok and meter.send("GET", "/tm").ok
    assert contact() == T0
    assert app.store._db.total_changes == changes  # nothing written: the time did not move
    clock.advance_to(T0 + 15)
    assert meter.send("GET", "/dcap").ok
    assert contact() == T0 + 15
    assert app.store._db.total_changes == changes + 1
    app.store.close()

"""Hostile input to the head-end (issue #17, item 8): numbers past 64 bits, entities, a damaged CRL. Each is a
clear 4xx or a refusal to start, never a 500 or a head-end that fails every request."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from amiscen.clock import Pace, SimClock
from amiscen.errors import UsageError
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.http import Request
from amiscen.gateway.store import Store
from amiscen.gateway.tls import RevocationList, server_context
from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.sep.ids import sfdi_from_lfdi
from amiscen.sep.xsd import SchemaValidator

from ..fixtures import METERS

LFDI = "AB" * 20
SFDI = sfdi_from_lfdi(LFDI)


def _app(tmp_path: Path, validator: SchemaValidator | None = None) -> Headend:
    return Headend(Store(tmp_path / "h.db"), SimClock(0, Pace(None)), HeadendConfig(), validator)


def _send(app: Headend, method: str, path: str, body: bytes = b"", query: dict[str, str] | None = None) -> int:
    media = "application/sep+xml" if body else None
    return app.handle(Request(method, path, query or {}, body, media, LFDI, SFDI, "M")).status


def _device(sfdi: int | str) -> bytes:
    return (
        f'<EndDevice xmlns="urn:ieee:std:2030.5:ns"><sFDI>{sfdi}</sFDI><lFDI>{LFDI}</lFDI>'
        "<changedTime>0</changedTime></EndDevice>"
    ).encode()


def test_numbers_past_64_bits_are_400_or_404_not_500(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert _send(app, "POST", "/edev", _device(2**70)) == 400
    assert _send(app, "POST", "/edev", _device(SFDI)) == 201
    assert _send(app, "GET", "/edev/99999999999999999999") == 404
    assert _send(app, "GET", "/edev", query={"s": str(2**64)}) == 400
    assert _send(app, "GET", "/edev", query={"a": str(-(2**64))}) == 400
    assert _send(app, "GET", "/edev", query={"s": "0", "l": "1"}) == 200


def test_an_entity_never_reaches_the_schema_validator(tmp_path: Path, sep_xsd: Path) -> None:
    pytest.importorskip("lxml")
    app = _app(tmp_path, SchemaValidator(sep_xsd))
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _device("&e;")
    assert _send(app, "POST", "/edev", xxe) == 400
    assert app.store.scalar("SELECT count(*) FROM end_device") == 0


def test_a_damaged_crl_stops_the_head_end_from_starting_and_cannot_stop_it_running(pki: Layout, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "certs")
    shutil.copytree(pki.root, layout.root)
    layout.crl.write_text("-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n")
    with pytest.raises(UsageError, match="not a PEM certificate revocation list"):
        RevocationList(layout.crl)
    with pytest.raises(UsageError, match="not a PEM certificate revocation list"):
        server_context(layout)
    layout.crl.unlink()
    gone = fleet.revoke(layout, METERS[0], dt.datetime.now(dt.timezone.utc))  # a real CRL, one serial in it
    serial = int(gone.serial, 16)
    revocations = RevocationList(layout.crl)
    assert revocations.revoked(serial) and not revocations.revoked(serial + 1)
    layout.crl.write_text("garbage")  # damaged while running: the last good list stays, requests go on
    os.utime(layout.crl, (0, 12345))
    assert revocations.revoked(serial) and not revocations.revoked(serial + 1)

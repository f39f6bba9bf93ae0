"""Every hostile body in hostile/ is answered as its NAME.expected says ("METHOD PATH STATUS"), over mutual TLS
by the real head-end, by a registered device: never a 500, never a dropped connection, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from amiscen.sep.model.device import EndDevice
from amiscen.sep.render import render_bytes

from ..fixtures import METERS, Running

CORPUS = Path(__file__).parent / "hostile"
CASES = sorted(CORPUS.glob("*.xml"))


def test_the_corpus_covers_the_known_attacks() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_a_hostile_body_gets_its_expected_answer(case: Path, headend: Running) -> None:
    method, path, status = case.with_suffix(".expected").read_text().split()
    session = headend.session(METERS[0])
    ident = headend.identity(METERS[0])
    registered = session.send("POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0)))
    assert registered.status == 201
    x = session.send(method, path, case.read_bytes())
    assert x.status == int(status), (x.status, x.failure, x.response_body[:200])
    assert session.send("GET", "/dcap").status == 200  # and the head-end goes on serving

"""Validation against sep.xsd as each side needs it: what a client sends may leave out a List's ``all`` and
``results`` (sep.xsd: "Required on a response to a GET, ignored otherwise"); nothing else is relaxed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amiscen.clock import Pace, SimClock
from amiscen.gateway.app import Headend, HeadendConfig
from amiscen.gateway.http import Request
from amiscen.gateway.store import Store
from amiscen.sep.xsd import SchemaValidator

pytest.importorskip("lxml")

POSTED = (  # as CACTUS's client POSTs readings: no all, no results
    '<MirrorMeterReadingList xmlns="urn:ieee:std:2030.5:ns"><MirrorMeterReading><mRID>350EE97494D03C3882F48C3400032473'
    "</mRID><Reading><timePeriod><duration>60</duration><start>1796141400</start></timePeriod><value>1000</value>"
    "</Reading></MirrorMeterReading></MirrorMeterReadingList>"
)


def test_a_received_list_may_leave_out_all_and_results(sep_xsd: Path) -> None:
    v = SchemaValidator(sep_xsd)
    assert any("'all' is required" in e for e in v.errors(POSTED))  # a GET answer must carry them
    assert v.errors(POSTED, received=True) == []
    misplaced = POSTED.replace("<value>1000</value>", "<value>1000</value><nonsense/>")
    assert v.errors(misplaced, received=True) != []  # nothing else is relaxed


def test_the_head_end_validating_bodies_takes_such_a_list(sep_xsd: Path, tmp_path: Path) -> None:
    app = Headend(Store(tmp_path / "h.db"), SimClock(0, Pace(None)), HeadendConfig(), SchemaValidator(sep_xsd))
    request = Request("POST", "/mup/1", {}, POSTED.encode(), "application/sep+xml", "AB" * 20, 1, "M")
    reply = app.handle(request)
    assert app.schema_invalid == 0
    assert reply.status == 404 and not re.search(rb"schema-invalid", reply.body)  # refused for the mirror, not the body

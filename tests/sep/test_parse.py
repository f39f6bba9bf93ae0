"""Parsing is safe: no entities or DTDs, a size limit, unknown elements ignored, errors classified."""

from __future__ import annotations

import contextlib
import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amiscen.sep.model.device import DeviceCapability, Time
from amiscen.sep.model.events import DefaultDERControl, DERControlBase
from amiscen.sep.model.metering import MirrorMeterReadingList
from amiscen.sep.parse import MAX_BODY_BYTES, SepParseError, parse_as, parse_document
from amiscen.sep.render import render

from .samples import samples

NS = 'xmlns="urn:ieee:std:2030.5:ns"'


def test_unknown_elements_are_ignored() -> None:
    body = (
        f'<Time {NS} href="/tm"><currentTime>1</currentTime><dstEndTime>0</dstEndTime><dstOffset>0</dstOffset>'
        "<dstStartTime>0</dstStartTime><quality>7</quality><futureThing>x</futureThing><tzOffset>0</tzOffset>"
        '<csipaus:x xmlns:csipaus="https://csipaus.org/ns">1</csipaus:x></Time>'
    )
    assert parse_as(body, Time) == Time(
        href="/tm", currentTime=1, dstEndTime=0, dstOffset=0, dstStartTime=0, quality=7, tzOffset=0
    )


def test_links_and_list_attributes() -> None:
    body = (
        f'<DeviceCapability {NS} href="/dcap" pollRate="300"><TimeLink href="/tm"/>'
        '<EndDeviceListLink href="/edev" all="3"/></DeviceCapability>'
    )
    dcap = parse_as(body, DeviceCapability)
    assert dcap.pollRate == 300 and dcap.TimeLink and dcap.TimeLink.href == "/tm"
    assert dcap.EndDeviceListLink and dcap.EndDeviceListLink.all == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><Time/>", "DTDs and entity declarations are refused"),
        (b"<Time", "malformed XML"),
        (b"<Nonsense xmlns='urn:ieee:std:2030.5:ns'/>", "unknown 2030.5 resource <Nonsense>"),
        (b"<Time xmlns='urn:other'/>", "is not in the 2030.5 namespace"),
        (f"<Time {NS}><currentTime>1</currentTime></Time>".encode(), "<Time> lacks required element dstEndTime"),
        (f"<Time {NS}><currentTime>soon</currentTime></Time>".encode(), "<Time/currentTime> must be an integer"),
        (f"<Error {NS}><reasonCode>x</reasonCode></Error>".encode(), "<Error/reasonCode> must be an integer"),
        (f"<Reading {NS}><qualityFlags>zz</qualityFlags></Reading>".encode(), "must be hexBinary"),
        (f"<Reading {NS}><qualityFlags>001</qualityFlags></Reading>".encode(), "an even number"),
        (b"<a/>" + b" " * MAX_BODY_BYTES, "exceeds the 1,048,576-byte limit"),
    ],
)
def test_bad_bodies_are_classified(body: bytes, message: str) -> None:
    with pytest.raises(SepParseError, match=None) as caught:
        parse_document(body)
    assert message in str(caught.value)


def test_wrong_type_is_reported() -> None:
    with pytest.raises(SepParseError, match="expected <Time>, got <Error>"):
        parse_as(f"<Error {NS}><reasonCode>1</reasonCode></Error>", Time)


BODIES = [render(r).encode() for items in samples().values() for r in items]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BODIES), st.integers(0, 4000), st.integers(0, 50), st.binary(max_size=12))
def test_mutated_xml_never_crashes(body: bytes, position: int, length: int, insert: bytes) -> None:
    position = min(position, len(body))
    mutated = body[:position] + insert + body[position + length :]
    with contextlib.suppress(SepParseError):
        parse_document(mutated)


def test_an_empty_record_element_is_an_empty_record() -> None:
    """envoy answers a DefaultDERControl with no values set as <DERControlBase/> (issue #14)."""
    body = (
        '<DefaultDERControl xmlns="urn:ieee:std:2030.5:ns" href="/edev/1/derp/1/dderc" subscribable="1">'
        "<mRID>10000000000000010000000000000000</mRID><version>0</version><DERControlBase/></DefaultDERControl>"
    )
    parsed = parse_as(body, DefaultDERControl)
    assert parsed.DERControlBase == DERControlBase()


def test_csipaus_elements_are_read_from_their_namespace_only() -> None:
    body = (
        '<DERControlBase xmlns="urn:ieee:std:2030.5:ns" xmlns:csipaus="https://csipaus.org/ns">'
        "<opModConnect>true</opModConnect>"
        "<csipaus:opModExpLimW><multiplier>3</multiplier><value>5</value></csipaus:opModExpLimW>"
        "<opModImpLimW><multiplier>0</multiplier><value>1</value></opModImpLimW>"
        "</DERControlBase>"
    )
    wrapped = '<DefaultDERControl xmlns="urn:ieee:std:2030.5:ns"><mRID>AA</mRID>' + body + "</DefaultDERControl>"
    base = parse_as(wrapped, DefaultDERControl).DERControlBase
    assert base.opModConnect is True
    assert base.opModExpLimW is not None and base.opModExpLimW.watts == 5000
    assert base.opModImpLimW is None  # a 2030.5-namespace element of that name is not the extension


def test_a_posted_list_without_all_and_results_is_read() -> None:
    """sep.xsd on List.all/results: "Required on a response to a GET, ignored otherwise" (issue #15)."""
    body = (
        '<MirrorMeterReadingList xmlns="urn:ieee:std:2030.5:ns"><MirrorMeterReading><mRID>AB</mRID>'
        "</MirrorMeterReading></MirrorMeterReadingList>"
    )
    parsed = parse_document(body)
    assert len(parsed.MirrorMeterReading) == 1 and parsed.all == 0  # type: ignore[attr-defined]


def test_hex_values_keep_the_digits_they_were_written_with() -> None:
    """A client PUTs modesSupported "03" and GETs its DERCapability back: the same text, not "00000003"."""
    from amiscen.sep.model.der import DERCapability
    from amiscen.sep.render import render

    body = (
        '<DERCapability xmlns="urn:ieee:std:2030.5:ns"><modesSupported>03</modesSupported>'
        "<rtgMaxW><multiplier>0</multiplier><value>5000</value></rtgMaxW><type>4</type></DERCapability>"
    )
    cap = parse_as(body, DERCapability)
    assert cap.modesSupported == 3 and "<modesSupported>03</modesSupported>" in render(cap)
    assert "<modesSupported>00000003</modesSupported>" in render(dataclasses.replace(cap, modesSupported=3))


def test_the_2013_namespace_is_read_only_when_asked() -> None:
    """EPRI's reference client (schema 2.0.4) writes http://ieee.org/2030.5; the head-end accepts it."""
    body = '<EndDevice xmlns="http://ieee.org/2030.5"><sFDI>424954362678</sFDI><changedTime>0</changedTime></EndDevice>'
    with pytest.raises(SepParseError, match=r"not in the 2030\.5 namespace"):
        parse_document(body)
    assert parse_document(body, legacy=True).sFDI == 424954362678  # type: ignore[attr-defined]


def test_a_body_read_from_its_elements() -> None:
    """How the builder reads a body (issue #16: each resource is built straight from its elements by code generated
    for its class; on the golden and hostile bodies, and 56,000 mutations of them, it gives what the dict-tree
    builder before it gave): attributes by name, repeated elements as a list, an empty element as absent,
    text trimmed, comments, unknown csipaus elements and text beside the children ignored."""
    body = (
        b'<MirrorMeterReadingList xmlns="urn:ieee:std:2030.5:ns" xmlns:csipaus="https://csipaus.org/ns" all="2">'
        b"<!-- a comment --><MirrorMeterReading><mRID>AB</mRID><description/></MirrorMeterReading>"
        b"<MirrorMeterReading><mRID> CD </mRID><csipaus:x a='1'>text</csipaus:x></MirrorMeterReading>"
        b"mixed</MirrorMeterReadingList>"
    )
    parsed = parse_as(body, MirrorMeterReadingList)
    assert (parsed.all, parsed.results) == (2, 0)  # results: ignored on a POST, read as 0 when left out
    assert [(m.mRID, m.description) for m in parsed.MirrorMeterReading] == [("AB", None), ("CD", None)]
    assert parsed == parse_as(body.replace(b"<!-- a comment -->", b""), MirrorMeterReadingList)


def test_what_the_builder_refuses_it_names() -> None:
    ns = 'xmlns="urn:ieee:std:2030.5:ns"'
    cases = {
        f"<Reading {ns}><value>12a</value></Reading>": "<Reading/value> must be an integer (got '12a')",
        f"<Reading {ns}><value>1</value><value>2</value></Reading>": "<Reading/value> appears more than once",
        f"<Reading {ns}><qualityFlags>123</qualityFlags></Reading>": "must be at most 4 hex digits, an even number",
        f"<Reading {ns}><timePeriod>soon</timePeriod></Reading>": "<timePeriod> must contain elements, not text",
        f"<Reading {ns}><timePeriod><start>1</start></timePeriod></Reading>": "<timePeriod> lacks required element",
        f"<Reading {ns}><value>{2**63}</value></Reading>": "<Reading/value> is out of range",
    }
    for body, message in cases.items():
        with pytest.raises(SepParseError, match=re.escape(message)):
            parse_document(body)
    assert parse_document(f"<Reading {ns}><value> -{2**63} </value></Reading>").value == -(2**63)  # type: ignore[attr-defined]


def test_a_body_nested_beyond_reason_is_refused() -> None:
    deep = b'<Time xmlns="urn:ieee:std:2030.5:ns">' + b"<a>" * 200 + b"</a>" * 200 + b"</Time>"
    with pytest.raises(SepParseError, match="nested more than 64 elements deep"):
        parse_document(deep)


def test_hex_read_again_keeps_its_own_digits_and_its_field_s_bound() -> None:
    """The parser gives a hex text it has read before the same HexValue (issue #16); the digits written and
    each field's own limit still hold for every element."""

    def flags(*texts: str) -> list[tuple[int, int]]:
        readings = "".join(f"<Reading><qualityFlags>{t}</qualityFlags><value>1</value></Reading>" for t in texts)
        body = (
            '<MirrorMeterReadingList xmlns="urn:ieee:std:2030.5:ns" all="1" results="1"><MirrorMeterReading>'
            "<mRID>AB</mRID><MirrorReadingSet><mRID>CD</mRID><timePeriod><duration>1</duration><start>0</start>"
            f"</timePeriod>{readings}</MirrorReadingSet></MirrorMeterReading></MirrorMeterReadingList>"
        )
        parsed = parse_document(body)
        assert isinstance(parsed, MirrorMeterReadingList)
        values = parsed.MirrorMeterReading[0].MirrorReadingSet[0].Reading
        return [(int(r.qualityFlags), r.qualityFlags.width) for r in values if r.qualityFlags is not None]

    assert flags("0001", "01", "0001", "01") == [(1, 4), (1, 2), (1, 4), (1, 2)]
    assert flags("FFFF", "FFFF") == [(65535, 4), (65535, 4)]
    for bad in ("FFFFF0", "001", "0G"):
        with pytest.raises(SepParseError, match="qualityFlags"):
            flags("0001", bad)

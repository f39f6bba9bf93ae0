"""`amiscen test`: every check passes against the embedded head-end, and each check fails when the real head-end
on loopback is given the defect it looks for."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from amiscen.gateway.app import EMULATIONS
from amiscen.gateway.http import Reply
from amiscen.probe import ProbeCheck, ProbeTarget, probe
from amiscen.probe.checks import _why
from amiscen.runner.quantities import mmr_mrid
from amiscen.runner.quantities import quantities as all_quantities
from amiscen.runner.transport import Credentials, TlsSettings

from ..cli.test_validate import amiscen
from ..conftest import sep_xsd_path
from ..fixtures import HANG, METERS, T0, Running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_every_check_passes_against_the_embedded_headend(tmp_path: Path) -> None:
    junit = tmp_path / "probe.xml"
    xsd = sep_xsd_path()
    args = ["--xsd", str(xsd)] if xsd else []
    result = amiscen(
        "test",
        str(ROOT / "examples" / "smoke_3_meters.yaml"),
        "--certs",
        str(tmp_path / "certs"),
        "--junit",
        str(junit),
        *args,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "amiscen test: the embedded head-end as 3 meter(s)"
    rows = {line.split()[0]: line.split()[1] for line in lines[2:-1]}
    assert rows.pop("tls_handshake[AMI_METER_SMOKE_001]") == "pass"
    assert "TLSv1.2 ECDHE-ECDSA-AES128-CCM8" in result.stdout
    expected = {
        "refuses_client_without_certificate",
        "device_capability",
        "links_resolve",
        "time_resource",
        "create_end_device",
        "create_mirror_usage_point",
        "list_paging[EndDeviceList]",
        "list_paging[MirrorUsagePointList]",
        "content_type",
        "schema_valid",
    }
    assert expected <= set(rows)
    assert {v for k, v in rows.items() if k != "schema_valid"} == {"pass"}
    assert rows["schema_valid"] == ("pass" if xsd else "skip")
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests") or 0) == len(rows) + 1


def _target(h: Running, clock: float) -> ProbeTarget:
    lay = h.layout
    index = {m: h.identity(m) for m in METERS[:2]}
    return ProbeTarget(
        h.server.url,
        [
            (m, index[m].sfdi, index[m].lfdi, 1, Credentials(lay.meter_cert(m), lay.meter_key(m), lay.ca_cert))
            for m in METERS[:2]
        ],
        TlsSettings(),
        pen=32473,
        timeout=HANG,
        clock=lambda: clock,
    )


def _verdicts(checks: list[ProbeCheck]) -> dict[str, str]:
    return {c.name: c.result for c in checks}


def test_a_gateway_with_the_wrong_time_fails_only_that(headend: Running) -> None:
    good = _verdicts(probe(_target(headend, T0)))
    assert {v for k, v in good.items() if k != "schema_valid"} == {"pass"}
    checks = probe(_target(headend, T0 + 3600))
    verdicts = _verdicts(checks)
    assert verdicts.pop("time_resource") == "fail"
    assert {v for k, v in verdicts.items() if k != "schema_valid"} == {"pass"}
    assert "-3600 s from this machine's clock" in next(c.detail for c in checks if c.name == "time_resource")


def test_wrong_content_type_and_no_201_are_caught(headend: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    real_of = Reply.of.__func__  # type: ignore[attr-defined]

    def plain_xml(cls: type[Reply], resource: object, status: int = 200, csipaus: bool = False) -> Reply:
        reply: Reply = real_of(cls, resource, status, csipaus)
        reply.headers["Content-Type"] = "application/xml"
        return reply

    monkeypatch.setattr(Reply, "of", classmethod(plain_xml))
    monkeypatch.setattr(Reply, "created", classmethod(lambda cls, location: cls(200, headers={"Location": location})))
    verdicts = _verdicts(probe(_target(headend, T0)))
    assert verdicts["content_type"] == "fail"
    assert verdicts["create_end_device"] == "fail" and verdicts["create_mirror_usage_point"] == "fail"
    assert verdicts["time_resource"] == "pass" and verdicts["list_paging[EndDeviceList]"] == "pass"


def test_nothing_listening_fails_the_handshakes(tmp_path: Path, headend: Running) -> None:
    target = _target(headend, T0)
    url = headend.server.url
    headend.server.stop()
    checks = probe(target)
    assert all(c.result == "fail" for c in checks if c.name.startswith("tls_handshake")), url
    verdicts = _verdicts(checks)
    assert verdicts["refuses_client_without_certificate"] == "fail"
    assert "device_capability" not in verdicts


def test_a_probe_twice_and_a_run_after_it_against_an_envoy_like_headend(headend: Running) -> None:
    """issue #14: the probe never re-POSTs what it made before (envoy answers 409 to a duplicate EndDevice) and its
    mirror's MirrorMeterReading mRIDs are its own (servers keep them unique across mirrors)."""
    headend.app.config = dataclasses.replace(headend.app.config, quirks=EMULATIONS["envoy"])
    first = {c.name: c for c in probe(_target(headend, T0))}
    second = {c.name: c for c in probe(_target(headend, T0))}
    for checks in (first, second):
        assert {c.result for n, c in checks.items() if n != "schema_valid"} == {"pass"}, checks
    assert second["create_end_device"].detail.startswith("exists already at /edev/2 (not POSTed again)")
    assert second["create_mirror_usage_point"].detail.startswith("exists already at /mup/2")
    declared = [r["mrid"] for r in headend.app.store.all("SELECT mrid FROM mirror_meter_reading")]
    assert declared  # the probe's own mRIDs: none of them is one the meter itself declares
    meter = all_quantities(300, False, False)
    lfdi = headend.identity(METERS[0]).lfdi
    assert not set(declared) & {mmr_mrid(32473, METERS[0], lfdi, q.key) for q in meter}


def test_a_tls_terminator_refusing_with_400_did_refuse() -> None:
    page = (
        "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<html><head><title>400 No required SSL certificate was "
        "sent</title></head><body><center><h1>400 Bad Request</h1></center><center>No required SSL certificate "
        "was sent</center></body></html>"
    )
    assert _why(page) == "400 No required SSL certificate was sent"

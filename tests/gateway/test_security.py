"""Identity is the TLS certificate's LFDI; a meter writes only its own resources; bad certificates are refused."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from amiscen.pki import fleet
from amiscen.pki.layout import Layout
from amiscen.runner.transport import Credentials, MeterSession, TlsSettings, client_context
from amiscen.sep.model.device import EndDevice
from amiscen.sep.model.misc import Response
from amiscen.sep.render import render_bytes

from ..fixtures import HANG, METERS, Running


def _register(h: Running, meter_id: str) -> str:
    ident = h.identity(meter_id)
    x = h.session(meter_id).send(
        "POST", "/edev", render_bytes(EndDevice(sFDI=ident.sfdi, lFDI=ident.lfdi, changedTime=0))
    )
    assert x.status == 201, x.response_body
    return x.header("Location")


def _raw_handshake(url: str, context: ssl.SSLContext) -> None:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=HANG) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET /dcap HTTP/1.1\r\nHost: localhost\r\n\r\n")
        if not tls.recv(1024):
            raise ConnectionError("closed")


def test_writing_to_another_meters_end_device_is_refused(headend: Running) -> None:
    a = _register(headend, METERS[0])
    _register(headend, METERS[1])
    other = headend.session(METERS[1])
    assert other.send("GET", a).status == 403
    assert other.send("GET", f"{a}/rg").status == 403
    reasons = headend.app.store.all("SELECT status, reason FROM rejection")
    assert [r["status"] for r in reasons] == [403, 403]
    assert "may not access EndDevice" in reasons[0]["reason"]


def test_registering_with_someone_elses_sfdi_is_refused(headend: Running) -> None:
    other = headend.identity(METERS[1])
    x = headend.session(METERS[0]).send("POST", "/edev", render_bytes(EndDevice(sFDI=other.sfdi, changedTime=0)))
    assert x.status == 403
    assert b"<reasonCode>" in x.response_body


def test_responding_for_another_device_is_refused(headend: Running) -> None:
    _register(headend, METERS[0])
    other = headend.identity(METERS[1])
    body = Response(endDeviceLFDI=other.lfdi, subject="00" * 16, status=1, createdDateTime=0)
    assert headend.session(METERS[0]).send("POST", "/rsps/0/rsp", render_bytes(body)).status == 403


def test_no_client_certificate_is_refused_at_the_handshake(headend: Running) -> None:
    context = ssl.create_default_context(cafile=str(headend.layout.ca_cert))
    context.set_ciphers("ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0")
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        _raw_handshake(headend.server.url, context)


def test_certificate_from_another_ca_is_refused(headend: Running, tmp_path: Path) -> None:
    stranger = Layout(tmp_path / "other")
    fleet.generate(stranger, [METERS[0]], network_id="X", hosts=[], now=dt.datetime.now(dt.timezone.utc))
    session = MeterSession(
        headend.server.url,
        Credentials(stranger.meter_cert(METERS[0]), stranger.meter_key(METERS[0]), headend.layout.ca_cert),
        TlsSettings(),
        HANG,
        HANG,
    )
    x = session.send("GET", "/dcap")
    assert x.status is None and x.failure == "tls"


def test_expired_certificate_is_refused(headend: Running, tmp_path: Path) -> None:
    copy = Layout(tmp_path / "expired")
    shutil.copytree(headend.layout.root, copy.root)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    fleet.renew(copy, past, days=1, meter_ids=[METERS[2]])  # valid for one day, a month ago
    session = MeterSession(
        headend.server.url,
        Credentials(copy.meter_cert(METERS[2]), copy.meter_key(METERS[2]), copy.ca_cert),
        TlsSettings(),
        HANG,
        HANG,
    )
    x = session.send("GET", "/dcap")
    assert x.status is None and x.failure == "tls"


def test_revoked_certificate_is_refused_while_running(headend: Running) -> None:
    session = headend.session(METERS[2])
    assert session.send("GET", "/dcap").status == 200
    fleet.revoke(headend.layout, METERS[2], dt.datetime.now(dt.timezone.utc))
    try:
        assert session.send("GET", "/dcap").status == 403  # the same keep-alive connection, next request
    finally:
        headend.layout.crl.unlink()
        from amiscen.pki.authority import load_authority, write_crl

        write_crl(headend.layout, load_authority(headend.layout), [], dt.datetime.now(dt.timezone.utc))


def test_a_meter_trusts_the_scenario_ca_only(headend: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither requests' public CA bundle nor one named in the environment joins a meter's trust store."""
    import certifi

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    session = headend.session(METERS[0])
    assert session.send("GET", "/dcap").status == 200
    assert session.send("GET", "/tm").status == 200
    trusted = session.context.get_ca_certs()
    assert len(trusted) == 1
    ours = x509.load_pem_x509_certificate(headend.layout.ca_cert.read_bytes())
    assert (
        dict(x[0] for x in trusted[0]["subject"])["commonName"]
        == ours.subject.rfc4514_string().split("CN=")[1].split(",")[0]
    )


def test_the_2030_5_suite_is_negotiated(headend: Running) -> None:
    lay = headend.layout
    context = ssl.create_default_context(cafile=str(lay.ca_cert))
    context.load_cert_chain(str(lay.meter_cert(METERS[0])), str(lay.meter_key(METERS[0])))
    context.set_ciphers("ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0")
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    host, port = headend.server.url.removeprefix("https://").rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=HANG) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() == "TLSv1.2"
        assert tls.cipher()[0] == "ECDHE-ECDSA-AES128-CCM8"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_a_handshake_with_a_client_that_enforces_the_2030_5_profile(headend: Running) -> None:
    """issue #15: `openssl s_client` in strict mode with an explicit 2030.5 policy (as EPRI's client checks the
    chain) accepts the head-end's certificate, and the head-end accepts the meter's empty-subject device
    certificate and names the meter from its HardwareModuleName."""
    import subprocess
    from urllib.parse import urlsplit

    lay = headend.layout
    url = urlsplit(headend.server.url)
    request = f"GET /edev HTTP/1.1\r\nHost: {url.hostname}\r\nAccept: application/sep+xml\r\nConnection: close\r\n\r\n"
    result = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"{url.hostname}:{url.port}",
            "-tls1_2",
            "-cipher",
            "ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0",
            "-CAfile",
            str(lay.ca_cert),
            "-cert",
            str(lay.meter_cert(METERS[0])),
            "-key",
            str(lay.meter_key(METERS[0])),
            "-verify_return_error",
            "-x509_strict",
            "-policy",
            "1.3.6.1.4.1.40732.2.3",
            "-explicit_policy",
            "-purpose",
            "sslserver",
            "-quiet",
        ],
        input=request,
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )
    assert "HTTP/1.1 200" in result.stdout, result.stdout + result.stderr
    assert "<EndDeviceList" in result.stdout
    _register(headend, METERS[0])
    assert headend.app.store.scalar("SELECT meter_id FROM end_device") == METERS[0]


@pytest.mark.parametrize("length", ["-1", "12abc", "1e9"])
def test_a_content_length_that_is_not_a_length_is_refused(headend: Running, length: str) -> None:
    """issue #17: Content-Length -1 made the head-end read to the end of the stream, past the 1 MiB limit."""
    lay = headend.layout
    creds = Credentials(lay.meter_cert(METERS[0]), lay.meter_key(METERS[0]), lay.ca_cert)
    context = client_context(creds, TlsSettings())
    context.check_hostname = False
    host, port = headend.server.url.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port))) as raw, context.wrap_socket(raw) as tls:
        tls.sendall(
            f"POST /edev HTTP/1.1\r\nHost: x\r\nContent-Type: application/sep+xml\r\nContent-Length: {length}\r\n\r\n"
            "<EndDevice/>".encode()
        )
        answer = b""
        while chunk := tls.recv(4096):  # the head-end closes the connection after refusing
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and b"<Error" in answer


def test_a_client_that_enforces_the_2030_5_certificate_profile_completes_the_handshake(headend: Running) -> None:
    """What EPRI's client does in its verify callback (openssl.c check_cert), applied to the head-end's certificate
    as it arrives in the handshake: key usage, basic constraints and policies critical; no SAN on a CA; no policy
    mappings or name constraints; nothing else critical. (EPRI's client itself accepted it, see the README.)"""
    layout = headend.layout
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(layout.ca_cert))
    ctx.load_cert_chain(str(layout.meter_cert(METERS[0])), str(layout.meter_key(METERS[0])))
    ctx.check_hostname = False
    ctx.set_ciphers("ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0")
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    host, port = headend.server.server_address[:2]
    with socket.create_connection((str(host), int(port))) as raw, ctx.wrap_socket(raw) as tls:
        assert tls.cipher()[0] == "ECDHE-ECDSA-AES128-CCM8"
        der = tls.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    oid = x509.oid.ExtensionOID
    must_be_critical = {oid.KEY_USAGE, oid.BASIC_CONSTRAINTS, oid.CERTIFICATE_POLICIES, oid.SUBJECT_ALTERNATIVE_NAME}
    for ext in cert.extensions:
        assert ext.oid not in (oid.POLICY_MAPPINGS, oid.NAME_CONSTRAINTS)
        assert ext.critical == (ext.oid in must_be_critical), ext.oid
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False

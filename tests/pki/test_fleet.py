"""The fleet PKI: 2030.5 profile, layout, idempotence, status, renew, revoke, bad input."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from amiscen.errors import UsageError
from amiscen.pki import fleet
from amiscen.pki.issue import HARDWARE_MODULE_NAME, device_name
from amiscen.pki.layout import Layout
from amiscen.pki.profile import deviations
from amiscen.sep.ids import lfdi_from_der, sfdi_from_lfdi

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)
IDS = ["AMI_METER_T_001", "AMI_METER_T_002", "AMI_METER_T_003"]


def _generate(root: Path, ids: list[str] = IDS, **kw: object) -> fleet.GenerateReport:
    return fleet.generate(Layout(root), ids, network_id="NET", hosts=["gw.example"], now=NOW, **kw)  # type: ignore[arg-type]


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_device_certificates_follow_the_2030_5_profile(tmp_path: Path) -> None:
    _generate(tmp_path)
    layout = Layout(tmp_path)
    cert = _cert(layout.meter_cert("AMI_METER_T_001"))
    assert cert.not_valid_after_utc == dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert cert.signature_hash_algorithm is not None and cert.signature_hash_algorithm.name == "sha256"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_agreement and not usage.key_cert_sign
    assert len(cert.subject) == 0  # an empty subject: the device is named by its HardwareModuleName
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    (other,) = san.value.get_values_for_type(x509.OtherName)
    assert san.critical and other.type_id == HARDWARE_MODULE_NAME and b"AMI_METER_T_001" in other.value
    assert device_name(cert) == "AMI_METER_T_001"  # how the head-end names the meter


def test_every_certificate_meets_its_profile_extension_by_extension(tmp_path: Path) -> None:
    """issue #15: what EPRI's client checks on every certificate of a chain, and the 2030.5 device profile."""
    _generate(tmp_path)
    layout = Layout(tmp_path)
    certs = [("ca", layout.ca_cert), ("server", layout.gateway_cert)] + [("device", layout.meter_cert(i)) for i in IDS]
    must_be_critical = {
        x509.oid.ExtensionOID.KEY_USAGE,
        x509.oid.ExtensionOID.BASIC_CONSTRAINTS,
        x509.oid.ExtensionOID.CERTIFICATE_POLICIES,
        x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    }
    for role, path in certs:
        cert = _cert(path)
        for ext in cert.extensions:
            assert ext.critical == (ext.oid in must_be_critical), (path, ext.oid)
        oids = {e.oid for e in cert.extensions}
        assert x509.oid.ExtensionOID.EXTENDED_KEY_USAGE not in oids, path
        assert x509.oid.ExtensionOID.POLICY_MAPPINGS not in oids and x509.oid.ExtensionOID.NAME_CONSTRAINTS not in oids
        policies = {
            p.policy_identifier.dotted_string
            for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
        }
        wanted = {"ca": "1.3.6.1.4.1.40732.1.1", "server": "1.3.6.1.4.1.40732.2.3", "device": "1.3.6.1.4.1.40732.1.1"}
        assert {wanted[role], "1.3.6.1.4.1.40732.2.1"} <= policies, path
        assert (x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME in oids) == (role != "ca"), path
        assert deviations(cert, role) == [], path  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_openssl_verifies_the_chain_strictly_with_the_2030_5_policies(tmp_path: Path) -> None:
    """OpenSSL, not our code, as the judge: RFC 5280 strict mode (an empty subject needs a critical SAN) and an
    explicit 2030.5 policy through the chain."""
    _generate(tmp_path)
    layout = Layout(tmp_path)
    for path, policy, purpose in [
        (layout.meter_cert(IDS[0]), "1.3.6.1.4.1.40732.1.1", "sslclient"),
        (layout.gateway_cert, "1.3.6.1.4.1.40732.2.3", "sslserver"),
    ]:
        result = subprocess.run(
            [
                "openssl",
                "verify",
                "-x509_strict",
                "-policy",
                policy,
                "-explicit_policy",
                "-purpose",
                purpose,
                "-CAfile",
                str(layout.ca_cert),
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0 and result.stdout.strip().endswith(": OK"), result.stdout + result.stderr


def test_layout_permissions_and_index(tmp_path: Path) -> None:
    _generate(tmp_path)
    layout = Layout(tmp_path)
    for key in [layout.ca_key, layout.gateway_key, *(layout.meter_key(i) for i in IDS)]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE(layout.meter_dir(IDS[0]).stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    index = fleet.read_index(layout)
    der = _cert(layout.meter_cert(IDS[1])).public_bytes(serialization.Encoding.DER)
    assert index[IDS[1]].lfdi == lfdi_from_der(der)
    assert index[IDS[1]].sfdi == sfdi_from_lfdi(lfdi_from_der(der))
    assert index[IDS[1]].not_after == "9999-12-31T23:59:59Z"


def test_head_end_certificate_names(tmp_path: Path) -> None:
    _generate(tmp_path)
    san = _cert(Layout(tmp_path).gateway_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "gw.example"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


def test_second_run_is_idempotent_and_adds_only_new_meters(tmp_path: Path) -> None:
    first = _generate(tmp_path)
    assert first.created_ca and first.created == IDS
    layout = Layout(tmp_path)
    before = {i: layout.meter_key(i).read_bytes() for i in IDS}
    ca_before = layout.ca_cert.read_bytes()
    second = _generate(tmp_path, [*IDS, "AMI_METER_T_004"])
    assert not second.created_ca and second.created == ["AMI_METER_T_004"] and second.kept == 3
    assert second.gateway == "kept"
    assert {i: layout.meter_key(i).read_bytes() for i in IDS} == before
    assert layout.ca_cert.read_bytes() == ca_before


def test_force_replaces_everything(tmp_path: Path) -> None:
    _generate(tmp_path)
    ca_before = Layout(tmp_path).ca_cert.read_bytes()
    report = _generate(tmp_path, force=True)
    assert report.created_ca and report.created == IDS
    assert Layout(tmp_path).ca_cert.read_bytes() != ca_before


def test_openssl_verifies_every_file(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    _generate(tmp_path)
    files = sorted(str(p) for p in (tmp_path / "meters").glob("*/AMI_*.pem"))
    assert len(files) == 6  # certificate and key bundle of each meter
    result = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), *files], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": OK") == 6


def test_list_reports_each_status(tmp_path: Path) -> None:
    _generate(tmp_path, IDS[:2], days=10)
    _generate(tmp_path, IDS[2:])
    layout = Layout(tmp_path)
    layout.meter_key(IDS[1]).unlink()
    rows = {r.meter_id: r for r in fleet.list_status(layout, [*IDS, "AMI_METER_T_009"], NOW)}
    assert rows[IDS[0]].status == "expiring within 30 days" and rows[IDS[0]].days_left == "10"
    assert rows[IDS[1]].status == "missing key"
    assert rows[IDS[2]].status == "ok"
    assert rows["AMI_METER_T_009"].status == "missing certificate"
    later = NOW + dt.timedelta(days=11)
    assert {r.meter_id: r.status for r in fleet.list_status(layout, IDS[:1], later)} == {IDS[0]: "expired"}


def test_mismatched_key_is_reported(tmp_path: Path) -> None:
    _generate(tmp_path)
    layout = Layout(tmp_path)
    shutil.copy(layout.meter_key(IDS[0]), layout.meter_key(IDS[1]))
    rows = {r.meter_id: r.status for r in fleet.list_status(layout, IDS, NOW)}
    assert rows[IDS[1]] == "key does not match certificate"
    with pytest.raises(UsageError) as caught:
        _generate(tmp_path)
    assert str(caught.value) == f"{layout.meter_key(IDS[1])}: does not match {IDS[1]}.pem (re-issue with --force)"


def test_renew_keeps_the_key_unless_rekey(tmp_path: Path) -> None:
    _generate(tmp_path, days=10)
    layout = Layout(tmp_path)
    key_before = fleet._load_key(layout.meter_key(IDS[0])).private_numbers()
    renewed = fleet.renew(layout, NOW, within_days=30)
    assert renewed == IDS
    assert fleet._load_key(layout.meter_key(IDS[0])).private_numbers() == key_before
    assert _cert(layout.meter_cert(IDS[0])).not_valid_after_utc.year == 9999
    assert fleet.renew(layout, NOW, within_days=30) == []
    fleet.renew(layout, NOW, rekey=True, meter_ids=[IDS[0]])
    assert fleet._load_key(layout.meter_key(IDS[0])).private_numbers() != key_before
    assert {r.status for r in fleet.list_status(layout, IDS, NOW)} == {"ok"}


def test_revoke_adds_to_the_crl(tmp_path: Path) -> None:
    _generate(tmp_path)
    layout = Layout(tmp_path)
    ident = fleet.revoke(layout, IDS[2], NOW)
    crl = x509.load_pem_x509_crl(layout.crl.read_bytes())
    assert [f"{r.serial_number:X}" for r in crl] == [ident.serial]
    assert {r.meter_id: r.status for r in fleet.list_status(layout, IDS, NOW)}[IDS[2]] == "revoked"
    with pytest.raises(UsageError, match="no certificate for meter 'AMI_METER_T_01'"):
        fleet.revoke(layout, "AMI_METER_T_01", NOW)


def test_foreign_ca_is_refused(tmp_path: Path) -> None:
    _generate(tmp_path / "a")
    _generate(tmp_path / "b")
    shutil.copy(tmp_path / "b" / "ca.pem", tmp_path / "a" / "ca.pem")
    with pytest.raises(UsageError, match=r"ca-key\.pem: does not match"):
        _generate(tmp_path / "a")


def test_half_a_ca_is_an_error(tmp_path: Path) -> None:
    _generate(tmp_path)
    (tmp_path / "ca-key.pem").unlink()
    with pytest.raises(UsageError, match=r"ca\.pem exists but .*ca-key\.pem is missing"):
        _generate(tmp_path)


def test_garbage_ca_is_an_error(tmp_path: Path) -> None:
    _generate(tmp_path)
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(UsageError, match=r"ca\.pem: not a PEM certificate"):
        _generate(tmp_path)


def test_read_only_target_leaves_no_half_written_files(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    target = tmp_path / "ro"
    target.mkdir(mode=0o500)
    with pytest.raises(UsageError, match="permission denied"):
        _generate(target)
    assert list(target.iterdir()) == []


def test_target_that_cannot_be_a_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError) as caught:
        _generate(blocker / "certs")
    assert str(caught.value) == f"{blocker / 'certs'}: cannot create this directory (Not a directory)"


@pytest.mark.parametrize("meter_id", ["../../victim_1", "..", ".", "a/b", "", "x" * 65])
def test_the_pki_refuses_an_id_that_would_leave_its_directory(tmp_path: Path, meter_id: str) -> None:
    """issue #17: whatever made a meter id, the PKI never writes outside certs/meters/<ID>/."""
    layout = Layout(tmp_path / "certs")
    with pytest.raises(UsageError, match="cannot name a certificate file"):
        fleet.generate(layout, [meter_id], network_id="T", hosts=[], now=dt.datetime.now(dt.timezone.utc))
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and "victim" in p.name) == []


def test_keys_and_directories_stay_private_whatever_was_there(tmp_path: Path) -> None:
    """issue #17: a key found 0644 was kept without a word; under umask 000 certs/meters/ was 0777."""
    layout = Layout(tmp_path / "certs")
    old = os.umask(0)
    try:
        fleet.generate(layout, ["M1"], network_id="T", hosts=[], now=dt.datetime.now(dt.timezone.utc))
    finally:
        os.umask(old)
    assert stat.S_IMODE((layout.root / "meters").stat().st_mode) == 0o700
    assert stat.S_IMODE(layout.meter_key("M1").stat().st_mode) == 0o600
    layout.meter_key("M1").chmod(0o644)
    report = fleet.generate(layout, ["M1"], network_id="T", hosts=[], now=dt.datetime.now(dt.timezone.utc))
    assert report.kept == 1 and len(report.tightened) == 1 and "0644 -> 0600" in report.tightened[0]
    assert stat.S_IMODE(layout.meter_key("M1").stat().st_mode) == 0o600

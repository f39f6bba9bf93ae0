"""LFDI, SFDI, PIN check digits and mRIDs, against the standard's example and openssl."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from amiscen.sep.ids import check_digit, lfdi_from_der, mrid, pen_of, pin_is_valid, pin_with_check_digit, sfdi_from_lfdi


def test_sfdi_of_the_standards_example() -> None:
    assert sfdi_from_lfdi("3E4F45AB31EDFE5B67E343E5E4562E31984E23E5") == 167261211391


def test_check_digit_is_sum_of_digits_not_luhn() -> None:
    assert check_digit(16726121139) == 1
    # Luhn would give 5 for 11111; the 2030.5 rule gives 5 too, so also check a number where they differ
    assert check_digit(12) == 7  # 1+2=3 -> 7 ; Luhn(12) would be 5
    assert pin_with_check_digit(11111) == 111115
    assert pin_is_valid(111115) and not pin_is_valid(111116)


def _certificate() -> x509.Certificate:
    import datetime as dt

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "AMI_METER_TEST")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2026, 1, 1))
        .not_valid_after(dt.datetime(2027, 1, 1))
        .sign(key, hashes.SHA256())
    )


def test_lfdi_hashes_der_bytes_not_pem() -> None:
    cert = _certificate()
    der = cert.public_bytes(serialization.Encoding.DER)
    assert lfdi_from_der(der) == hashlib.sha256(der).hexdigest()[:40].upper()
    with pytest.raises(ValueError, match="DER-encoded"):
        lfdi_from_der(cert.public_bytes(serialization.Encoding.PEM))


def test_lfdi_matches_openssl(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert = _certificate()
    pem = tmp_path / "meter.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der = subprocess.run(["openssl", "x509", "-in", str(pem), "-outform", "DER"], capture_output=True, check=True)
    digest = subprocess.run(["sha256sum"], input=der.stdout, capture_output=True, check=True).stdout.split()[0]
    assert lfdi_from_der(cert.public_bytes(serialization.Encoding.DER)) == digest.decode()[:40].upper()


def test_mrid_carries_the_pen_in_its_low_32_bits() -> None:
    value = mrid(32473, "AMI_METER_UTCC_001", "mup")
    assert len(value) == 32 and value == value.upper()
    assert pen_of(value) == 32473
    assert mrid(32473, "a") != mrid(32473, "b")
    assert mrid(32473, "a") == mrid(32473, "a")


def test_nmi_checksum_matches_aemo_examples() -> None:
    from amiscen.sep.ids import connection_point_id, nmi_checksum

    assert [nmi_checksum(n) for n in ("QAAAVZZZZZ", "2001985732", "VAAA000065")] == [3, 8, 7]
    nmi = connection_point_id("AMI_METER_SMOKE_001")
    assert len(nmi) == 11 and nmi_checksum(nmi[:10]) == int(nmi[10])


def test_a_pin_is_the_same_under_either_reading_of_its_check_digit() -> None:
    from amiscen.sep.ids import same_pin

    assert same_pin(297976, 297976) and same_pin(297974, 297976)  # ours (sum to 0 mod 10) and CACTUS's (sum mod 10)
    assert not same_pin(297975, 297976) and not same_pin(589675, 486471)

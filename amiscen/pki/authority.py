"""The scenario CA: create or load it, and sign the CRL the head-end enforces."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from amiscen.errors import UsageError
from amiscen.pki.files import read_bytes, write_atomic, write_private_key
from amiscen.pki.layout import Layout

FOREVER = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)  # 2030.5 device profile notAfter


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# the 2030.5 policy tree (IANA PEN 40732) a test CA may issue under: device generic, mobile, post-manufacture,
# test, self-signed, service provider, bulk-issued
ALL_POLICIES = tuple(f"1.3.6.1.4.1.40732.{p}" for p in ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4"))
TEST_POLICY = "1.3.6.1.4.1.40732.2.1"


def policies(*oids: str) -> x509.CertificatePolicies:
    """certificatePolicies with the given 2030.5 policies and the test policy (amiscen's certificates are test
    certificates, never a production PKI's)."""
    chosen = dict.fromkeys([*oids, TEST_POLICY])
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(o), None) for o in chosen])


def create_authority(layout: Layout, network_id: str, now: dt.datetime) -> Authority:
    key = new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "amiscen"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"amiscen CA {network_id}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(FOREVER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(policies(*ALL_POLICIES), critical=True)
        .sign(key, hashes.SHA256())
    )
    write_private_key(layout.ca_key, key_pem(key))
    write_atomic(layout.ca_cert, cert_pem(cert))
    authority = Authority(cert, key)
    write_crl(layout, authority, [], now)
    return authority


def load_authority(layout: Layout) -> Authority:
    """The CA on disk; a clear error if it is unreadable, foreign or does not match its key."""
    try:
        cert = x509.load_pem_x509_certificate(read_bytes(layout.ca_cert, "CA certificate"))
    except ValueError:
        raise UsageError(f"{layout.ca_cert}: not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(read_bytes(layout.ca_key, "CA private key"), password=None)
    except (ValueError, TypeError):
        raise UsageError(f"{layout.ca_key}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise UsageError(f"{layout.ca_key}: the CA key must be ECDSA P-256 (2030.5)")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise UsageError(
            f"{layout.ca_key}: does not match {layout.ca_cert}",
            hint="restore the matching pair, or start over with `amiscen certs generate --force`",
        )
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise UsageError(f"{layout.ca_cert}: is not a CA certificate (basicConstraints CA:TRUE missing)")
    return Authority(cert, key)


def revoked_serials(layout: Layout) -> dict[int, dt.datetime]:
    if not layout.crl.exists():
        return {}
    crl = x509.load_pem_x509_crl(read_bytes(layout.crl, "CRL"))
    return {entry.serial_number: entry.revocation_date_utc for entry in crl}


def write_crl(layout: Layout, authority: Authority, serials: list[tuple[int, dt.datetime]], now: dt.datetime) -> None:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=3650))
    )
    for serial, when in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    crl = builder.sign(authority.key, hashes.SHA256())
    write_atomic(layout.crl, crl.public_bytes(serialization.Encoding.PEM))

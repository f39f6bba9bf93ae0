"""Certificates the CA issues: 2030.5 device certificates for meters, a TLS server certificate for the head-end.

Both follow the 2030.5 certificate profile as peers enforce it (EPRI's client checks every certificate of the
chain): keyUsage, basicConstraints, subjectAltName and certificatePolicies critical, every other extension not
critical, no extended key usage. A device certificate has an empty subject: the device is named by the
subjectAltName's HardwareModuleName (which is why that extension must be critical, RFC 5280 section 4.2.1.6)."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from amiscen.pki.authority import FOREVER, Authority, policies

HARDWARE_MODULE_NAME = ObjectIdentifier("1.3.6.1.5.5.7.8.4")  # RFC 4108 id-on-hardwareModuleName
# 2030.5 certificate policies (IANA PEN 40732): device generic, and service provider for the head-end
POLICY_DEVICE_GENERIC = "1.3.6.1.4.1.40732.1.1"
POLICY_SERVICE_PROVIDER = "1.3.6.1.4.1.40732.2.3"
AMISCEN_HW_TYPE = "1.3.6.1.4.1.32473.1.1"  # under the documentation PEN (RFC 5612)

_DEVICE_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=True,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(reversed(chunk))
    return b"\x06" + _der_length(len(body)) + body


def hardware_module_name(serial: str) -> x509.OtherName:
    """SAN otherName HardwareModuleName {hwType, hwSerialNum}: how 2030.5 device certificates name the device."""
    serial_bytes = serial.encode()
    inner = _der_oid(AMISCEN_HW_TYPE) + b"\x04" + _der_length(len(serial_bytes)) + serial_bytes
    return x509.OtherName(HARDWARE_MODULE_NAME, b"\x30" + _der_length(len(inner)) + inner)


def _der_item(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, content, next offset) of the DER item at ``at``."""
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        length, at = int.from_bytes(data[at : at + size], "big"), at + size
    return tag, data[at : at + length], at + length


def device_name(cert: x509.Certificate) -> str | None:
    """The name a client certificate gives its device: the subject CN, or (2030.5 device certificates have an empty
    subject) the hwSerialNum of the subjectAltName's HardwareModuleName; None when it gives neither."""
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id != HARDWARE_MODULE_NAME:
            continue
        try:
            _, inner, _ = _der_item(other.value, 0)  # SEQUENCE { hwType OID, hwSerialNum OCTET STRING }
            _, _, after_type = _der_item(inner, 0)
            _, serial, _ = _der_item(inner, after_type)
            return serial.decode("utf-8")
        except (IndexError, UnicodeDecodeError):
            return None
    return None


def _validity(now: dt.datetime, days: int | None) -> tuple[dt.datetime, dt.datetime]:
    start = now - dt.timedelta(hours=1)
    return start, (FOREVER if days is None else now + dt.timedelta(days=days))


def _issue(
    authority: Authority,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
    days: int | None,
    names: list[x509.GeneralName],
    policy: str,
) -> x509.Certificate:
    """An end-entity certificate: CA=false, digitalSignature + keyAgreement, the given SAN and 2030.5 policies."""
    not_before, not_after = _validity(now, days)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_DEVICE_USAGE, critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=True)
        .add_extension(policies(policy), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False)
        .sign(authority.key, hashes.SHA256())
    )


def issue_device(
    authority: Authority, meter_id: str, key: ec.EllipticCurvePrivateKey, now: dt.datetime, days: int | None
) -> x509.Certificate:
    """A 2030.5 device certificate: P-256/SHA-256, CA=false, digitalSignature + keyAgreement, an empty subject,
    the meter id in the SAN's HardwareModuleName, the device-generic policy. ``days=None``: notAfter 9999-12-31."""
    names: list[x509.GeneralName] = [hardware_module_name(meter_id)]
    return _issue(authority, x509.Name([]), key, now, days, names, POLICY_DEVICE_GENERIC)


def issue_server(
    authority: Authority, hosts: list[str], key: ec.EllipticCurvePrivateKey, now: dt.datetime, days: int | None
) -> x509.Certificate:
    """The head-end's TLS certificate, valid for localhost, 127.0.0.1, ::1 and the given hosts."""
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(["localhost", "127.0.0.1", "::1", *hosts]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "amiscen"),
            x509.NameAttribute(NameOID.COMMON_NAME, "amiscen head-end"),
        ]
    )
    return _issue(authority, subject, key, now, days, names, POLICY_SERVICE_PROVIDER)

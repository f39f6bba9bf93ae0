"""The head-end's TLS: 2030.5 suite by default, client certificates required and checked against CA and CRL."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from amiscen.errors import UsageError
from amiscen.pki.layout import Layout

SEP2_CIPHER = "ECDHE-ECDSA-AES128-CCM8"


def server_context(layout: Layout, version: str = "1.2", ciphers: list[str] | None = None) -> ssl.SSLContext:
    """TLS 1.2 with ECDHE-ECDSA-AES128-CCM8 (2030.5) unless told otherwise; ``version`` "1.3" allows 1.2-1.3."""
    for path in (layout.ca_cert, layout.gateway_cert, layout.gateway_key):
        if not path.exists():
            raise UsageError(f"{path}: missing", hint="run `amiscen certs generate SCENARIO` first")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(layout.gateway_cert), str(layout.gateway_key))
    ctx.load_verify_locations(cafile=str(layout.ca_cert))
    ctx.verify_mode = ssl.CERT_REQUIRED
    if layout.crl.exists():
        ctx.load_verify_locations(cafile=str(layout.crl))
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    try:
        # CCM8 sits below OpenSSL 3's default security level; 2030.5 requires it
        ctx.set_ciphers(":".join(ciphers or [SEP2_CIPHER]) + ":@SECLEVEL=0")
    except ssl.SSLError:
        raise UsageError(f"this OpenSSL offers none of the ciphers {ciphers or [SEP2_CIPHER]}") from None
    return ctx


class RevocationList:
    """Serial numbers in certs/crl.pem, re-read when the file changes, so a revocation made while the head-end
    runs refuses that meter's next request (the handshake check only sees the CRL loaded at start)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._mtime = -1.0
        self._serials: frozenset[int] = frozenset()

    def revoked(self, serial: int) -> bool:
        if self.path is None:
            return False
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        if mtime != self._mtime:
            crl = x509.load_pem_x509_crl(self.path.read_bytes())
            self._serials = frozenset(r.serial_number for r in crl)
            self._mtime = mtime
        return serial in self._serials


HARDWARE_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")  # RFC 4108 id-on-hardwareModuleName


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

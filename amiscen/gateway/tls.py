"""The head-end's TLS: 2030.5 suite by default, client certificates required and checked against CA and CRL."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from cryptography import x509

from amiscen.errors import UsageError
from amiscen.pki.layout import Layout
from amiscen.sep.constants import SEP2_CIPHER

log = logging.getLogger("amiscen.headend.tls")


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
        try:
            ctx.load_verify_locations(cafile=str(layout.crl))
        except ssl.SSLError as exc:
            raise UsageError(f"{layout.crl}: not a PEM certificate revocation list ({exc.reason or exc})") from None
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    try:
        # CCM8 sits below OpenSSL 3's default security level; 2030.5 requires it
        ctx.set_ciphers(":".join(ciphers or [SEP2_CIPHER]) + ":@SECLEVEL=0")
    except ssl.SSLError:
        raise UsageError(f"this OpenSSL offers none of the ciphers {ciphers or [SEP2_CIPHER]}") from None
    return ctx


def notification_context(layout: Layout) -> ssl.SSLContext:
    """The head-end as a TLS client, POSTing notifications to a subscriber's https notificationURI: its own
    certificate, TLS 1.2+, the 2030.5 suite first, the subscriber's chain checked against the CA. No host name
    check: a device's certificate names no host (2030.5 identifies by certificate, not by name)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(str(layout.gateway_cert), str(layout.gateway_key))
    ctx.load_verify_locations(cafile=str(layout.ca_cert))
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(f"{SEP2_CIPHER}:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0")
    return ctx


class RevocationList:
    """Serial numbers in certs/crl.pem, re-read when the file changes, so a revocation made while the head-end
    runs refuses that meter's next request (the handshake check only sees the CRL loaded at start)."""

    def __init__(self, path: Path | None) -> None:
        """A CRL that is there but is not one is refused now, so the head-end does not start on it."""
        self.path = path
        self._mtime = -1.0
        self._serials: frozenset[int] = frozenset()
        if path is not None and path.exists():
            try:
                self._load(path.stat().st_mtime)
            except ValueError as exc:
                raise UsageError(f"{path}: not a PEM certificate revocation list ({exc})") from None

    def _load(self, mtime: float) -> None:
        assert self.path is not None
        crl = x509.load_pem_x509_crl(self.path.read_bytes())
        self._serials = frozenset(r.serial_number for r in crl)
        self._mtime = mtime

    def revoked(self, serial: int) -> bool:
        if self.path is None:
            return False
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        if mtime != self._mtime:
            try:
                self._load(mtime)
            except ValueError as exc:  # damaged while running: the last good list stays in force, said once
                self._mtime = mtime
                log.error("%s is not a CRL any more (%s): the revocations read before stay in force", self.path, exc)
        return serial in self._serials

"""The fleet's certificates as a whole: generate what is missing, list their state, renew, revoke."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from amiscen.errors import UsageError
from amiscen.pki.authority import (
    Authority,
    cert_pem,
    create_authority,
    key_pem,
    load_authority,
    new_key,
    revoked_serials,
    write_crl,
)
from amiscen.pki.files import ensure_dir, read_bytes, write_atomic, write_private_key
from amiscen.pki.issue import issue_device, issue_server
from amiscen.pki.layout import Layout
from amiscen.pki.profile import verdict
from amiscen.sep.ids import lfdi_from_der, sfdi_from_lfdi


@dataclass(frozen=True)
class Identity:
    """What the index records of one meter's certificate."""

    meter_id: str
    lfdi: str
    sfdi: int
    serial: str
    not_after: str

    @classmethod
    def of(cls, meter_id: str, cert: x509.Certificate) -> Identity:
        lfdi = lfdi_from_der(cert.public_bytes(serialization.Encoding.DER))
        return cls(
            meter_id,
            lfdi,
            sfdi_from_lfdi(lfdi),
            f"{cert.serial_number:X}",
            cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


@dataclass
class GenerateReport:
    created_ca: bool = False
    gateway: str = "kept"  # created / reissued / kept
    created: list[str] = field(default_factory=list)
    kept: int = 0
    tightened: list[str] = field(default_factory=list)  # private keys found readable by others, now 0600


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(read_bytes(path, "certificate"))
    except ValueError:
        raise UsageError(f"{path}: not a PEM certificate") from None


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(read_bytes(path, "private key"), password=None)
    except (ValueError, TypeError):
        raise UsageError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UsageError(f"{path}: not an ECDSA key")
    return key


def _matches(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bool:
    return key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]


def _issued_by(cert: x509.Certificate, authority: Authority) -> bool:
    try:
        cert.verify_directly_issued_by(authority.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _authority(layout: Layout, network_id: str, now: dt.datetime, force: bool, report: GenerateReport) -> Authority:
    have_cert, have_key = layout.ca_cert.exists(), layout.ca_key.exists()
    if force or not (have_cert or have_key):
        report.created_ca = True
        return create_authority(layout, network_id, now)
    if have_cert != have_key:
        present, missing = (layout.ca_cert, layout.ca_key) if have_cert else (layout.ca_key, layout.ca_cert)
        raise UsageError(
            f"{present} exists but {missing} is missing",
            hint="restore it, or start a new PKI with --force (every certificate is re-issued)",
        )
    return load_authority(layout)


def _gateway(
    layout: Layout,
    authority: Authority,
    hosts: list[str],
    now: dt.datetime,
    days: int | None,
    force: bool,
    report: GenerateReport,
) -> None:
    if not force and layout.gateway_cert.exists() and layout.gateway_key.exists():
        cert, key = _load_cert(layout.gateway_cert), _load_key(layout.gateway_key)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        covered = {str(n) for n in names.get_values_for_type(x509.DNSName)}
        covered |= {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
        if _matches(key, cert) and _issued_by(cert, authority) and set(hosts) <= covered:
            return
        report.gateway = "reissued"
    else:
        key = new_key()
        write_private_key(layout.gateway_key, key_pem(key))
        report.gateway = "created"
    write_atomic(layout.gateway_cert, cert_pem(issue_server(authority, hosts, key, now, days)))


def _write_meter(layout: Layout, meter_id: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> Identity:
    """Write a meter's certificate and its key file. The key file (0600) carries the key and then the certificate,
    a self-contained bundle, so `openssl verify -CAfile certs/ca.pem certs/meters/*/AMI_*.pem` checks every file."""
    try:
        layout.meter_dir(meter_id).mkdir(mode=0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        ensure_dir(layout.meter_dir(meter_id))
    write_private_key(layout.meter_key(meter_id), key_pem(key) + cert_pem(cert), durable=False)
    write_atomic(layout.meter_cert(meter_id), cert_pem(cert), durable=False)
    return Identity.of(meter_id, cert)


def generate(
    layout: Layout,
    meter_ids: list[str],
    *,
    network_id: str,
    hosts: list[str],
    now: dt.datetime,
    days: int | None = None,
    force: bool = False,
) -> GenerateReport:
    """Create the CA, head-end and meter certificates that are missing (all of them with ``force``).

    Existing keys are never overwritten without ``force``; problems with existing files are all reported at once.
    """
    ensure_dir(layout.root)
    with _locked(layout.root / ".generate.lock"):
        return _generate(layout, meter_ids, network_id, hosts, now, days, force)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One generator at a time per certificate directory: shards started together must not make two CAs."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _generate(
    layout: Layout,
    meter_ids: list[str],
    network_id: str,
    hosts: list[str],
    now: dt.datetime,
    days: int | None,
    force: bool,
) -> GenerateReport:
    report = GenerateReport()
    ensure_dir(layout.root / "meters")  # 0700 whatever the umask (parents made on the way would follow it)
    authority = _authority(layout, network_id, now, force, report)
    force = force or report.created_ca  # a new CA makes every old certificate useless
    _gateway(layout, authority, hosts, now, days, force, report)
    problems: list[str] = []
    index = read_index(layout)
    for meter_id in meter_ids:
        cert_path, key_path = layout.meter_cert(meter_id), layout.meter_key(meter_id)
        if not force and cert_path.exists():
            if not key_path.exists():
                problems.append(f"{cert_path}: its key {key_path.name} is missing (re-issue with --force)")
                continue
            cert, key = _load_cert(cert_path), _load_key(key_path)
            if not _matches(key, cert):
                problems.append(f"{key_path}: does not match {cert_path.name} (re-issue with --force)")
            elif not _issued_by(cert, authority):
                problems.append(f"{cert_path}: not issued by {layout.ca_cert} (re-issue with --force)")
            else:
                report.kept += 1
                index.setdefault(meter_id, Identity.of(meter_id, cert))
                _tighten(key_path, report)
            continue
        report.created.append(meter_id)

    def create(meter_id: str) -> Identity:
        key_path = layout.meter_key(meter_id)
        key = _load_key(key_path) if key_path.exists() and not force else new_key()
        return _write_meter(layout, meter_id, key, issue_device(authority, meter_id, key, now, days))

    # file creation dominates on most disks and releases the GIL: overlap it
    with ThreadPoolExecutor(max_workers=8) as pool:
        for identity in pool.map(create, report.created):
            index[identity.meter_id] = identity
    write_index(layout, index)
    if problems:
        raise UsageError("\n".join(problems))
    return report


def _tighten(key_path: Path, report: GenerateReport) -> None:
    """A kept private key readable or writable by anyone but its owner is made 0600, and the report says so."""
    mode = key_path.stat().st_mode & 0o777
    if mode & 0o077:
        key_path.chmod(0o600)
        report.tightened.append(f"{key_path} ({mode:04o} -> 0600)")


def read_index(layout: Layout) -> dict[str, Identity]:
    if not layout.index.exists():
        return {}
    try:
        raw = json.loads(layout.index.read_text(encoding="utf-8"))
        return {mid: Identity(meter_id=mid, **fields) for mid, fields in raw["meters"].items()}
    except (ValueError, KeyError, TypeError):
        raise UsageError(
            f"{layout.index}: not an amiscen certificate index", hint="delete it; `amiscen certs generate` rebuilds it"
        ) from None


def write_index(layout: Layout, index: dict[str, Identity]) -> None:
    meters = {
        mid: {"lfdi": i.lfdi, "sfdi": i.sfdi, "serial": i.serial, "not_after": i.not_after}
        for mid, i in sorted(index.items())
    }
    write_atomic(layout.index, (json.dumps({"meters": meters}, indent=1) + "\n").encode())


@dataclass(frozen=True)
class CertStatus:
    meter_id: str
    lfdi: str
    sfdi: str
    not_after: str
    days_left: str
    status: str  # ok / expiring / expired / revoked / missing key / missing certificate / key mismatch / foreign CA
    profile: str = "-"  # "2030.5", or what keeps the certificate off the 2030.5 device profile


def _status(
    layout: Layout,
    authority: Authority,
    revoked: dict[int, dt.datetime],
    meter_id: str,
    now: dt.datetime,
    warn_days: int,
) -> CertStatus:
    cert_path, key_path = layout.meter_cert(meter_id), layout.meter_key(meter_id)
    if not cert_path.exists():
        return CertStatus(meter_id, "-", "-", "-", "-", "missing certificate")
    cert = _load_cert(cert_path)
    ident = Identity.of(meter_id, cert)
    left = (cert.not_valid_after_utc - now).days
    base = (meter_id, ident.lfdi, str(ident.sfdi), ident.not_after[:10], str(left))
    if not key_path.exists():
        status = "missing key"
    elif not _matches(_load_key(key_path), cert):
        status = "key does not match certificate"
    elif not _issued_by(cert, authority):
        status = "not issued by this CA"
    elif cert.serial_number in revoked:
        status = "revoked"
    elif left < 0:
        status = "expired"
    elif left <= warn_days:
        status = f"expiring within {warn_days} days"
    else:
        status = "ok"
    return CertStatus(*base, status, verdict(cert, "device"))


def infrastructure_profiles(layout: Layout) -> list[tuple[str, Path, str]]:
    """(role, path, verdict) of the CA's and the head-end's certificates, against their 2030.5 profiles."""
    out: list[tuple[str, Path, str]] = []
    for role, path, kind in (("CA", layout.ca_cert, "ca"), ("head-end", layout.gateway_cert, "server")):
        if path.exists():
            out.append((role, path, verdict(_load_cert(path), kind)))  # type: ignore[arg-type]
    return out


def known_meters(layout: Layout) -> list[str]:
    directory = layout.root / "meters"
    return sorted(p.name for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []


def list_status(layout: Layout, meter_ids: list[str] | None, now: dt.datetime, warn_days: int = 30) -> list[CertStatus]:
    authority = load_authority(layout)
    revoked = revoked_serials(layout)
    ids = meter_ids if meter_ids is not None else known_meters(layout)
    return [_status(layout, authority, revoked, mid, now, warn_days) for mid in ids]


def renew(
    layout: Layout,
    now: dt.datetime,
    *,
    within_days: int = 30,
    rekey: bool = False,
    days: int | None = None,
    meter_ids: list[str] | None = None,
) -> list[str]:
    """Re-issue meter certificates that expire within ``within_days`` (all named ones if ``meter_ids``)."""
    authority = load_authority(layout)
    index = read_index(layout)
    renewed = []
    for meter_id in meter_ids if meter_ids is not None else known_meters(layout):
        cert_path, key_path = layout.meter_cert(meter_id), layout.meter_key(meter_id)
        cert = _load_cert(cert_path)
        if meter_ids is None and (cert.not_valid_after_utc - now).days > within_days:
            continue
        key = new_key() if rekey or not key_path.exists() else _load_key(key_path)
        index[meter_id] = _write_meter(layout, meter_id, key, issue_device(authority, meter_id, key, now, days))
        renewed.append(meter_id)
    write_index(layout, index)
    return renewed


def revoke(layout: Layout, meter_id: str, now: dt.datetime) -> Identity:
    """Add the meter's current certificate to certs/crl.pem."""
    authority = load_authority(layout)
    cert_path = layout.meter_cert(meter_id)
    if not cert_path.exists():
        known = known_meters(layout)
        from amiscen.diagnostics import did_you_mean

        raise UsageError(f"no certificate for meter '{meter_id}' in {layout.root}{did_you_mean(meter_id, known)}")
    cert = _load_cert(cert_path)
    revoked = revoked_serials(layout)
    revoked.setdefault(cert.serial_number, now)
    write_crl(layout, authority, sorted(revoked.items()), now)
    return Identity.of(meter_id, cert)

"""Which 2030.5 certificate profile a certificate meets, extension by extension, as peers check it.

EPRI's reference client checks every certificate of the chain: policy mappings and name constraints refuse it;
keyUsage, basicConstraints, certificatePolicies and subjectAltName must be critical; every other extension must
not be; a CA must carry no subjectAltName. The 2030.5 device profile adds: an empty subject (the device is named
by the subjectAltName's HardwareModuleName), a 2030.5 policy (IANA PEN 40732), digitalSignature + keyAgreement,
no extended key usage, ECDSA P-256 with SHA-256, and notAfter 9999-12-31T23:59:59Z.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

from amiscen.pki.issue import HARDWARE_MODULE_NAME

Role = Literal["ca", "device", "server"]
POLICY_ARC = "1.3.6.1.4.1.40732."
FOREVER = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
MUST_BE_CRITICAL = {
    ExtensionOID.KEY_USAGE: "keyUsage",
    ExtensionOID.BASIC_CONSTRAINTS: "basicConstraints",
    ExtensionOID.CERTIFICATE_POLICIES: "certificatePolicies",
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME: "subjectAltName",
}
REFUSED = {ExtensionOID.POLICY_MAPPINGS: "policyMappings", ExtensionOID.NAME_CONSTRAINTS: "nameConstraints"}


def deviations(cert: x509.Certificate, role: Role) -> list[str]:
    """What keeps ``cert`` from the 2030.5 profile of its role; empty when it meets it."""
    out = []
    present = {e.oid: e for e in cert.extensions}
    for oid, ext in present.items():
        name = MUST_BE_CRITICAL.get(oid)
        if oid in REFUSED:
            out.append(f"has {REFUSED[oid]} (refused by 2030.5 peers)")
        elif name and not ext.critical:
            out.append(f"{name} not critical")
        elif not name and ext.critical:
            out.append(f"{oid.dotted_string} critical (only keyUsage, basicConstraints, policies, SAN may be)")
    policies = present.get(ExtensionOID.CERTIFICATE_POLICIES)
    if policies is None:
        out.append("no certificatePolicies")
    elif not any(p.policy_identifier.dotted_string.startswith(POLICY_ARC) for p in policies.value):
        out.append("no 2030.5 policy (1.3.6.1.4.1.40732.*)")
    constraints = present.get(ExtensionOID.BASIC_CONSTRAINTS)
    if constraints is None or constraints.value.ca != (role == "ca"):
        out.append(f"basicConstraints must say CA={'true' if role == 'ca' else 'false'}")
    usage = present.get(ExtensionOID.KEY_USAGE)
    if usage is None:
        out.append("no keyUsage")
    elif role == "ca" and not usage.value.key_cert_sign:
        out.append("keyUsage lacks keyCertSign")
    elif role != "ca" and not (usage.value.digital_signature and usage.value.key_agreement):
        out.append("keyUsage must have digitalSignature and keyAgreement")
    san = present.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if role == "ca" and san is not None:
        out.append("a CA carries no subjectAltName")
    if role == "device":
        if len(cert.subject) > 0:
            out.append("subject not empty (a device is named by its HardwareModuleName)")
        names = [] if san is None else san.value.get_values_for_type(x509.OtherName)
        if not any(n.type_id == HARDWARE_MODULE_NAME for n in names):
            out.append("no HardwareModuleName in subjectAltName")
        if cert.not_valid_after_utc != FOREVER:
            out.append(f"notAfter {cert.not_valid_after_utc:%Y-%m-%d}, not 9999-12-31 (devices never expire)")
    if role != "ca" and ExtensionOID.EXTENDED_KEY_USAGE in present:
        out.append("has extendedKeyUsage")
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        out.append("key is not ECDSA P-256")
    if not isinstance(cert.signature_hash_algorithm, hashes.SHA256):
        out.append("not signed with SHA-256")
    return out


def verdict(cert: x509.Certificate, role: Role) -> str:
    """'2030.5' when the certificate meets its profile, else what it misses, for `amiscen certs list`."""
    problems = deviations(cert, role)
    return "2030.5" if not problems else "off 2030.5: " + "; ".join(problems)

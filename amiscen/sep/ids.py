"""2030.5 identities: LFDI and SFDI from a device certificate, PIN check digits, mRIDs with the PEN."""

from __future__ import annotations

import hashlib

MAX_MRID = (1 << 128) - 1


def lfdi_from_der(certificate_der: bytes) -> str:
    """LFDI: the first 160 bits of SHA-256 over the DER certificate, as 40 upper-case hex digits."""
    if not certificate_der or certificate_der[:1] != b"\x30":
        raise ValueError("expected a DER-encoded certificate (an ASN.1 SEQUENCE), not PEM text")
    return hashlib.sha256(certificate_der).hexdigest()[:40].upper()


def check_digit(number: int) -> int:
    """The 2030.5 sum-of-digits check digit (not Luhn): (10 - digit sum mod 10) mod 10."""
    return (10 - sum(int(d) for d in str(number)) % 10) % 10


def sfdi_from_lfdi(lfdi: str) -> int:
    """SFDI: the LFDI's first 36 bits as a decimal number, with the check digit appended."""
    if len(lfdi) < 9:
        raise ValueError(f"an LFDI has 40 hex digits (got {len(lfdi)})")
    x = int(lfdi[:9], 16)
    return x * 10 + check_digit(x)


def pin_with_check_digit(pin5: int) -> int:
    """A registration PIN: five digits and the same check digit (11111 -> 111115)."""
    if not 0 <= pin5 <= 99999:
        raise ValueError(f"a PIN base has 5 digits (got {pin5})")
    return pin5 * 10 + check_digit(pin5)


def pin_is_valid(pin: int) -> bool:
    return 0 <= pin <= 999999 and check_digit(pin // 10) == pin % 10


def mrid(pen: int, *parts: str) -> str:
    """A 128-bit mRID: 96 bits of SHA-256 over ``parts`` (stable names), then the 32-bit PEN, in hex."""
    if not 0 < pen <= 0xFFFFFFFF:
        raise ValueError(f"a PEN is a 32-bit number above 0 (got {pen})")
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:12]
    return (digest.hex() + f"{pen:08x}").upper()


def pen_of(mrid_hex: str) -> int:
    """The PEN carried in an mRID's low 32 bits."""
    return int(mrid_hex, 16) & 0xFFFFFFFF


def registration_pin(meter_id: str) -> int:
    """amiscen's out-of-band registration PIN of a meter (as printed on its label): five digits derived from its
    id, plus the check digit. The head-end publishes it in Registration; the meter checks it before going on."""
    return pin_with_check_digit(int.from_bytes(hashlib.sha256(meter_id.encode()).digest()[:4], "big") % 100000)

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


def same_pin(issued: int, label: int) -> bool:
    """Whether a server's Registration pIN is the PIN on a meter's label. Peers read the check digit two ways (digits
    summing to 0 mod 10, as the SFDI; or check = digit sum mod 10, as the CACTUS harness does): the same five
    digits with either reading of the check digit are the same PIN."""
    if issued == label:
        return True
    base = label // 10
    return issued // 10 == base and issued % 10 in (check_digit(base), sum(int(d) for d in str(base)) % 10)


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


def nmi_checksum(nmi: str) -> int:
    """AEMO's NMI checksum digit (a Luhn variant over the characters' ASCII codes, doubling from the right)."""
    total = 0
    for i, ch in enumerate(reversed(nmi)):
        value = ord(ch) * (2 if i % 2 == 0 else 1)
        total += sum(int(d) for d in str(value))
    return (10 - total % 10) % 10


def connection_point_id(meter_id: str) -> str:
    """A CSIP-AUS ConnectionPoint id for a meter without one of its own: an 11-character NMI (ten digits derived
    from the id, then AEMO's checksum digit), as servers such as envoy store at most 11 characters."""
    base = "4" + f"{int.from_bytes(hashlib.sha256(meter_id.encode()).digest()[:8], 'big') % 10**9:09d}"
    return base + str(nmi_checksum(base))

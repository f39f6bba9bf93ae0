"""The flavours of 2030.5 a deployment speaks, as one object each: what differs between IEEE 2030.5-2018, SunSpec
CSIP (California Rule 21) and CSIP-AUS lives here, so no code branches on a profile's name.

Facts from the public references: CSIP-AUS v1.2 (envoy-schema, cactus-test-definitions): site MirrorUsagePoints
carry roleFlags 03 and DER ones 49; DERCapability carries csipaus:doeModesSupported (required) and DERSettings
csipaus:doeModesEnabled; an EndDevice has a csipaus:ConnectionPointLink; dynamic operating envelopes travel as
csipaus:opModImpLimW / opModExpLimW (at the connection point) and opModGenLimW / opModLoadLimW (per DER).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

from amiscen.sep.constants import RoleFlags


class DoeModes(IntFlag):
    """csipaus:doeModesSupported / doeModesEnabled bits."""

    EXPORT_LIMIT_W = 1
    IMPORT_LIMIT_W = 2
    GENERATION_LIMIT_W = 4
    LOAD_LIMIT_W = 8


ALL_DOE_MODES = DoeModes.EXPORT_LIMIT_W | DoeModes.IMPORT_LIMIT_W | DoeModes.GENERATION_LIMIT_W | DoeModes.LOAD_LIMIT_W


@dataclass(frozen=True)
class Profile:
    name: str
    site_role_flags: int  # the meter's own (site) MirrorUsagePoint
    doe_modes: int  # the DOE limits a meter understands and declares; 0: none (no csipaus elements sent)
    connection_point: bool  # PUT a csipaus:ConnectionPoint when the EndDevice links one
    der_mirror: bool  # a prosumer also mirrors its DER (roleFlags 49: isMirror, isDER, isSubmeter)

    @property
    def applies_doe(self) -> bool:
        return bool(self.doe_modes)


REVENUE_SITE = int(RoleFlags.IS_MIRROR | RoleFlags.IS_PREMISES_AGGREGATION_POINT | RoleFlags.IS_REVENUE_QUALITY)
CSIPAUS_SITE = int(RoleFlags.IS_MIRROR | RoleFlags.IS_PREMISES_AGGREGATION_POINT)  # 03
DER_MIRROR = int(RoleFlags.IS_MIRROR | RoleFlags.IS_DER | RoleFlags.IS_SUBMETER)  # 49

PROFILES: dict[str, Profile] = {
    "sep2018": Profile("sep2018", REVENUE_SITE, 0, False, False),  # IEEE 2030.5-2018
    "csip": Profile("csip", REVENUE_SITE, 0, False, True),  # SunSpec CSIP (California Rule 21)
    "csip-aus": Profile("csip-aus", CSIPAUS_SITE, int(ALL_DOE_MODES), True, True),  # CSIP-AUS v1.2
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown 2030.5 profile {name!r}; one of {', '.join(PROFILES)}") from None

"""Built-in load profiles for the six campus building types.

Shapes are fractions of the weekday in-term peak per local hour, drawn from published Thai building load
studies: classrooms and offices follow office hours with a lunch dip; dormitories peak in the evening when
students run air-conditioners; research buildings carry a high base (fume hoods, freezers, servers). Air
conditioning is 50-60% of electricity in Thai commercial buildings (EPPO / DEDE building energy code
background), hence the cooling shares.
"""

from __future__ import annotations

from amiscen.scenario.fleet import LoadProfile

BUILTIN_PROFILES: dict[str, LoadProfile] = {
    "academic": LoadProfile(
        peak_kw=380,
        hourly=[0.22, 0.20, 0.20, 0.20, 0.20, 0.22, 0.30, 0.50, 0.80, 0.95, 1.00, 1.00,
                0.92, 0.98, 1.00, 0.97, 0.85, 0.65, 0.50, 0.45, 0.38, 0.30, 0.26, 0.23],
        weekend_factor=0.35, holiday_factor=0.15, break_factor=0.45, cooling_share=0.60,
    ),
    "residential": LoadProfile(
        peak_kw=180,
        hourly=[0.70, 0.65, 0.60, 0.55, 0.50, 0.48, 0.50, 0.55, 0.45, 0.35, 0.32, 0.33,
                0.36, 0.35, 0.34, 0.36, 0.42, 0.55, 0.75, 0.90, 1.00, 1.00, 0.95, 0.82],
        weekend_factor=1.05, holiday_factor=0.60, break_factor=0.50, cooling_share=0.55,
    ),
    "administrative": LoadProfile(
        peak_kw=220,
        hourly=[0.18, 0.17, 0.17, 0.17, 0.17, 0.18, 0.25, 0.55, 0.90, 1.00, 1.00, 0.98,
                0.85, 0.95, 1.00, 0.97, 0.80, 0.45, 0.28, 0.22, 0.20, 0.19, 0.18, 0.18],
        weekend_factor=0.20, holiday_factor=0.10, break_factor=0.90, cooling_share=0.60,
    ),
    "athletic": LoadProfile(
        peak_kw=150,
        hourly=[0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.30, 0.45, 0.50, 0.50, 0.50, 0.50,
                0.50, 0.55, 0.60, 0.70, 0.85, 1.00, 1.00, 0.95, 0.80, 0.50, 0.25, 0.18],
        weekend_factor=1.10, holiday_factor=0.50, break_factor=0.60, cooling_share=0.35,
    ),
    "research": LoadProfile(
        peak_kw=300,
        hourly=[0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.60, 0.70, 0.85, 0.95, 1.00, 1.00,
                0.95, 1.00, 1.00, 0.98, 0.90, 0.80, 0.70, 0.65, 0.60, 0.58, 0.56, 0.55],
        weekend_factor=0.70, holiday_factor=0.60, break_factor=0.90, cooling_share=0.50,
    ),
    "support": LoadProfile(
        peak_kw=200,
        hourly=[0.25, 0.22, 0.22, 0.22, 0.25, 0.35, 0.55, 0.75, 0.80, 0.80, 0.90, 1.00,
                1.00, 0.85, 0.80, 0.80, 0.75, 0.70, 0.60, 0.50, 0.40, 0.32, 0.28, 0.26],
        weekend_factor=0.50, holiday_factor=0.30, break_factor=0.60, cooling_share=0.45,
    ),
}

BUILTIN_TYPES = tuple(BUILTIN_PROFILES)

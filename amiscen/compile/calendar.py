"""Which days are public holidays and which are in an academic term, for a Thai university by default.

Fixed-date Thai holidays are exact. The Buddhist holidays follow the lunar calendar; the dates below are those
announced for 2025-2027 (Makha Bucha, Visakha Bucha, Asanha Bucha, Khao Phansa, with substitution days).
Scenarios outside these years, or with other calendars, list their own under ``calendar.holidays``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from amiscen.scenario.site import Calendar, country_holidays

_FIXED = [
    (1, 1),
    (4, 6),
    (4, 13),
    (4, 14),
    (4, 15),
    (5, 1),
    (5, 4),
    (6, 3),
    (7, 28),
    (8, 12),
    (10, 13),
    (10, 23),
    (12, 5),
    (12, 10),
    (12, 31),
]
_LUNAR = {
    2025: [(2, 12), (5, 11), (5, 12), (7, 10), (7, 11)],
    2026: [(3, 3), (5, 31), (6, 1), (7, 29), (7, 30)],
    2027: [(2, 20), (5, 20), (7, 18), (7, 19)],
}


def thai_holidays(years: range) -> set[dt.date]:
    days = set()
    for year in years:
        days |= {dt.date(year, m, d) for m, d in _FIXED}
        days |= {dt.date(year, m, d) for m, d in _LUNAR.get(year, [])}
    return days


def thai_terms(years: range) -> list[tuple[dt.date, dt.date]]:
    """Semester 1 mid-June to mid-October, semester 2 mid-November to mid-March (as at UTCC)."""
    terms = []
    for year in years:
        terms.append((dt.date(year, 6, 15), dt.date(year, 10, 15)))
        terms.append((dt.date(year, 11, 15), dt.date(year + 1, 3, 15)))
    return terms


def day_types(calendar: Calendar, days: list[dt.date]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day: is_weekend, is_holiday, in_term (boolean arrays)."""
    years = range(min(d.year for d in days) - 1, max(d.year for d in days) + 1)
    if calendar.country is not None:
        holidays = country_holidays(calendar.country, calendar.subdivision, years) | set(calendar.holidays or [])
    else:
        holidays = set(calendar.holidays) if calendar.holidays is not None else thai_holidays(years)
    terms = [(t.start, t.end) for t in calendar.terms] if calendar.terms is not None else thai_terms(years)
    weekend = np.array([d.weekday() >= 5 for d in days])
    holiday = np.array([d in holidays for d in days])
    in_term = np.array([any(a <= d <= b for a, b in terms) for d in days])
    return weekend, holiday, in_term

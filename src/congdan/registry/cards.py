"""Identity card validity (Law on Identity 2023, Art. 21).

A card must be renewed when its holder reaches 14, 25, 40 and 60. A card issued within
the two years before one of those ages stays valid until the next renewal age. A card
issued at 58 or later (two years before 60) is valid for life (``None``).
"""

from __future__ import annotations

from datetime import date

RENEWAL_AGES = (14, 25, 40, 60)
GRACE_YEARS = 2


def _birthday_at(birth_date: date, age: int) -> date:
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:  # 29 February in a non-leap year
        return date(birth_date.year + age, 3, 1)


def expiry_date(birth_date: date, issue_date: date) -> date | None:
    """The date until which a card issued on ``issue_date`` is valid, or None for life."""
    for age in RENEWAL_AGES:
        renewal = _birthday_at(birth_date, age)
        if issue_date >= renewal:
            continue
        grace_start = _birthday_at(birth_date, age - GRACE_YEARS)
        if issue_date >= grace_start:
            # Within two years before this renewal age: valid to the next one.
            continue
        return renewal
    return None

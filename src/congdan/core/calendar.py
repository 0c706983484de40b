"""The working-day calendar: Monday to Friday except Vietnamese public holidays.

Legal deadlines of procedures are counted in working days (Decree 61/2018, Art. 2). The
holidays come from the ``holidays`` package, which knows the lunar ones (Tết, Hùng Kings)
and the days off the government substitutes; ``CONGDAN_EXTRA_HOLIDAYS`` adds days a
province declares on its own (ISO dates, comma-separated).
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from django.conf import settings

SATURDAY = 5


@functools.cache
def _holidays(year: int) -> frozenset[dt.date]:
    days = set(holidays.country_holidays("VN", years=year))
    extra: tuple[dt.date, ...] = getattr(settings, "CONGDAN_EXTRA_HOLIDAYS", ())
    days.update(d for d in extra if d.year == year)
    return frozenset(days)


def holiday_name(day: dt.date) -> str | None:
    name = holidays.country_holidays("VN", years=day.year).get(day)
    return str(name) if name else None


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < SATURDAY and day not in _holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, else the first one after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The working day ``days`` working days after ``start`` (a dossier received on
    ``start`` with a deadline of ``days`` working days is due at the end of the result).
    ``days == 0`` gives ``start`` itself, moved to a working day."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return next_working_day(day)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]``: how many a pause from ``start`` to ``end`` used."""
    if end <= start:
        return 0
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count

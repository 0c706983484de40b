"""The working-day calendar: weekends, Vietnamese public holidays (Tết 2026), counting
working days, and the days a province adds (``CONGDAN_EXTRA_HOLIDAYS``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from congdan.core import calendar

D = dt.date
# Tết Bính Ngọ: Monday 16 to Friday 20 February 2026 (New Year's Eve to the 4th day).
TET_2026 = [D(2026, 2, d) for d in range(16, 21)]


@pytest.fixture(autouse=True)
def _fresh_holidays() -> Iterator[None]:
    calendar._holidays.cache_clear()
    yield
    calendar._holidays.cache_clear()


@pytest.mark.parametrize("day", TET_2026)
def test_tet_2026_is_not_worked(day: dt.date) -> None:
    assert day.weekday() < calendar.SATURDAY  # weekdays, off only because of Tết
    assert not calendar.is_working_day(day)
    assert calendar.holiday_name(day)


def test_days_around_tet_are_worked() -> None:
    assert calendar.is_working_day(D(2026, 2, 13))  # Friday before
    assert calendar.is_working_day(D(2026, 2, 23))  # Monday after
    assert calendar.holiday_name(D(2026, 2, 13)) is None


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 3, 7), False),  # Saturday
        (D(2026, 3, 8), False),  # Sunday
        (D(2026, 3, 9), True),  # Monday
        (D(2026, 3, 13), True),  # Friday
        (D(2026, 1, 1), False),  # New Year's Day, a Thursday
        (D(2026, 4, 30), False),  # Reunification Day
        (D(2026, 5, 1), False),  # Labour Day
        (D(2026, 9, 2), False),  # National Day
    ],
)
def test_weekends_and_fixed_holidays(day: dt.date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_next_working_day() -> None:
    assert calendar.next_working_day(D(2026, 3, 9)) == D(2026, 3, 9)
    assert calendar.next_working_day(D(2026, 3, 7)) == D(2026, 3, 9)
    # From the Saturday before Tết to the Monday after it.
    assert calendar.next_working_day(D(2026, 2, 14)) == D(2026, 2, 23)


def test_add_working_days_over_tet() -> None:
    # Received Thursday 12 February; 3 working days: Fri 13, Mon 23, Tue 24.
    assert calendar.add_working_days(D(2026, 2, 12), 3) == D(2026, 2, 24)
    assert calendar.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 23)
    # Received during Tết: counting starts after it.
    assert calendar.add_working_days(D(2026, 2, 17), 1) == D(2026, 2, 23)
    assert calendar.add_working_days(D(2026, 2, 17), 5) == D(2026, 2, 27)


def test_add_working_days_over_a_weekend() -> None:
    assert calendar.add_working_days(D(2026, 3, 13), 1) == D(2026, 3, 16)  # Fri → Mon
    assert calendar.add_working_days(D(2026, 3, 9), 5) == D(2026, 3, 16)


def test_zero_working_days_moves_to_a_working_day() -> None:
    assert calendar.add_working_days(D(2026, 3, 10), 0) == D(2026, 3, 10)
    assert calendar.add_working_days(D(2026, 3, 8), 0) == D(2026, 3, 9)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(D(2026, 3, 10), -1)


def test_working_days_between() -> None:
    assert calendar.working_days_between(D(2026, 2, 12), D(2026, 2, 24)) == 3
    assert calendar.working_days_between(D(2026, 2, 13), D(2026, 2, 23)) == 1
    assert calendar.working_days_between(D(2026, 2, 14), D(2026, 2, 22)) == 0  # Tết
    assert calendar.working_days_between(D(2026, 3, 9), D(2026, 3, 16)) == 5
    # (start, end]: the start day itself does not count.
    assert calendar.working_days_between(D(2026, 3, 9), D(2026, 3, 10)) == 1
    assert calendar.working_days_between(D(2026, 3, 10), D(2026, 3, 10)) == 0
    assert calendar.working_days_between(D(2026, 3, 10), D(2026, 3, 1)) == 0


def test_across_the_new_year() -> None:
    # Wed 31 December 2025; Thu 1 January 2026 is a holiday.
    assert calendar.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 2)
    assert calendar.working_days_between(D(2025, 12, 30), D(2026, 1, 5)) == 3


def test_extra_holidays_from_settings() -> None:
    friday = D(2026, 3, 13)
    assert calendar.is_working_day(friday)
    with override_settings(CONGDAN_EXTRA_HOLIDAYS=(friday, D(2027, 1, 4))):
        calendar._holidays.cache_clear()
        assert not calendar.is_working_day(friday)
        assert not calendar.is_working_day(D(2027, 1, 4))
        assert calendar.add_working_days(D(2026, 3, 12), 1) == D(2026, 3, 16)
        assert calendar.working_days_between(D(2026, 3, 9), D(2026, 3, 16)) == 4
        assert calendar.next_working_day(friday) == D(2026, 3, 16)
        # A province's day off is no national holiday: the package gives it no name.
        assert calendar.holiday_name(friday) is None


@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31)),
    days=st.integers(min_value=1, max_value=40),
)
def test_add_and_count_agree(start: dt.date, days: int) -> None:
    due = calendar.add_working_days(start, days)
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(start, due) == days
    assert calendar.working_days_between(start, due - dt.timedelta(days=1)) == days - 1

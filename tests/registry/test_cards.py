"""Identity card expiry: renew at 14, 25, 40, 60; a 2-year window before each age."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from congdan.registry.cards import expiry_date

BORN = dt.date(2000, 5, 1)


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (dt.date(2010, 1, 1), dt.date(2014, 5, 1)),  # age 9: valid to 14
        (dt.date(2012, 6, 1), dt.date(2025, 5, 1)),  # age 12, within 2 years of 14: to 25
        (dt.date(2014, 5, 1), dt.date(2025, 5, 1)),  # on the 14th birthday: to 25
        (dt.date(2021, 1, 1), dt.date(2025, 5, 1)),  # age 20: to 25
        (dt.date(2023, 4, 30), dt.date(2025, 5, 1)),  # one day before the window
        (dt.date(2023, 5, 1), dt.date(2040, 5, 1)),  # window opens at 23: to 40
        (dt.date(2038, 6, 1), dt.date(2060, 5, 1)),  # age 38: to 60
        (dt.date(2058, 5, 1), None),  # 58: for life
        (dt.date(2070, 1, 1), None),  # after 60: for life
    ],
)
def test_expiry_follows_the_renewal_ages(issued: dt.date, expected: dt.date | None) -> None:
    assert expiry_date(BORN, issued) == expected


def test_leap_day_birthday() -> None:
    assert expiry_date(dt.date(2004, 2, 29), dt.date(2020, 1, 1)) == dt.date(2029, 3, 1)


@given(
    st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=36500),
)
def test_expiry_is_after_issue_and_at_a_renewal_age(born: dt.date, days: int) -> None:
    issued = born + dt.timedelta(days=days)
    expiry = expiry_date(born, issued)
    if expiry is None:
        assert (
            issued >= born.replace(year=born.year + 58)
            if not (born.month == 2 and born.day == 29)
            else True
        )
    else:
        assert expiry > issued
        assert expiry.year - born.year in (14, 25, 40, 60)

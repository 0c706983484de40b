"""Personal ID numbers: structure, validation messages, property-based round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from congdan.registry import idnumbers

FAR_FUTURE = dt.date(2399, 12, 31)  # so that every composable year is in the past

provinces = st.integers(min_value=1, max_value=96).map(lambda n: f"{n:03d}")
sexes = st.sampled_from(["M", "F"])
years = st.integers(min_value=1900, max_value=2399)
serials = st.integers(min_value=0, max_value=999_999)


@given(provinces, sexes, years, serials)
def test_compose_round_trips_through_validate(code: str, sex: str, year: int, serial: int) -> None:
    number = idnumbers.compose(code, sex, year, serial)
    assert len(number) == 12
    assert number.isdigit()
    assert number[:3] == code
    assert number[4:6] == f"{year % 100:02d}"
    assert int(number[6:]) == serial
    assert (
        idnumbers.validate(
            number, sex=sex, birth_year=year, known_province_codes={code}, today=FAR_FUTURE
        )
        == []
    )
    century, decoded_sex = idnumbers.decode_century_sex(int(number[3]))
    assert decoded_sex == sex
    assert century <= year < century + 100


@given(provinces, sexes, years, serials)
def test_wrong_sex_is_explained(code: str, sex: str, year: int, serial: int) -> None:
    number = idnumbers.compose(code, sex, year, serial)
    other = "F" if sex == "M" else "M"
    problems = idnumbers.validate(number, sex=other, birth_year=year, today=FAR_FUTURE)
    assert [p.code for p in problems] == ["sex_mismatch"]


@given(provinces, sexes, years, serials, st.integers(min_value=1, max_value=99))
def test_wrong_year_is_explained(code: str, sex: str, year: int, serial: int, shift: int) -> None:
    number = idnumbers.compose(code, sex, year, serial)
    other_year = year + shift if year + shift <= 2399 else year - shift
    codes = {p.code for p in idnumbers.validate(number, birth_year=other_year)}
    assert "year_mismatch" in codes


@given(st.text(min_size=1, max_size=20).filter(lambda s: not s.isdigit()))
def test_non_digits_are_rejected_with_the_characters(text: str) -> None:
    problems = idnumbers.validate(text)
    assert problems[0].code == "not_digits"


@given(st.text(alphabet="0123456789", min_size=1, max_size=30).filter(lambda s: len(s) != 12))
def test_wrong_length_says_how_many_digits(text: str) -> None:
    problems = idnumbers.validate(text)
    assert problems[0].code == "wrong_length"
    assert str(len(text)) in problems[0].message


def test_century_digit_table_from_the_circular() -> None:
    expected = {
        (1950, "M"): 0,
        (1950, "F"): 1,
        (2005, "M"): 2,
        (2005, "F"): 3,
        (2150, "M"): 4,
        (2150, "F"): 5,
        (2250, "M"): 6,
        (2250, "F"): 7,
        (2350, "M"): 8,
        (2350, "F"): 9,
    }
    for (year, sex), digit in expected.items():
        assert idnumbers.century_sex_digit(sex, year) == digit


def test_unknown_province_and_century_mismatch_are_both_reported() -> None:
    problems = idnumbers.validate("099301000123", birth_year=1901, known_province_codes={"001"})
    assert {p.code for p in problems} == {"unknown_province", "century_mismatch"}
    assert "099" in problems[0].message


@pytest.mark.parametrize(
    "bad",
    [
        ("04", "M", 1990, 1),
        ("048", "X", 1990, 1),
        ("048", "M", 1899, 1),
        ("048", "M", 1990, 1_000_000),
    ],
)
def test_compose_refuses_bad_parts(bad: tuple[str, str, int, int]) -> None:
    with pytest.raises(ValueError, match=r"must be|outside"):
        idnumbers.compose(*bad)


@pytest.mark.parametrize("text", ["048²90000001", "０４８０９００００００１"])
def test_non_ascii_digits_are_refused(text: str) -> None:
    assert idnumbers.validate(text)[0].code == "not_digits"


def test_future_birth_year_is_refused() -> None:
    problems = idnumbers.validate("048490000001", today=dt.date(2026, 11, 21))
    assert [p.code for p in problems] == ["future_birth_year"]
    assert "2190" in problems[0].message

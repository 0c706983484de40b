"""Fee specs and their computation: each exemption condition, non-stacking, rounding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from congdan.payments.fees import (
    Exemption,
    FeeContext,
    FeeSpec,
    age_on,
    compute_fee,
    format_dong,
)

DAY = dt.date(2026, 3, 10)


def ctx(**overrides: Any) -> FeeContext:
    values: dict[str, Any] = {
        "channel": "online",
        "province_code": "48",
        "on": DAY,
        "subject_age": 30,
        "applicant_age": 30,
        "form": {},
    }
    values.update(overrides)
    return FeeContext(**values)


def exemption(**overrides: Any) -> Exemption:
    values: dict[str, Any] = {
        "code": "test_exemption",
        "name_vi": "Miễn giảm thử",
        "name_en": "Test exemption",
        "percent": 50,
    }
    values.update(overrides)
    return Exemption(**values)


def spec_with(amount: int = 10_000, **condition: Any) -> FeeSpec:
    return FeeSpec(amount=amount, exemptions=[exemption(**condition)])


# --- the spec format -------------------------------------------------------------------


def test_spec_parses_the_yaml_shape() -> None:
    spec = FeeSpec.model_validate(
        {
            "amount": 8000,
            "exemptions": [
                {
                    "code": "online_filing_nq_48",
                    "name_vi": "Giảm 50% khi nộp trực tuyến",
                    "name_en": "50% off online",
                    "percent": 50,
                    "channel": "online",
                    "provinces": ["48"],
                    "valid_from": "2025-07-01",
                    "valid_until": "2026-12-31",
                    "legal_basis": "Nghị quyết 48/2025/NQ-HĐND",
                }
            ],
        }
    )
    assert spec.amount == 8000
    assert spec.exemptions[0].valid_from == dt.date(2025, 7, 1)
    assert FeeSpec().amount == 0
    assert FeeSpec().is_free


@pytest.mark.parametrize(
    "data",
    [
        {"amount": -1},
        {"amount": 1000, "surprise": 1},  # extra keys are refused
        {"amount": 1000, "exemptions": [{"code": "x_y", "name_vi": "a", "name_en": "a"}]},
        {
            "amount": 1000,
            "exemptions": [{"code": "ab", "name_vi": "a", "name_en": "a", "percent": 0}],
        },
        {
            "amount": 1000,
            "exemptions": [{"code": "ab", "name_vi": "a", "name_en": "a", "percent": 101}],
        },
        {
            "amount": 1000,
            "exemptions": [
                {"code": "ab", "name_vi": "a", "name_en": "a", "percent": 5, "extra": 1}
            ],
        },
        {
            "amount": 1000,
            "exemptions": [
                {
                    "code": "ab",
                    "name_vi": "a",
                    "name_en": "a",
                    "percent": 5,
                    "provinces": ["048"],
                }
            ],
        },
        {
            "amount": 1000,
            "exemptions": [
                {"code": "ab", "name_vi": "a", "name_en": "a", "percent": 5, "provinces": []}
            ],
        },
        {
            "amount": 1000,
            "exemptions": [
                {"code": "ab", "name_vi": "a", "name_en": "a", "percent": 5, "channel": "post"}
            ],
        },
        {
            "amount": 1000,
            "exemptions": [
                {
                    "code": "ab",
                    "name_vi": "a",
                    "name_en": "a",
                    "percent": 5,
                    "valid_from": "2026-01-02",
                    "valid_until": "2026-01-01",
                }
            ],
        },
        {
            "amount": 1000,
            "exemptions": [
                {"code": "ab", "name_vi": "a", "name_en": "a", "percent": 5},
                {"code": "ab", "name_vi": "b", "name_en": "b", "percent": 10},
            ],
        },
    ],
)
def test_bad_specs_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FeeSpec.model_validate(data)


# --- computation ------------------------------------------------------------------------


def test_no_exemption_pays_the_base() -> None:
    quote = compute_fee(FeeSpec(amount=8000), ctx())
    assert (quote.base, quote.amount, quote.exemption) == (8000, 8000, None)


def test_free_when_base_is_zero_even_with_exemptions() -> None:
    quote = compute_fee(FeeSpec(amount=0, exemptions=[exemption(percent=100)]), ctx())
    assert (quote.amount, quote.exemption) == (0, None)
    assert quote.is_free


def test_full_exemption() -> None:
    quote = compute_fee(spec_with(percent=100), ctx())
    assert quote.amount == 0
    assert quote.exemption is not None
    assert quote.exemption.reduction == 10_000


def test_reduction_rounds_down_to_the_dong() -> None:
    quote = compute_fee(FeeSpec(amount=999, exemptions=[exemption(percent=50)]), ctx())
    # 999 * 50 // 100 = 499 off: the citizen pays 500, never a fraction of a đồng.
    assert quote.exemption is not None
    assert quote.exemption.reduction == 499
    assert quote.amount == 500


@pytest.mark.parametrize(
    ("condition", "holds", "fails"),
    [
        ({"channel": "online"}, {"channel": "online"}, {"channel": "counter"}),
        ({"channel": "counter"}, {"channel": "counter"}, {"channel": "online"}),
        ({"provinces": ["48", "01"]}, {"province_code": "01"}, {"province_code": "79"}),
        ({"provinces": ["48"]}, {"province_code": "48"}, {"province_code": None}),
        ({"valid_from": dt.date(2026, 3, 10)}, {"on": DAY}, {"on": DAY - dt.timedelta(days=1)}),
        ({"valid_until": dt.date(2026, 3, 10)}, {"on": DAY}, {"on": DAY + dt.timedelta(days=1)}),
        ({"subject_age_under": 6}, {"subject_age": 5}, {"subject_age": 6}),
        ({"subject_age_under": 6}, {"subject_age": 0}, {"subject_age": None}),
        ({"applicant_age_at_least": 60}, {"applicant_age": 60}, {"applicant_age": 59}),
        ({"applicant_age_at_least": 60}, {"applicant_age": 80}, {"applicant_age": None}),
        (
            {"form_field_true": "poor_household"},
            {"form": {"poor_household": True}},
            {"form": {"poor_household": False}},
        ),
        (
            {"form_field_true": "poor_household"},
            {"form": {"poor_household": True}},
            {"form": {"poor_household": "yes"}},  # only a real boolean true counts
        ),
        ({"form_field_true": "poor_household"}, {"form": {"poor_household": True}}, {"form": {}}),
    ],
)
def test_each_condition(
    condition: dict[str, Any], holds: dict[str, Any], fails: dict[str, Any]
) -> None:
    spec = spec_with(**condition)
    applied = compute_fee(spec, ctx(**holds))
    assert applied.amount == 5_000
    assert applied.exemption is not None
    assert applied.exemption.code == "test_exemption"
    refused = compute_fee(spec, ctx(**fails))
    assert (refused.amount, refused.exemption) == (10_000, None)


def test_all_conditions_of_an_exemption_must_hold() -> None:
    spec = spec_with(channel="online", provinces=["48"], subject_age_under=6)
    assert compute_fee(spec, ctx(subject_age=3)).amount == 5_000
    assert compute_fee(spec, ctx(subject_age=3, channel="counter")).amount == 10_000
    assert compute_fee(spec, ctx(subject_age=3, province_code="01")).amount == 10_000
    assert compute_fee(spec, ctx(subject_age=7)).amount == 10_000


def test_exemptions_do_not_stack_the_largest_applies() -> None:
    spec = FeeSpec(
        amount=10_000,
        exemptions=[
            exemption(code="online", percent=50, channel="online"),
            exemption(code="child", percent=100, subject_age_under=6),
            exemption(code="elder", percent=30, applicant_age_at_least=60),
        ],
    )
    both = compute_fee(spec, ctx(subject_age=3, applicant_age=65))
    assert both.exemption is not None
    assert (both.exemption.code, both.amount) == ("child", 0)
    online_and_elder = compute_fee(spec, ctx(applicant_age=65))
    assert online_and_elder.exemption is not None
    assert (online_and_elder.exemption.code, online_and_elder.amount) == ("online", 5_000)
    elder_only = compute_fee(spec, ctx(channel="counter", applicant_age=65))
    assert elder_only.exemption is not None
    assert (elder_only.exemption.code, elder_only.amount) == ("elder", 7_000)


def test_on_a_tie_the_first_listed_applies() -> None:
    spec = FeeSpec(
        amount=1000,
        exemptions=[exemption(code="first", percent=20), exemption(code="second", percent=20)],
    )
    quote = compute_fee(spec, ctx())
    assert quote.exemption is not None
    assert quote.exemption.code == "first"


def test_exemption_name_follows_the_language() -> None:
    from django.utils import translation

    quote = compute_fee(spec_with(), ctx())
    assert quote.exemption is not None
    with translation.override("vi"):
        assert quote.exemption.name == "Miễn giảm thử"
    with translation.override("en"):
        assert quote.exemption.name == "Test exemption"


@given(
    base=st.integers(min_value=0, max_value=1_000_000_000),
    percents=st.lists(st.integers(min_value=1, max_value=100), max_size=5),
    applies=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_amount_invariants(base: int, percents: list[int], applies: list[bool]) -> None:
    spec = FeeSpec(
        amount=base,
        exemptions=[
            exemption(code=f"e{i}", percent=p, channel="online" if applies[i] else "counter")
            for i, p in enumerate(percents)
        ],
    )
    quote = compute_fee(spec, ctx(channel="online"))
    assert 0 <= quote.amount <= base
    assert quote.base == base
    applicable = [p for i, p in enumerate(percents) if applies[i]]
    if base == 0:
        assert quote.amount == 0
        assert quote.exemption is None
    elif applicable:
        best = max(applicable)
        assert quote.amount == base - base * best // 100
        assert quote.exemption is not None
        assert quote.exemption.reduction == base - quote.amount
        # Rounding favours the payer by less than one đồng.
        assert quote.amount * 100 >= base * (100 - best)
        assert quote.amount * 100 - base * (100 - best) < 100
    else:
        assert quote.amount == base
        assert quote.exemption is None


def test_age_on() -> None:
    born = dt.date(2020, 3, 11)
    assert age_on(born, dt.date(2026, 3, 10)) == 5
    assert age_on(born, dt.date(2026, 3, 11)) == 6


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "0 ₫"), (8000, "8.000 ₫"), (1_000_000, "1.000.000 ₫"), (123_456_789, "123.456.789 ₫")],
)
def test_format_dong(amount: int, text: str) -> None:
    assert format_dong(amount) == text

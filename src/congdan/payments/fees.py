"""Fees and exemptions: what a procedure costs, and what a citizen pays in the end.

A procedure spec (``procedures/*.yaml``) embeds a ``FeeSpec``::

    fee:
      amount: 8000                    # integer đồng
      exemptions:
        - code: online_filing_nq_48
          name_vi: Giảm 50% khi nộp hồ sơ trực tuyến
          name_en: 50% off when filed online
          percent: 50
          channel: online
          valid_from: 2025-07-01
          valid_until: 2025-12-31
          legal_basis: Nghị quyết 48/2025/NQ-HĐND

``compute_fee`` turns a spec and the facts of one filing (``FeeContext``) into a
``FeeQuote``. Exemptions do not stack: of those whose every condition holds, the one with
the largest reduction applies (the first listed on a tie). A reduction rounds down to the
whole đồng, so the citizen never pays more than ``base * (100 - percent) / 100``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.translation import get_language
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROVINCE_CODE = re.compile(r"^\d{2}$")
EXEMPTION_CODE = r"^[a-z][a-z0-9_]{1,59}$"


class Exemption(BaseModel):
    """One way the fee is reduced; it applies only when all its conditions hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=EXEMPTION_CODE)
    name_vi: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    percent: int = Field(ge=1, le=100)
    legal_basis: str = Field(default="", max_length=200)
    # Conditions (None = no condition of that kind).
    channel: Literal["online", "counter"] | None = None
    # Current (2025 scheme) two-digit province codes: a provincial resolution.
    provinces: list[str] | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    subject_age_under: int | None = Field(default=None, ge=1, le=150)
    applicant_age_at_least: int | None = Field(default=None, ge=0, le=150)
    form_field_true: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")

    @field_validator("provinces")
    @classmethod
    def _province_codes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("provinces must list at least one code (or be left out)")
        bad = [code for code in value if not PROVINCE_CODE.match(code)]
        if bad:
            raise ValueError(f"province codes are two digits (2025 scheme), got {bad}")
        return value

    @model_validator(mode="after")
    def _period(self) -> Exemption:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self

    def applies(self, ctx: FeeContext) -> bool:
        """True when every condition of this exemption holds for the filing."""
        checks = (
            self.channel is None or ctx.channel == self.channel,
            self.provinces is None or ctx.province_code in self.provinces,
            self.valid_from is None or ctx.on >= self.valid_from,
            self.valid_until is None or ctx.on <= self.valid_until,
            self.subject_age_under is None
            or (ctx.subject_age is not None and ctx.subject_age < self.subject_age_under),
            self.applicant_age_at_least is None
            or (ctx.applicant_age is not None and ctx.applicant_age >= self.applicant_age_at_least),
            self.form_field_true is None or ctx.form.get(self.form_field_true) is True,
        )
        return all(checks)

    def reduction_of(self, base: int) -> int:
        return base * self.percent // 100


class FeeSpec(BaseModel):
    """The fee of a procedure: a base amount in integer đồng and its exemptions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int = Field(default=0, ge=0, le=1_000_000_000)
    exemptions: list[Exemption] = Field(default_factory=list)

    @field_validator("exemptions")
    @classmethod
    def _unique_codes(cls, value: list[Exemption]) -> list[Exemption]:
        codes = [e.code for e in value]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"exemption codes repeat: {duplicates}")
        return value

    @property
    def is_free(self) -> bool:
        return self.amount == 0


@dataclass(frozen=True)
class FeeContext:
    """The facts of one filing that exemptions look at."""

    channel: str  # "online" or "counter"
    province_code: str | None  # current 2-digit code of the province handling the dossier
    on: dt.date  # the filing date (local)
    subject_age: int | None = None  # age of the person the dossier is about
    applicant_age: int | None = None
    form: Mapping[str, Any] = field(default_factory=dict)  # cleaned form values


@dataclass(frozen=True)
class AppliedExemption:
    code: str
    name_vi: str
    name_en: str
    percent: int
    reduction: int

    @property
    def name(self) -> str:
        """The name in the active language (Vietnamese unless English is active)."""
        return self.name_en if (get_language() or "vi").startswith("en") else self.name_vi


@dataclass(frozen=True)
class FeeQuote:
    base: int
    amount: int  # what the citizen pays, integer đồng
    exemption: AppliedExemption | None = None

    @property
    def is_free(self) -> bool:
        return self.amount == 0


def compute_fee(spec: FeeSpec, ctx: FeeContext) -> FeeQuote:
    """The amount due for one filing: the base less the single largest exemption that
    applies. Free (0, no exemption) when the base is 0."""
    base = spec.amount
    if base == 0:
        return FeeQuote(base=0, amount=0)
    best: Exemption | None = None
    for exemption in spec.exemptions:
        if not exemption.applies(ctx):
            continue
        if best is None or exemption.reduction_of(base) > best.reduction_of(base):
            best = exemption
    if best is None:
        return FeeQuote(base=base, amount=base)
    reduction = best.reduction_of(base)
    return FeeQuote(
        base=base,
        amount=base - reduction,
        exemption=AppliedExemption(
            code=best.code,
            name_vi=best.name_vi,
            name_en=best.name_en,
            percent=best.percent,
            reduction=reduction,
        ),
    )


def age_on(born: dt.date, on: dt.date) -> int:
    """Whole years of age on a day (for ``FeeContext.subject_age`` / ``applicant_age``)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def format_dong(amount: int) -> str:
    """``1000000`` → ``"1.000.000 ₫"`` (Vietnamese grouping)."""
    return f"{amount:,}".replace(",", ".") + " ₫"

"""Personal identification numbers (số định danh cá nhân).

Structure (Decree 137/2015 Art. 13; Circular 59/2021/TT-BCA), 12 digits:

====== ===================================================================
1–3    code of the province where the birth was registered (001–096, the
       pre-2025 provincial codes, still valid after the 2025 merger)
4      century and sex: 0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s,
       6/7 = 2200s, 8/9 = 2300s
5–6    last two digits of the year of birth
7–12   random serial
====== ===================================================================

``validate`` explains every problem it finds, in Vietnamese, with a stable code.
Allocation against the database lives in ``registry.services`` (unique constraint and
retry); this module is pure.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

LENGTH = 12
FIRST_CENTURY = 1900
LAST_YEAR = 2399


class RandomSource(Protocol):
    def randrange(self, start: int, stop: int, /) -> int: ...


class _SystemRandom:
    def randrange(self, start: int, stop: int, /) -> int:
        return start + secrets.randbelow(stop - start)


SYSTEM_RANDOM: RandomSource = _SystemRandom()


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


def century_sex_digit(sex: str, birth_year: int) -> int:
    if not FIRST_CENTURY <= birth_year <= LAST_YEAR:
        raise ValueError(f"birth year {birth_year} outside {FIRST_CENTURY}-{LAST_YEAR}")
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    century_index = (birth_year - FIRST_CENTURY) // 100
    return century_index * 2 + (1 if sex == "F" else 0)


def decode_century_sex(digit: int) -> tuple[int, str]:
    """Return (first year of the century, sex) for digit 4."""
    return FIRST_CENTURY + (digit // 2) * 100, ("F" if digit % 2 else "M")


def compose(province_id_code: str, sex: str, birth_year: int, serial: int) -> str:
    if len(province_id_code) != 3 or not province_id_code.isdigit():
        raise ValueError(f"province code must be 3 digits, got {province_id_code!r}")
    if not 0 <= serial <= 999_999:
        raise ValueError(f"serial must be 0..999999, got {serial}")
    return (
        f"{province_id_code}{century_sex_digit(sex, birth_year)}{birth_year % 100:02d}{serial:06d}"
    )


def random_number(
    province_id_code: str, sex: str, birth_year: int, rng: RandomSource = SYSTEM_RANDOM
) -> str:
    return compose(province_id_code, sex, birth_year, rng.randrange(0, 1_000_000))


def validate(
    number: str,
    *,
    sex: str | None = None,
    birth_year: int | None = None,
    known_province_codes: frozenset[str] | set[str] | None = None,
    today: dt.date | None = None,
) -> list[Problem]:
    """Every problem with ``number``; empty when it is well formed and consistent.

    ``sex``/``birth_year`` check digit 4–6 against the recorded person;
    ``known_province_codes`` checks digits 1–3 against the province table.
    """
    problems: list[Problem] = []
    if not (number.isascii() and number.isdigit()):
        bad = sorted({ch for ch in number if ch not in "0123456789"})
        problems.append(
            Problem(
                "not_digits",
                _("Số định danh chỉ gồm chữ số; có ký tự không hợp lệ: %(chars)s")
                % {"chars": " ".join(repr(c) for c in bad)},
            )
        )
        return problems
    if len(number) != LENGTH:
        problems.append(
            Problem(
                "wrong_length",
                _("Số định danh phải có 12 chữ số; số đã nhập có %(n)d chữ số.")
                % {"n": len(number)},
            )
        )
        return problems
    province, digit, yy = number[:3], int(number[3]), int(number[4:6])
    if known_province_codes is not None and province not in known_province_codes:
        problems.append(
            Problem(
                "unknown_province",
                _("Mã tỉnh %(code)s (3 chữ số đầu) không phải mã tỉnh nơi đăng ký khai sinh.")
                % {"code": province},
            )
        )
    century, encoded_sex = decode_century_sex(digit)
    encoded_year = century + yy
    if encoded_year > (today or timezone.localdate()).year:
        problems.append(
            Problem(
                "future_birth_year",
                _("Chữ số thứ 4–6 mã hóa năm sinh %(year)d, là năm trong tương lai.")
                % {"year": encoded_year},
            )
        )
    if sex is not None and sex in ("M", "F") and encoded_sex != sex:
        problems.append(
            Problem(
                "sex_mismatch",
                _(
                    "Chữ số thứ 4 (%(digit)d) mã hóa giới tính %(encoded)s, "
                    "nhưng giới tính đã ghi là %(recorded)s."
                )
                % {
                    "digit": digit,
                    "encoded": _("nữ") if encoded_sex == "F" else _("nam"),
                    "recorded": _("nữ") if sex == "F" else _("nam"),
                },
            )
        )
    if birth_year is not None:
        if century_sex_digit("M", birth_year) // 2 != digit // 2:
            problems.append(
                Problem(
                    "century_mismatch",
                    _(
                        "Chữ số thứ 4 (%(digit)d) chỉ thế kỷ sinh %(from)d–%(to)d, "
                        "nhưng năm sinh là %(year)d."
                    )
                    % {"digit": digit, "from": century, "to": century + 99, "year": birth_year},
                )
            )
        if birth_year % 100 != yy:
            problems.append(
                Problem(
                    "year_mismatch",
                    _("Chữ số thứ 5–6 (%(yy)02d) phải là hai số cuối năm sinh %(year)d.")
                    % {"yy": yy, "year": birth_year},
                )
            )
    return problems


def is_digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts '²' and full-width digits)."""
    return text.isascii() and text.isdigit()

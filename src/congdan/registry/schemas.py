"""Response and parameter schemas of the registry API (documented for /api/openapi.json).

The schemas are built from the selectors' results by explicit ``from_*`` functions, not
by ORM auto-mapping, so each field read is visible here and matches the fields the access
log records.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from ninja import Field, Schema

from congdan.geo.selectors import cached_unit
from congdan.registry.models import Person

if TYPE_CHECKING:
    from congdan.geo.models import AdministrativeUnit
    from congdan.registry.models import (
        Household,
        HouseholdMembership,
        IdentityCard,
        Residence,
    )

ID_NUMBER_DOC = "Personal ID number (số định danh cá nhân): 12 digits."


class ErrorOut(Schema):
    """Every error response."""

    code: str = Field(
        ...,
        description="Stable machine-readable error code, e.g. `person_not_found`.",
        examples=["person_not_found"],
    )
    message: str = Field(
        ...,
        description="Human-readable explanation in Vietnamese.",
        examples=["Không tìm thấy công dân có số định danh này."],
    )


class UnitOut(Schema):
    """An administrative unit (province or commune)."""

    code: str = Field(..., description="Unit code (GSO): 2 digits for a province, 5 for a commune.")
    name: str = Field(..., description="Official name with diacritics, e.g. `Phường Hải Châu`.")


class CodeNameOut(Schema):
    """An entry of a reference list (ethnicity, religion)."""

    code: str = Field(..., description="Code in the national reference list.")
    name: str = Field(..., description="Vietnamese name.")


class IdentityCardOut(Schema):
    """The person's current identity card."""

    number: str = Field(..., description="Card number (equal to the personal ID number).")
    card_type: str = Field(..., description="`cccd_chip` or `can_cuoc`.")
    issue_date: dt.date = Field(..., description="Date of issue.")
    expiry_date: dt.date | None = Field(None, description="Valid until; null when valid for life.")
    issuing_authority: str = Field(..., description="Issuing authority.")
    status: str = Field(..., description="`valid`, `expired`, `replaced`, `lost` or `revoked`.")


class PersonOut(Schema):
    """A person as recorded in the population registry."""

    id_number: str = Field(..., description=ID_NUMBER_DOC)
    full_name: str = Field(..., description="Family, middle and given names, with diacritics.")
    other_names: str = Field("", description="Other names the person is known by.")
    birth_date: dt.date = Field(
        ...,
        description=(
            "Date of birth. Read together with `birth_date_precision`: when it is `month` "
            "or `year` only those parts are known and the rest is filler (the 1st)."
        ),
    )
    birth_date_precision: Literal["day", "month", "year"] = Field(
        ..., description="How much of `birth_date` is known."
    )
    sex: Literal["M", "F"] = Field(..., description="`M` male, `F` female.")
    ethnicity: CodeNameOut = Field(..., description="Ethnic group (one of the 54).")
    religion: CodeNameOut | None = Field(None, description="Religion; code `00` = none.")
    nationality: str = Field(..., description="Nationality, ISO 3166-1 alpha-2 (`VN`).")
    vital_status: Literal["alive", "deceased", "missing"] = Field(..., description="Vital status.")
    death_date: dt.date | None = Field(None, description="Date of death, when deceased.")
    birth_registration_province: UnitOut = Field(
        ...,
        description=(
            "Province where the birth was registered (pre-2025 province; its ID code opens "
            "the personal ID number)."
        ),
    )
    home_town: UnitOut | None = Field(None, description="Home town (quê quán).")
    residence_commune: UnitOut | None = Field(
        None, description="Commune of permanent residence (current administrative units)."
    )
    residence_province: UnitOut | None = Field(
        None, description="Province of permanent residence (current administrative units)."
    )
    father_id_number: str | None = Field(None, description="Father's personal ID number.")
    mother_id_number: str | None = Field(None, description="Mother's personal ID number.")
    spouse_id_number: str | None = Field(None, description="Spouse's personal ID number.")
    identity_card: IdentityCardOut | None = Field(
        None, description="The current (valid) identity card, if any."
    )


class PersonSummaryOut(Schema):
    """A search result row."""

    id_number: str = Field(..., description=ID_NUMBER_DOC)
    full_name: str = Field(..., description="Full name with diacritics.")
    birth_date: dt.date = Field(..., description="Date of birth (see `birth_date_precision`).")
    birth_date_precision: Literal["day", "month", "year"] = Field(
        ..., description="How much of `birth_date` is known."
    )
    sex: Literal["M", "F"] = Field(..., description="`M` male, `F` female.")
    residence_commune: UnitOut | None = Field(None, description="Commune of permanent residence.")


class PersonSearchPageOut(Schema):
    """One page of search results (no total count: use `has_next`)."""

    items: list[PersonSummaryOut] = Field(..., description="Matching persons, by name.")
    page: int = Field(..., description="This page's number, from 1.")
    page_size: int = Field(..., description="Rows per page (at most 100).")
    has_next: bool = Field(..., description="Whether a next page exists.")
    next: str | None = Field(None, description="URL of the next page, if any.")
    previous: str | None = Field(None, description="URL of the previous page, if any.")


class PersonSearchParams(Schema):
    """Search by ID number (exact), name (ignores case and diacritics), or commune."""

    q: str = Field(
        "",
        max_length=100,
        description=(
            "A 12-digit ID number (exact match) or part of a name: `nguyen van an` finds "
            "`Nguyễn Văn An`. Required unless `commune` is given."
        ),
    )
    birth_year: int | None = Field(
        None, ge=1900, le=2400, description="Year of birth (ignored when `birth_date` is given)."
    )
    birth_date: dt.date | None = Field(None, description="Exact date of birth, `YYYY-MM-DD`.")
    commune: str = Field(
        "",
        max_length=10,
        description="Commune of permanent residence: 5-digit commune code (current units).",
    )
    page: int = Field(1, ge=1, le=10_000, description="Page number, from 1.")
    page_size: int = Field(25, ge=1, le=100, description="Rows per page, 1 to 100.")


class MemberOut(Schema):
    """A current member of a household."""

    id_number: str = Field(..., description=ID_NUMBER_DOC)
    full_name: str = Field(..., description="Full name with diacritics.")
    relationship: str = Field(
        ...,
        description=(
            "Relationship to the head of household: `head`, `spouse`, `child`, `parent`, "
            "`grandchild`, `grandparent`, `sibling`, `child_in_law`, `relative`, `other`."
        ),
    )
    relationship_label: str = Field(..., description="The relationship in Vietnamese.")
    birth_date: dt.date = Field(..., description="Date of birth.")
    birth_date_precision: Literal["day", "month", "year"] = Field(
        ..., description="How much of `birth_date` is known."
    )
    since: dt.date = Field(..., description="Member of the household since.")


class HouseholdOut(Schema):
    """The person's current household (hộ gia đình) and its current members."""

    code: str = Field(..., description="Household number (số hộ).")
    address: str = Field(..., description="The household's address as written.")
    commune: UnitOut = Field(..., description="The address's commune today.")
    province: UnitOut | None = Field(None, description="The address's province today.")
    members: list[MemberOut] = Field(..., description="Current members, oldest first.")


class ResidenceOut(Schema):
    """One period of residence."""

    kind: Literal["permanent", "temporary", "absence"] = Field(
        ...,
        description=("`permanent` (thường trú), `temporary` (tạm trú) or `absence` (tạm vắng)."),
    )
    address: str = Field(..., description="Address as written at registration.")
    commune: UnitOut = Field(..., description="The address's commune today.")
    province: UnitOut | None = Field(None, description="The address's province today.")
    start_date: dt.date = Field(..., description="Start of the period.")
    end_date: dt.date | None = Field(
        None, description="Planned end (temporary residence, absence); null if open-ended."
    )
    ended_on: dt.date | None = Field(
        None, description="Actual end when the residence ended (moved, deceased, cancelled)."
    )
    current: bool = Field(..., description="Whether the residence is in force today.")


class ResidenceHistoryOut(Schema):
    """A person's residences, newest first."""

    id_number: str = Field(..., description=ID_NUMBER_DOC)
    full_name: str = Field(..., description="Full name with diacritics.")
    residences: list[ResidenceOut] = Field(..., description="Residences, newest first.")


class PersonAsOfOut(Schema):
    """A person's recorded values at a past moment, rebuilt from the change history."""

    id_number: str = Field(..., description=ID_NUMBER_DOC)
    at: dt.datetime = Field(..., description="The moment asked for (ISO 8601).")
    values: dict[str, Any] = Field(
        ...,
        description=(
            "Identity fields as recorded then: names, birth date and precision, sex, "
            "ethnicity_id, religion_id, nationality, home_town_id, father_id, mother_id, "
            "spouse_id, vital_status, death_date, residence_commune_id, "
            "residence_province_id (dates as ISO strings, links as internal ids)."
        ),
    )
    residences: list[ResidenceOut] = Field(
        ..., description="Residences already registered at that moment, newest first."
    )


# --- builders -------------------------------------------------------------------------


def relative_numbers(person: Person) -> dict[int | None, str]:
    """ID numbers of the person's parents and spouse, in one query (none when unlinked)."""
    ids = [pk for pk in (person.father_id, person.mother_id, person.spouse_id) if pk]
    if not ids:
        return {}
    return dict(Person.objects.filter(pk__in=ids).values_list("pk", "id_number"))


def unit_out(unit: AdministrativeUnit | None) -> UnitOut | None:
    return UnitOut(code=unit.code, name=unit.name) if unit is not None else None


def _province_of(commune: AdministrativeUnit | None) -> AdministrativeUnit | None:
    return commune.parent if commune is not None else None


def person_out(person: Person, card: IdentityCard | None) -> PersonOut:
    # Units come from the per-process reference cache and relatives' numbers from one
    # query: the lookup is a hot path where each database round trip counts.
    commune = cached_unit(person.residence_commune_id)
    province = (commune.parent if commune is not None else None) or cached_unit(
        person.residence_province_id
    )
    birth_province = cached_unit(person.birth_registration_province_id)
    assert birth_province is not None  # noqa: S101 -- NOT NULL foreign key
    relatives = relative_numbers(person)
    return PersonOut(
        id_number=person.id_number,
        full_name=person.full_name,
        other_names=person.other_names,
        birth_date=person.birth_date,
        birth_date_precision=person.birth_date_precision,  # type: ignore[arg-type]  # DB choices match the Literal
        sex=person.sex,  # type: ignore[arg-type]  # DB choices match the Literal
        ethnicity=CodeNameOut(code=person.ethnicity.code, name=person.ethnicity.name),
        religion=(
            CodeNameOut(code=person.religion.code, name=person.religion.name)
            if person.religion is not None
            else None
        ),
        nationality=person.nationality,
        vital_status=person.vital_status,  # type: ignore[arg-type]  # DB choices match the Literal
        death_date=person.death_date,
        birth_registration_province=UnitOut(code=birth_province.code, name=birth_province.name),
        home_town=unit_out(cached_unit(person.home_town_id)),
        residence_commune=unit_out(commune),
        residence_province=unit_out(province),
        father_id_number=relatives.get(person.father_id),
        mother_id_number=relatives.get(person.mother_id),
        spouse_id_number=relatives.get(person.spouse_id),
        identity_card=(
            IdentityCardOut(
                number=card.number,
                card_type=card.card_type,
                issue_date=card.issue_date,
                expiry_date=card.expiry_date,
                issuing_authority=card.issuing_authority,
                status=card.status,
            )
            if card is not None
            else None
        ),
    )


def person_summary_out(person: Person) -> PersonSummaryOut:
    return PersonSummaryOut(
        id_number=person.id_number,
        full_name=person.full_name,
        birth_date=person.birth_date,
        birth_date_precision=person.birth_date_precision,  # type: ignore[arg-type]  # DB choices match the Literal
        sex=person.sex,  # type: ignore[arg-type]  # DB choices match the Literal
        residence_commune=unit_out(person.residence_commune),
    )


def household_out(household: Household, members: list[HouseholdMembership]) -> HouseholdOut:
    commune = household.commune
    return HouseholdOut(
        code=household.code,
        address=household.address.text,
        commune=UnitOut(code=commune.code, name=commune.name),
        province=unit_out(_province_of(commune)),
        members=[
            MemberOut(
                id_number=m.person.id_number,
                full_name=m.person.full_name,
                relationship=m.relationship,
                relationship_label=str(m.get_relationship_display()),
                birth_date=m.person.birth_date,
                birth_date_precision=m.person.birth_date_precision,  # type: ignore[arg-type]  # DB choices match the Literal
                since=m.since,
            )
            for m in members
        ],
    )


def residence_out(residence: Residence, today: dt.date) -> ResidenceOut:
    commune = residence.commune
    ended = residence.ended_on is not None and residence.ended_on <= today
    expired = residence.end_date is not None and residence.end_date < today
    return ResidenceOut(
        kind=residence.kind,  # type: ignore[arg-type]  # DB choices match the Literal
        address=residence.address.text,
        commune=UnitOut(code=commune.code, name=commune.name),
        province=unit_out(_province_of(commune)),
        start_date=residence.start_date,
        end_date=residence.end_date,
        ended_on=residence.ended_on,
        current=residence.start_date <= today and not ended and not expired,
    )

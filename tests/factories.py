"""Test data builders. They write straight to the database (test set-up is not a state
change under audit); tests of behaviour go through services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.core.text import fold
from congdan.geo.models import Address, AdministrativeUnit
from congdan.registry import idnumbers
from congdan.registry.models import (
    Ethnicity,
    Household,
    HouseholdMembership,
    IdentityCard,
    Person,
    Relationship,
    Residence,
    ResidenceKind,
)

_serial = itertools.count(1)
PASSWORD = "Mat-khau-thu-nghiem-2026"


def current_province(code: str = "48") -> AdministrativeUnit:
    return AdministrativeUnit.objects.get(scheme="2025", level="province", code=code)


def communes_of(province: AdministrativeUnit) -> list[AdministrativeUnit]:
    return list(province.children.filter(level="commune").order_by("code"))


def legacy_province(id_code: str = "048") -> AdministrativeUnit:
    return AdministrativeUnit.objects.get(scheme="legacy", level="province", id_code=id_code)


def make_agency(unit: AdministrativeUnit | None, *, kind: str = AgencyKind.POLICE) -> Agency:
    n = next(_serial)
    return Agency.objects.create(
        code=f"T{n:05d}", name=f"Công an thử nghiệm {n}", kind=kind, jurisdiction=unit
    )


def make_user(
    role: str = Role.OFFICER,
    *,
    unit: AdministrativeUnit | None = None,
    agency: Agency | None = None,
    username: str | None = None,
) -> User:
    if agency is None and role != Role.ADMIN:
        agency = make_agency(unit)
    n = next(_serial)
    return User.objects.create_user(
        username=username or f"user{n}",
        password=PASSWORD,
        role=role,
        agency=agency,
        first_name="Cán bộ",
        last_name=str(n),
        is_staff=role in (Role.ADMIN, Role.STEWARD, Role.DPO),
        is_superuser=role == Role.ADMIN,
    )


def make_address(commune: AdministrativeUnit, street: str = "Số 1 đường Thử") -> Address:
    return Address.objects.create(
        text=f"{street}, {commune.name}, {commune.parent}",
        street=street,
        commune=commune,
        province=commune.parent,
        current_commune=commune,
    )


def make_person(
    commune: AdministrativeUnit,
    *,
    full_name: str = "Nguyễn Văn An",
    birth_date: dt.date = dt.date(1990, 5, 17),
    sex: str = "M",
    household: Household | None = None,
    relationship: str = Relationship.HEAD,
    birth_id_code: str = "048",
    card: bool = True,
    **extra: Any,
) -> Person:
    serial = next(_serial)
    person = Person.objects.create(
        id_number=idnumbers.compose(birth_id_code, sex, birth_date.year, serial),
        full_name=full_name,
        birth_date=birth_date,
        sex=sex,
        ethnicity=Ethnicity.objects.get(code="01"),
        birth_registration_province=legacy_province(birth_id_code),
        residence_commune=commune,
        residence_province=commune.parent,
        **extra,
    )
    if household is None:
        household = Household.objects.create(
            code=f"H{serial:09d}", address=make_address(commune), commune=commune
        )
    HouseholdMembership.objects.create(
        household=household, person=person, relationship=relationship, since=birth_date
    )
    Residence.objects.create(
        person=person,
        kind=ResidenceKind.PERMANENT,
        address=household.address,
        commune=household.commune,
        household=household,
        start_date=birth_date,
    )
    if card:
        IdentityCard.objects.create(
            person=person,
            number=person.id_number,
            card_type="can_cuoc",
            issue_date=dt.date(2024, 8, 1),
            expiry_date=None,
            issuing_authority="Bộ Công an",
        )
    assert person.name_search == fold(full_name)
    return person


def household_of(person: Person) -> Household:
    return HouseholdMembership.objects.get(person=person, until__isnull=True).household

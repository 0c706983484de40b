"""Builders for the procedures tests: officers of each agency, parents with accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from congdan.core.models import AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.identity.models import EidAccount, EidLevel
from congdan.procedures.models import Dossier
from congdan.registry.models import Person
from tests import factories
from tests.identity.helpers import make_account

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "giay.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def officer(kind: str, unit: AdministrativeUnit, username: str | None = None) -> User:
    agency = factories.make_agency(unit, kind=kind)
    return factories.make_user(Role.OFFICER, agency=agency, username=username)


@dataclass
class Family:
    commune: AdministrativeUnit
    province: AdministrativeUnit
    father: Person
    mother: Person
    account: EidAccount  # the mother's
    justice: User
    police: User
    insurance: User
    other_justice: User  # a justice officer of another commune


@pytest.fixture
def family(world: object) -> Family:
    province = factories.current_province("48")
    commune = factories.communes_of(province)[0]
    father = factories.make_person(
        commune, full_name="Phạm Văn Hùng", birth_date=dt.date(1992, 3, 4)
    )
    household = factories.household_of(father)
    mother = factories.make_person(
        commune,
        full_name="Đỗ Thị Lan",
        sex="F",
        birth_date=dt.date(1994, 7, 9),
        household=household,
        relationship="spouse",
    )
    father.spouse = mother
    father.save()
    mother.spouse = father
    mother.save()
    return Family(
        commune=commune,
        province=province,
        father=father,
        mother=mother,
        account=make_account(mother, level=EidLevel.LEVEL2),
        justice=officer(AgencyKind.JUSTICE, commune, "tuphap"),
        police=officer(AgencyKind.POLICE, commune, "congan"),
        insurance=officer(AgencyKind.SOCIAL_INSURANCE, province, "bhxh"),
        other_justice=officer(AgencyKind.JUSTICE, factories.communes_of(province)[1]),
    )


def process_to_result(officer_user: User, code: str) -> Dossier:
    """Receive, pass every review step and approve, as the spec's steps require."""
    from congdan.procedures import services
    from congdan.procedures.specs import catalogue

    dossier = Dossier.objects.get(code=code)
    if dossier.status == "submitted":
        services.receive_dossier(officer_user, code=code)
    steps = catalogue().procedures[dossier.procedure_code].steps
    for _step in steps[1:-1]:
        services.complete_review(officer_user, code=code)
    return services.approve_dossier(officer_user, code=code)

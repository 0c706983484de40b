"""Wallet fixtures: a civil-status officer who issues, a family with e-ID accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.identity.models import EidAccount
from congdan.registry.models import Person
from congdan.wallet import services
from congdan.wallet.models import Document
from tests import factories
from tests.conftest import World
from tests.identity.helpers import make_account

FATHER_PHONE = "0912000001"
NEIGHBOUR_PHONE = "0912000002"


@dataclass
class Family:
    agency: Agency
    officer: User
    father: Person
    father_account: EidAccount
    mother: Person
    child: Person
    neighbour_account: EidAccount


@pytest.fixture
def family(world: World) -> Family:
    agency = factories.make_agency(world.commune, kind=AgencyKind.JUSTICE)
    mother = factories.make_person(
        world.commune, full_name="Phạm Thị Hoa", sex="F", birth_date=dt.date(1993, 8, 2)
    )
    child = factories.make_person(
        world.commune,
        full_name="Nguyễn Minh Khang",
        birth_date=timezone.localdate() - dt.timedelta(days=30),
        father=world.person,
        mother=mother,
        card=False,
    )
    return Family(
        agency=agency,
        officer=factories.make_user(Role.OFFICER, agency=agency, username="tuphap"),
        father=world.person,
        father_account=make_account(world.person, phone=FATHER_PHONE),
        mother=mother,
        child=child,
        neighbour_account=make_account(world.neighbour, phone=NEIGHBOUR_PHONE),
    )


def issue(family: Family, holder: Person | None = None, **changes: Any) -> Document:
    holder = holder or family.child
    arguments: dict[str, Any] = {
        "holder": holder,
        "doc_type": "birth_certificate",
        "title_vi": "Giấy khai sinh",
        "title_en": "Birth certificate",
        "issuer": family.agency,
        "data": {
            "full_name": holder.full_name,
            "id_number": holder.id_number,
            "birth_date": holder.birth_date,
            "father_name": family.father.full_name,
        },
        "source_ref": "HS-2026-000123",
    }
    arguments.update(changes)
    return services.issue_document(family.officer, **arguments)

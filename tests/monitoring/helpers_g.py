"""Fixtures of the task tracker, working group, paper count and reminder tests.

``build_world()`` — a province (48) with two communes and a far province: leaders of the province,
of a commune, of the other commune and of the far province; the commune police (an
agency) with an officer who has an e-mail, the commune's justice office with an officer,
and a far-province officer.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring.models import Level, ProgrammeTask, TaskStatus, WorkingGroup
from tests import factories

_serial = itertools.count(1)


@dataclass
class TaskWorld:
    province: AdministrativeUnit
    commune: AdministrativeUnit
    other_commune: AdministrativeUnit
    far_province: AdministrativeUnit
    far_commune: AdministrativeUnit
    province_leader: User
    commune_leader: User
    other_leader: User
    far_leader: User
    police: Agency
    justice: Agency
    province_agency: Agency
    other_agency: Agency
    officer: User  # of ``police`` (commune), with an e-mail
    justice_officer: User  # of ``justice`` (commune)
    other_officer: User  # of ``other_agency`` (other commune)
    province_officer: User  # of ``province_agency``
    nobody: User


def agency(
    unit: AdministrativeUnit | None, kind: str = AgencyKind.POLICE, code: str = ""
) -> Agency:
    n = next(_serial)
    return Agency.objects.create(
        code=code or f"G{n:05d}", name=f"Cơ quan G {n}", kind=kind, jurisdiction=unit
    )


def officer(a: Agency, *, email: str = "") -> User:
    user = factories.make_user(Role.OFFICER, agency=a)
    if email:
        user.email = email
        user.save(update_fields=["email"])
    return user


def build_world() -> TaskWorld:
    """The world of the module docstring (call from a ``db`` fixture)."""
    province = factories.current_province("48")
    commune, other_commune = factories.communes_of(province)[:2]
    far_province = factories.current_province("01")
    far_commune = factories.communes_of(far_province)[0]
    police = agency(commune, code="CA-XA-G")
    justice = agency(commune, AgencyKind.JUSTICE, code="TP-XA-G")
    province_agency = agency(province, AgencyKind.PEOPLES_COMMITTEE, code="UBND-TINH-G")
    other_agency = agency(other_commune, code="CA-XA2-G")
    return TaskWorld(
        province=province,
        commune=commune,
        other_commune=other_commune,
        far_province=far_province,
        far_commune=far_commune,
        province_leader=factories.make_user(Role.LEADER, unit=province, username="ld_tinh"),
        commune_leader=factories.make_user(Role.LEADER, unit=commune, username="ld_xa"),
        other_leader=factories.make_user(Role.LEADER, unit=other_commune, username="ld_xa2"),
        far_leader=factories.make_user(Role.LEADER, unit=far_province, username="ld_xa_xa"),
        police=police,
        justice=justice,
        province_agency=province_agency,
        other_agency=other_agency,
        officer=officer(police, email="canbo@example.vn"),
        justice_officer=officer(justice),
        other_officer=officer(other_agency),
        province_officer=officer(province_agency),
        nobody=factories.make_user(Role.NONE, unit=commune),
    )


def make_task(
    owner: Agency,
    unit: AdministrativeUnit,
    *,
    deadline: dt.date | None = None,
    status: str = TaskStatus.NOT_STARTED,
    group: WorkingGroup | None = None,
    **fields: Any,
) -> ProgrammeTask:
    n = next(_serial)
    level = Level.PROVINCE if unit.level == "province" else Level.COMMUNE
    return ProgrammeTask.objects.create(
        code=fields.pop("code", f"NV-{n:04d}"),
        title=fields.pop("title", f"Nhiệm vụ thử {n}"),
        owner_agency=owner,
        level=fields.pop("level", level),
        unit=unit,
        deadline=deadline,
        status=status,
        group=group,
        **fields,
    )


def make_group(unit: AdministrativeUnit, *, name: str = "", level: str = "") -> WorkingGroup:
    n = next(_serial)
    return WorkingGroup.objects.create(
        name=name or f"Tổ công tác {n}",
        level=level or (Level.PROVINCE if unit.level == "province" else Level.COMMUNE),
        unit=unit,
    )

"""The monitoring admin: targets and weights changed through the services (audited, a
refusal shown on the form, never a 500), removal by an audited action, the facts and the
task tracker read-only, and who gets in at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from congdan.audit.models import ChangeRecord
from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.monitoring.models import DossierFact, IndexWeight, ProgrammeTask, Target
from congdan.monitoring.services import targets as svc
from tests import factories

THIS_YEAR = timezone.localdate().year
TARGETS = "/admin/monitoring/target/"
WEIGHTS = "/admin/monitoring/indexweight/"
FACTS = "/admin/monitoring/dossierfact/"


@pytest.fixture
def admin_user(db: None) -> User:
    Target.objects.all().delete()
    return factories.make_user(Role.ADMIN, username="quantri")


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_adds_changes_and_removes_a_target_audited(admin_user: User) -> None:
    province = factories.current_province("48")
    client = as_user(admin_user)
    assert client.get(TARGETS).status_code == 200
    assert client.get(f"{TARGETS}add/").status_code == 200
    response = client.post(
        f"{TARGETS}add/",
        {
            "kpi": "online_dossier_rate",
            "unit": province.pk,
            "year": THIS_YEAR,
            "value": "45",
            "amber_margin": "10",
            "note": "KH 06/UBND",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    target = Target.objects.get(kpi="online_dossier_rate", unit=province, year=THIS_YEAR)
    assert target.value == Decimal(45)
    record = ChangeRecord.objects.get(action="set_target", object_id=target.pk)
    assert record.actor_label == "quantri"

    assert client.get(f"{TARGETS}{target.pk}/change/").status_code == 200
    response = client.post(
        f"{TARGETS}{target.pk}/change/", {"value": "50", "amber_margin": "5", "note": "KH 07"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    target.refresh_from_db()
    assert (target.value, target.amber_margin, target.note) == (Decimal(50), Decimal(5), "KH 07")
    latest = ChangeRecord.objects.filter(action="set_target").latest("id")
    assert latest.changes["value"] == ["45.00", "50.00"]

    response = client.post(TARGETS, {"action": "remove_selected", "_selected_action": [target.pk]})
    assert response.status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()
    assert ChangeRecord.objects.filter(action="remove_target", object_id=target.pk).exists()
    # Django's own delete view stays closed.
    other = svc.set_target(admin_user, kpi="on_time_rate", unit=None, year=THIS_YEAR, value=90)
    assert client.post(f"{TARGETS}{other.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Target.objects.filter(pk=other.pk).exists()


def test_admin_refusal_is_a_form_error(admin_user: User) -> None:
    client = as_user(admin_user)
    response = client.post(
        f"{TARGETS}add/",
        {
            "kpi": "online_dossier_rate",
            "unit": "",
            "year": THIS_YEAR + 9,
            "value": "40",
            "amber_margin": "10",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "Năm phải từ" in response.content.decode()
    response = client.post(
        f"{TARGETS}add/",
        {
            "kpi": "online_dossier_rate",
            "unit": "",
            "year": THIS_YEAR,
            "value": "140",
            "amber_margin": "10",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "từ 0 đến 100" in response.content.decode()
    # A unit of the former (legacy) scheme is not a place targets are set for.
    legacy = factories.legacy_province("048")
    response = client.post(
        f"{TARGETS}add/",
        {
            "kpi": "online_dossier_rate",
            "unit": legacy.pk,
            "year": THIS_YEAR,
            "value": "40",
            "amber_margin": "10",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "Không tìm thấy địa bàn" in response.content.decode()
    assert not Target.objects.exists()
    assert not ChangeRecord.objects.filter(action="set_target").exists()


def test_admin_changes_a_weight_audited(admin_user: User) -> None:
    client = as_user(admin_user)
    weight = IndexWeight.objects.get(group="online")
    assert client.get(WEIGHTS).status_code == 200
    assert client.get(f"{WEIGHTS}{weight.pk}/change/").status_code == 200
    response = client.post(f"{WEIGHTS}{weight.pk}/change/", {"weight": "101"})
    assert response.status_code == 200  # the form again, with the error
    response = client.post(f"{WEIGHTS}{weight.pk}/change/", {"weight": "25"})
    assert response.status_code == 302, response.content.decode()[:3000]
    weight.refresh_from_db()
    assert weight.weight == Decimal(25)
    record = ChangeRecord.objects.get(action="set_index_weight", object_id=weight.pk)
    assert record.changes == {"weight": ["22.00", "25.00"]}


def test_facts_and_tasks_are_read_only(admin_user: User) -> None:
    province = factories.current_province("48")
    commune = factories.communes_of(province)[0]
    agency = factories.make_agency(commune)
    fact = DossierFact.objects.create(
        day=dt.date(THIS_YEAR, 1, 2),
        province=province,
        commune=commune,
        agency=agency,
        procedure_code="birth_registration",
        received=5,
    )
    task = ProgrammeTask.objects.create(
        code="NV-01", title="Nhiệm vụ thử", owner_agency=agency, level="commune", unit=commune
    )
    client = as_user(admin_user)
    for url in [
        FACTS,
        "/admin/monitoring/populationfact/",
        "/admin/monitoring/lookupfact/",
        "/admin/monitoring/refreshedday/",
        "/admin/monitoring/workinggroup/",
        "/admin/monitoring/programmetask/",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.get(f"{FACTS}{fact.pk}/change/").status_code == 200  # view only
    assert client.post(f"{FACTS}{fact.pk}/change/", {"received": 9}).status_code == 403
    assert client.get(f"{FACTS}add/").status_code == 403
    assert client.post(f"{FACTS}{fact.pk}/delete/", {"post": "yes"}).status_code == 403
    fact.refresh_from_db()
    assert fact.received == 5
    task_url = f"/admin/monitoring/programmetask/{task.pk}/change/"
    assert client.post(task_url, {"title": "Đổi"}).status_code == 403
    task.refresh_from_db()
    assert task.title == "Nhiệm vụ thử"


def test_who_gets_in(db: None) -> None:
    province = factories.current_province("48")
    steward = factories.make_user(Role.STEWARD, unit=province)
    client = as_user(steward)
    # A steward enters the admin but holds neither TARGET_MANAGE nor MONITORING_VIEW.
    assert client.get(TARGETS).status_code == 403
    assert client.get(WEIGHTS).status_code == 403
    assert client.get(FACTS).status_code == 403
    assert client.get("/admin/monitoring/programmetask/").status_code == 403
    # A leader holds the permissions but not the admin site (even if made staff).
    agency = Agency.objects.create(
        code="LD-48", name="UBND", kind=AgencyKind.PEOPLES_COMMITTEE, jurisdiction=province
    )
    leader = factories.make_user(Role.LEADER, agency=agency)
    assert as_user(leader).get(TARGETS).status_code == 302  # to the admin login
    leader.is_staff = True
    leader.save(update_fields=["is_staff"])
    assert as_user(leader).get(TARGETS).status_code == 302
    officer = factories.make_user(Role.OFFICER, unit=factories.communes_of(province)[0])
    assert as_user(officer).get(FACTS).status_code == 302
    assert Client().get(TARGETS).status_code == 302


def test_fact_rows_scoped_as_on_the_dashboards(db: None) -> None:
    """Defence in depth (only national admins enter the admin today): a province's
    facts include those recorded at province level without a commune; a commune's are
    its own; lookups are for national users only."""
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from congdan.monitoring.models import LookupFact

    province = factories.current_province("48")
    commune = factories.communes_of(province)[0]
    far = factories.current_province("01")
    day = dt.date(THIS_YEAR, 1, 5)
    for prov, comm, code in ((province, None, "p"), (province, commune, "c"), (far, None, "f")):
        DossierFact.objects.create(day=day, province=prov, commune=comm, procedure_code=code)
    facts_admin = site._registry[DossierFact]
    lookups_admin = site._registry[LookupFact]

    def seen(user: User) -> set[str]:
        request = RequestFactory().get(FACTS)
        request.user = user
        return set(facts_admin.get_queryset(request).values_list("procedure_code", flat=True))

    def agency_of(unit: object) -> Agency:
        return Agency.objects.create(
            code=f"LD-{unit.pk}",  # type: ignore[attr-defined]  # an AdministrativeUnit
            name="UBND",
            kind=AgencyKind.PEOPLES_COMMITTEE,
            jurisdiction=unit,
        )

    province_leader = factories.make_user(Role.LEADER, agency=agency_of(province))
    commune_leader = factories.make_user(Role.LEADER, agency=agency_of(commune))
    assert seen(province_leader) == {"p", "c"}
    assert seen(commune_leader) == {"c"}
    assert seen(factories.make_user(Role.ADMIN)) == {"p", "c", "f"}
    request = RequestFactory().get("/admin/monitoring/lookupfact/")
    request.user = province_leader
    assert not lookups_admin.has_view_permission(request)


def test_unique_keys_hold_with_null_units(db: None) -> None:
    """NULL unit/commune/agency counts as one value, on SQLite as on PostgreSQL."""
    from django.db import IntegrityError, transaction

    from congdan.monitoring.models import PopulationFact

    day = dt.date(THIS_YEAR, 2, 1)
    rows = (
        lambda: Target.objects.create(kpi="overdue_count", unit=None, year=2031, value=1),
        lambda: DossierFact.objects.create(day=day, procedure_code="birth_registration"),
        lambda: PopulationFact.objects.create(day=day),
    )
    for make in rows:
        make()
        with pytest.raises(IntegrityError), transaction.atomic():
            make()

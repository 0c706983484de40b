"""The Django admin for stewards: entry, access log, corrections through the service,
read-only fields, jurisdiction, nothing deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.core.errors import ValidationFailed
from congdan.core.models import User
from congdan.core.permissions import Role
from congdan.registry.models import (
    CivilEvent,
    CivilEventKind,
    Ethnicity,
    Household,
    IdentityCard,
    Person,
    Religion,
    Residence,
)
from tests import factories
from tests.conftest import World

PERSON_LIST = "/admin/registry/person/"


def change_url(person: Person) -> str:
    return f"/admin/registry/person/{person.pk}/change/"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def correction(person: Person, **overrides: str) -> dict[str, str]:
    data = {
        "full_name": person.full_name,
        "other_names": person.other_names,
        "ethnicity": str(person.ethnicity_id),
        "religion": str(person.religion_id or ""),
        "nationality": person.nationality,
        "home_town": str(person.home_town_id or ""),
        "reason": "",
        "legal_basis": "",
        "document_ref": "",
    }
    data.update(overrides)
    return data


# --- entry ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["commune_officer", "province_officer", "nobody"])
def test_officers_cannot_enter(world: World, who: str) -> None:
    client = logged_in(getattr(world, who))
    for url in ("/admin/", PERSON_LIST, change_url(world.person), "/admin/audit/accesslogentry/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    assert not AccessLogEntry.objects.exists()


def test_officer_made_staff_still_cannot_enter(world: World) -> None:
    User.objects.filter(pk=world.commune_officer.pk).update(is_staff=True)
    response = logged_in(world.commune_officer).get("/admin/")
    assert response.status_code == 302


def test_officer_cannot_log_in_through_admin_form(world: World) -> None:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "cax", "password": factories.PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 200  # the form again, with an error
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["steward", "admin"])
def test_stewards_and_admins_enter(world: World, who: str) -> None:
    client = logged_in(getattr(world, who))
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/registry/person/" in index.content


def test_anonymous_redirected_to_login(db: None) -> None:
    response = Client().get(PERSON_LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- reading persons and the access log -----------------------------------------------


def test_steward_opens_a_person_and_the_read_is_logged(world: World) -> None:
    response = logged_in(world.steward).get(change_url(world.person))
    assert response.status_code == 200
    assert "Nguyễn Văn An" in response.content.decode()
    entry = AccessLogEntry.objects.get()
    assert entry.person_id == world.person.pk
    assert entry.actor_id == world.steward.pk
    assert entry.channel == "admin"
    assert entry.view == "admin_person"
    assert entry.purpose == "data_stewardship"
    assert "full_name" in entry.fields
    assert "reason" not in entry.fields.split(",")


def test_changelist_logs_the_rows_shown_in_one_insert(world: World) -> None:
    client = logged_in(world.steward)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PERSON_LIST)
    assert response.status_code == 200
    inserts = [
        q
        for q in queries.captured_queries
        if "INSERT" in q["sql"] and "audit_accesslogentry" in q["sql"]
    ]
    assert len(inserts) == 1
    logged = set(AccessLogEntry.objects.values_list("person_id", flat=True))
    assert logged == {world.person.pk, world.neighbour.pk, world.far_person.pk}
    assert set(AccessLogEntry.objects.values_list("view", flat=True)) == {"admin_person_list"}


def test_changelist_search_by_folded_name_and_id_number(world: World) -> None:
    client = logged_in(world.steward)
    by_name = client.get(PERSON_LIST, {"q": "nguyen van an"})
    assert world.person.id_number.encode() in by_name.content
    assert world.neighbour.id_number.encode() not in by_name.content
    by_diacritics = client.get(PERSON_LIST, {"q": "TRẦN thị"})
    assert world.neighbour.id_number.encode() in by_diacritics.content
    assert world.person.id_number.encode() not in by_diacritics.content
    by_number = client.get(PERSON_LIST, {"q": world.far_person.id_number})
    assert world.far_person.id_number.encode() in by_number.content
    assert world.person.id_number.encode() not in by_number.content


def test_steward_with_jurisdiction_sees_only_it(world: World) -> None:
    local = factories.make_user(Role.STEWARD, unit=world.commune)
    User.objects.filter(pk=local.pk).update(is_staff=True)
    client = logged_in(local)
    listing = client.get(PERSON_LIST)
    assert world.person.id_number.encode() in listing.content
    assert world.far_person.id_number.encode() not in listing.content
    outside = client.get(change_url(world.far_person))
    assert outside.status_code == 302  # "does not exist": same as a missing one
    assert not AccessLogEntry.objects.filter(person=world.far_person).exists()
    post = client.post(
        change_url(world.far_person), correction(world.far_person, full_name="X", reason="r")
    )
    assert post.status_code in (302, 403)
    world.far_person.refresh_from_db()
    assert world.far_person.full_name == "Lê Văn Cường"


def test_household_page_logs_its_members(world: World) -> None:
    household = factories.household_of(world.person)
    response = logged_in(world.steward).get(f"/admin/registry/household/{household.pk}/change/")
    assert response.status_code == 200
    assert world.person.id_number.encode() in response.content or b"Nguy" in response.content
    entry = AccessLogEntry.objects.get()
    assert (entry.person_id, entry.view) == (world.person.pk, "admin_household")


@pytest.mark.parametrize(
    ("url", "view"),
    [
        ("/admin/registry/residence/", "admin_residence_list"),
        ("/admin/registry/identitycard/", "admin_identity_card_list"),
    ],
)
def test_related_lists_are_logged(world: World, url: str, view: str) -> None:
    response = logged_in(world.steward).get(url)
    assert response.status_code == 200
    assert set(AccessLogEntry.objects.values_list("view", flat=True)) == {view}
    assert AccessLogEntry.objects.filter(person=world.person).exists()


# --- correcting -----------------------------------------------------------------------


def test_correcting_full_name_goes_through_the_service(world: World) -> None:
    person = world.person
    response = logged_in(world.steward).post(
        change_url(person),
        correction(
            person,
            full_name="Nguyễn Văn Ân",
            reason="Sai dấu khi nhập liệu",
            legal_basis="Luật Hộ tịch 2014, Điều 26",
            document_ref="QĐ 12/2026",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person.refresh_from_db()
    assert person.full_name == "Nguyễn Văn Ân"
    assert person.name_search == "nguyen van an"
    record = ChangeRecord.objects.get(action="correct_person")
    assert record.person_id == person.pk
    assert record.actor_id == world.steward.pk
    assert record.changes == {"full_name": ["Nguyễn Văn An", "Nguyễn Văn Ân"]}
    assert record.reason == "Sai dấu khi nhập liệu"
    assert record.legal_basis == "Luật Hộ tịch 2014, Điều 26"
    event = CivilEvent.objects.get(person=person)
    assert event.kind == CivilEventKind.NAME_CHANGE
    assert event.document_ref == "QĐ 12/2026"


def test_correcting_ethnicity_and_religion(world: World) -> None:
    person = world.person
    tay = Ethnicity.objects.exclude(code="01").first()
    religion = Religion.objects.exclude(code="00").first()
    assert tay is not None
    assert religion is not None
    response = logged_in(world.steward).post(
        change_url(person),
        correction(person, ethnicity=str(tay.pk), religion=str(religion.pk), reason="Theo hồ sơ"),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.ethnicity_id, person.religion_id) == (tay.pk, religion.pk)
    record = ChangeRecord.objects.get(action="correct_person")
    assert set(record.changes) == {"ethnicity_id", "religion_id"}
    assert CivilEvent.objects.get(person=person).kind == CivilEventKind.CORRECTION


def test_reason_is_required(world: World) -> None:
    response = logged_in(world.steward).post(
        change_url(world.person), correction(world.person, full_name="Tên Khác")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"]
    world.person.refresh_from_db()
    assert world.person.full_name == "Nguyễn Văn An"
    assert not ChangeRecord.objects.exists()


def test_service_error_becomes_a_form_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from congdan.registry import admin as registry_admin

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValidationFailed("Họ tên không hợp lệ.", code="invalid", field="full_name")

    monkeypatch.setattr(registry_admin.services, "correct_person", refuse)
    response = logged_in(world.steward).post(
        change_url(world.person), correction(world.person, full_name="Tên Khác", reason="r")
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["full_name"] == ["Họ tên không hợp lệ."]
    assert form.data["full_name"] == "Tên Khác"  # the steward's input is kept
    world.person.refresh_from_db()
    assert world.person.full_name == "Nguyễn Văn An"


def test_non_correctable_fields_are_read_only(world: World) -> None:
    client = logged_in(world.steward)
    page = client.get(change_url(world.person))
    form = page.context["adminform"].form
    assert set(form.fields) == {
        "full_name",
        "other_names",
        "ethnicity",
        "religion",
        "nationality",
        "home_town",
        "reason",
        "legal_basis",
        "document_ref",
    }
    html = page.content.decode()
    assert 'name="full_name"' in html
    for name in ("id_number", "birth_date", "sex", "vital_status", "residence_commune"):
        assert f'name="{name}"' not in html
    # Posting them anyway changes nothing.
    response = client.post(
        change_url(world.person),
        correction(
            world.person,
            reason="thử",
            birth_date="1950-01-01",
            id_number="001090000001",
            vital_status="deceased",
        ),
    )
    assert response.status_code == 302
    world.person.refresh_from_db()
    assert world.person.birth_date == dt.date(1990, 5, 17)
    assert world.person.vital_status == "alive"
    assert not ChangeRecord.objects.exists()  # nothing correctable changed


def test_admin_role_may_correct_too(world: World) -> None:
    page = logged_in(world.admin).get(change_url(world.person))
    assert "reason" in page.context["adminform"].form.fields


def test_nationality_validated(world: World) -> None:
    response = logged_in(world.steward).post(
        change_url(world.person), correction(world.person, nationality="1!", reason="r")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["nationality"]


# --- nothing added or deleted ---------------------------------------------------------


@pytest.mark.parametrize(
    "model", [Person, Household, Residence, IdentityCard, CivilEvent, Ethnicity, Religion]
)
def test_registry_models_cannot_be_deleted_or_added(world: World, model: type) -> None:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = world.admin
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_delete_permission(request, None) is False
    assert model_admin.has_add_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)


def test_delete_and_add_urls_refused(world: World) -> None:
    client = logged_in(world.admin)
    assert client.get(f"/admin/registry/person/{world.person.pk}/delete/").status_code == 403
    assert (
        client.post(
            f"/admin/registry/person/{world.person.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get("/admin/registry/person/add/").status_code == 403
    response = client.post(
        PERSON_LIST, {"action": "delete_selected", "_selected_action": [str(world.person.pk)]}
    )
    assert Person.objects.filter(pk=world.person.pk).exists()
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/registry/household/",
        "/admin/registry/residence/",
        "/admin/registry/identitycard/",
        "/admin/registry/civilevent/",
        "/admin/registry/ethnicity/",
        "/admin/registry/religion/",
    ],
)
def test_read_only_lists_open(world: World, url: str) -> None:
    response = logged_in(world.steward).get(url)
    assert response.status_code == 200


def test_household_page_is_read_only(world: World) -> None:
    household = factories.household_of(world.person)
    client = logged_in(world.steward)
    url = f"/admin/registry/household/{household.pk}/change/"
    assert client.post(url, {"code": "HACKED"}).status_code == 403
    household.refresh_from_db()
    assert household.code != "HACKED"


def test_every_admin_page_of_ours_opens_for_an_admin(world: World) -> None:
    client = logged_in(world.admin)
    client.get(change_url(world.person))  # leaves an access-log entry to list
    ours = [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"core", "registry", "audit"}
    ]
    assert len(ours) >= 12
    for model in ours:
        opts = model._meta
        listing = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert listing.status_code == 200, opts.label
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            page = client.get(f"/admin/{opts.app_label}/{opts.model_name}/{first.pk}/change/")
            assert page.status_code == 200, opts.label
    assert client.get("/admin/core/user/add/").status_code == 200
    assert client.get("/admin/core/apitoken/add/").status_code == 200

"""The access log is append-only: in the model, in the database (trigger), in the admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from congdan.audit.models import AccessLogEntry, AppendOnlyError, ChangeRecord, Channel
from congdan.audit.services import log_access, record_change
from congdan.core.models import User
from tests.conftest import World


@pytest.fixture
def entry(world: World) -> AccessLogEntry:
    log_access(
        world.commune_officer,
        person_ids=[world.person.pk],
        channel=Channel.API,
        view="api_person",
        fields=["full_name"],
        purpose="official_duty",
    )
    return AccessLogEntry.objects.get()


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the model ------------------------------------------------------------------------


def test_model_refuses_update(entry: AccessLogEntry) -> None:
    entry.purpose = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    entry.refresh_from_db()
    assert entry.purpose == "official_duty"


def test_model_refuses_delete(entry: AccessLogEntry) -> None:
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_change_record_refuses_update(world: World) -> None:
    record = record_change(
        world.steward,
        action="test",
        obj=world.person,
        changes={"a": [1, 2]},
        person_id=world.person.pk,
    )
    record.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        record.save()


# --- the database ---------------------------------------------------------------------


def test_database_refuses_queryset_update(entry: AccessLogEntry) -> None:
    """Bypasses the model; the trigger (PostgreSQL and SQLite) still refuses."""
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(purpose="changed")
    entry.refresh_from_db()
    assert entry.purpose == "official_duty"


def test_database_refuses_raw_update(entry: AccessLogEntry) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_accesslogentry SET purpose = %s WHERE id = %s", ["changed", entry.pk]
        )
    entry.refresh_from_db()
    assert entry.purpose == "official_duty"


def test_database_refuses_raw_delete(entry: AccessLogEntry) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no DELETE trigger (Django's test flush deletes rows)")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_accesslogentry WHERE id = %s", [entry.pk])
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_queryset_delete(entry: AccessLogEntry) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no DELETE trigger (Django's test flush deletes rows)")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_inserts_still_work_after_a_refusal(entry: AccessLogEntry, world: World) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.update(purpose="x")
    log_access(
        world.steward,
        person_ids=[world.person.pk, world.neighbour.pk],
        channel=Channel.ADMIN,
        view="v",
        fields=[],
        purpose="p",
    )
    assert AccessLogEntry.objects.count() == 3


# --- the admin ------------------------------------------------------------------------


@pytest.mark.parametrize("model", [AccessLogEntry, ChangeRecord])
def test_admin_is_read_only(world: World, model: type) -> None:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = world.admin
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_admin_lists_and_searches_the_log(entry: AccessLogEntry, world: World) -> None:
    log_access(
        world.steward,
        person_ids=[world.neighbour.pk],
        channel=Channel.ADMIN,
        view="admin_person",
        fields=[],
        purpose="data_stewardship",
    )
    client = logged_in(world.admin)
    url = "/admin/audit/accesslogentry/"
    listing = client.get(url)
    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 2
    by_person = client.get(url, {"q": world.person.id_number})
    assert [e.pk for e in by_person.context["cl"].result_list] == [entry.pk]
    by_actor = client.get(url, {"q": "steward"})
    assert [e.person_id for e in by_actor.context["cl"].result_list] == [world.neighbour.pk]
    by_channel = client.get(url, {"channel__exact": "api"})
    assert [e.pk for e in by_channel.context["cl"].result_list] == [entry.pk]
    detail = client.get(f"{url}{entry.pk}/change/")
    assert detail.status_code == 200
    assert client.post(f"{url}{entry.pk}/change/", {"purpose": "x"}).status_code == 403
    assert client.post(f"{url}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.purpose == "official_duty"


def test_steward_cannot_read_the_access_log(entry: AccessLogEntry, world: World) -> None:
    response = logged_in(world.steward).get("/admin/audit/accesslogentry/")
    assert response.status_code == 403


def test_reading_a_change_record_is_logged(world: World) -> None:
    record = record_change(
        world.steward,
        action="correct_person",
        obj=world.person,
        person_id=world.person.pk,
        changes={"full_name": ["A", "B"]},
        reason="r",
    )
    client = logged_in(world.steward)
    assert client.get("/admin/audit/changerecord/").status_code == 200
    assert not AccessLogEntry.objects.exists()
    response = client.get(f"/admin/audit/changerecord/{record.pk}/change/")
    assert response.status_code == 200
    assert "full_name" in response.content.decode()
    entry = AccessLogEntry.objects.get()
    assert (entry.person_id, entry.view, entry.channel) == (
        world.person.pk,
        "admin_change_record",
        "admin",
    )

"""The admin shows units and addresses read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client: Client) -> Client:
    client.force_login(factories.make_user(Role.ADMIN, username="geo-admin"))
    return client


def test_unit_changelist_searches_without_diacritics(admin_client_: Client) -> None:
    response = admin_client_.get(
        "/admin/geo/administrativeunit/", {"q": "hai chau", "scheme__exact": "2025"}
    )
    assert response.status_code == 200
    assert "Phường Hải Châu" in response.content.decode()
    assert "Phường Phước Ninh" not in response.content.decode()


def test_unit_changelist_search_is_case_and_accent_insensitive(admin_client_: Client) -> None:
    # SQLite's LIKE folds ASCII only: "phước ninh" would miss "Phường Phước Ninh" by name.
    response = admin_client_.get(
        "/admin/geo/administrativeunit/", {"q": "phước ninh", "scheme__exact": "legacy"}
    )
    assert response.status_code == 200
    assert "Phường Phước Ninh" in response.content.decode()


def test_unit_changelist_filters(admin_client_: Client) -> None:
    response = admin_client_.get(
        "/admin/geo/administrativeunit/", {"scheme__exact": "legacy", "level__exact": "province"}
    )
    assert response.status_code == 200
    assert "Tỉnh Quảng Nam" in response.content.decode()


def test_units_and_addresses_are_read_only(admin_client_: Client) -> None:
    unit = AdministrativeUnit.objects.get(scheme="2025", level="commune", code="20242")
    assert admin_client_.get("/admin/geo/administrativeunit/add/").status_code == 403
    assert admin_client_.get("/admin/geo/address/add/").status_code == 403
    detail = admin_client_.get(f"/admin/geo/administrativeunit/{unit.pk}/change/")
    assert detail.status_code == 200  # view permission only
    assert 'name="_save"' not in detail.content.decode()
    delete = admin_client_.post(f"/admin/geo/administrativeunit/{unit.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert AdministrativeUnit.objects.filter(pk=unit.pk).exists()


def test_admin_needs_staff(client: Client) -> None:
    client.force_login(factories.make_user(Role.OFFICER, username="geo-officer"))
    response = client.get("/admin/geo/administrativeunit/")
    assert response.status_code == 302

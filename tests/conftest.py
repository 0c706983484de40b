"""Shared fixtures: a province with two communes, officers of each kind, persons."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest

from congdan.core.models import User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.registry.models import Person
from tests import factories


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Argon2id with OWASP parameters costs ~50 ms per user made; the suite makes
    # hundreds. tests/core/test_hashers.py checks the production hasher itself.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "congdan.core.hashers.ClientSecretHasher",  # OAuth client secrets, as in production
    ]


def pytest_report_header() -> str:
    from django.db import connection

    return f"database: {connection.vendor} ({os.environ.get('CONGDAN_DATABASE_URL') or 'sqlite'})"


REGISTRY_REFERENCE_MIGRATION = "congdan.registry.migrations.0002_reference_data_and_search"


def ensure_reference_data() -> None:
    """Reload what data migrations put in (units, ethnic groups, religions) when a
    transactional test's flush removed it. One cheap query when nothing is missing."""
    import importlib

    from django.apps import apps as django_apps
    from django.db import transaction

    from congdan.geo.loader import load_units
    from congdan.registry.models import Ethnicity

    if not AdministrativeUnit.objects.exists():
        with transaction.atomic():
            load_units(AdministrativeUnit)
    if not Ethnicity.objects.exists():
        migration = importlib.import_module(REGISTRY_REFERENCE_MIGRATION)
        migration.load_reference_data(django_apps, None)


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in Vietnamese: a request the test client made in English (a
    language cookie) leaves the language active in the thread for the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: throttle counters (login, verification) and
    cached values of one test must not reach the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in names or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    elif marker is None:
        return
    ensure_reference_data()


@dataclass
class World:
    """Two provinces; in the home province two communes. One person lives in each."""

    province: AdministrativeUnit
    commune: AdministrativeUnit
    other_commune: AdministrativeUnit
    other_province: AdministrativeUnit
    far_commune: AdministrativeUnit
    commune_officer: User
    province_officer: User
    other_commune_officer: User
    steward: User
    admin: User
    nobody: User
    person: Person
    neighbour: Person
    far_person: Person


@pytest.fixture
def world(db: None) -> World:
    province = factories.current_province("48")
    communes = factories.communes_of(province)
    other_province = factories.current_province("01")
    far_commune = factories.communes_of(other_province)[0]
    commune, other_commune = communes[0], communes[1]
    return World(
        province=province,
        commune=commune,
        other_commune=other_commune,
        other_province=other_province,
        far_commune=far_commune,
        commune_officer=factories.make_user(Role.OFFICER, unit=commune, username="cax"),
        province_officer=factories.make_user(Role.OFFICER, unit=province, username="catinh"),
        other_commune_officer=factories.make_user(Role.OFFICER, unit=other_commune),
        steward=factories.make_user(Role.STEWARD, unit=None, username="steward"),
        admin=factories.make_user(Role.ADMIN, username="admin"),
        nobody=factories.make_user(Role.NONE, unit=commune),
        person=factories.make_person(commune, full_name="Nguyễn Văn An"),
        neighbour=factories.make_person(
            other_commune, full_name="Trần Thị Bình", sex="F", birth_date=dt.date(1985, 2, 3)
        ),
        far_person=factories.make_person(
            far_commune, full_name="Lê Văn Cường", birth_id_code="001"
        ),
    )

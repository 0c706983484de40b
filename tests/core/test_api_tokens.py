"""API tokens: the command, hashing, expiry/revocation, last_used_at, issuing rights,
and that keys never reach the logs."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from congdan.audit.models import ChangeRecord
from congdan.core import api_auth
from congdan.core.errors import PermissionDenied, ValidationFailed
from congdan.core.models import ApiToken, User
from congdan.core.permissions import Role
from tests import factories
from tests.conftest import World

PERSON_URL = "/api/v1/registry/persons/{}"


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def read_person(world: World, key: str) -> Any:
    return Client().get(
        PERSON_URL.format(world.person.id_number), HTTP_AUTHORIZATION=f"Bearer {key}"
    )


# --- the command ----------------------------------------------------------------------


def test_command_prints_the_key_once_and_stores_only_its_hash(world: World) -> None:
    key, err = run_command("cax", "--name", "Hệ thống một cửa")
    assert key.startswith("cd_")
    assert "\n" not in key
    token = ApiToken.objects.get()
    assert token.user == world.commune_officer
    assert token.name == "Hệ thống một cửa"
    assert token.key_hash == ApiToken.hash_key(key)
    assert token.prefix == key[: ApiToken.PREFIX_LEN]
    assert key not in err
    # Nothing stored anywhere equals the key.
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get()]
    assert key not in stored
    # Default validity: 90 days.
    assert token.expires_at is not None
    remaining = token.expires_at - timezone.now()
    assert dt.timedelta(days=89) < remaining <= dt.timedelta(days=90)
    # Issuing is recorded, without the key.
    record = ChangeRecord.objects.get(action="issue_api_token")
    assert record.object_id == token.pk
    assert key not in str(record.changes)
    # The key works.
    assert read_person(world, key).status_code == 200


def test_command_days(world: World) -> None:
    run_command("cax", "--name", "a", "--days", "7")
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() <= dt.timedelta(days=7)
    run_command("cax", "--name", "b", "--days", "0")
    assert ApiToken.objects.get(name="b").expires_at is None


@pytest.mark.parametrize(
    "args",
    [
        ("no-such-user", "--name", "x"),
        ("cax", "--name", "   "),
        ("cax", "--name", "x", "--days", "-1"),
        ("cax", "--name", "x", "--days", "99999"),
    ],
)
def test_command_refuses_bad_input(world: World, args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        run_command(*args)
    assert not ApiToken.objects.exists()


def test_command_refuses_inactive_user(world: World) -> None:
    User.objects.filter(pk=world.commune_officer.pk).update(is_active=False)
    with pytest.raises(CommandError):
        run_command("cax", "--name", "x")


def test_command_warns_for_user_without_role(world: World) -> None:
    _key, err = run_command(world.nobody.username, "--name", "x")
    assert "403" in err


def test_command_requires_name(world: World) -> None:
    with pytest.raises(CommandError):
        run_command("cax")


# --- authentication -------------------------------------------------------------------


def test_revoked_and_expired_tokens_stop_working(world: World) -> None:
    token, key = api_auth.issue_token(None, owner=world.commune_officer, name="t")
    assert read_person(world, key).status_code == 200
    api_auth.revoke_tokens(None, [token])
    assert read_person(world, key).status_code == 401
    token2, key2 = api_auth.issue_token(None, owner=world.commune_officer, name="t2")
    ApiToken.objects.filter(pk=token2.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert read_person(world, key2).status_code == 401


def test_deactivated_user_token_stops_working(world: World) -> None:
    _token, key = api_auth.issue_token(None, owner=world.commune_officer, name="t")
    User.objects.filter(pk=world.commune_officer.pk).update(is_active=False)
    assert read_person(world, key).status_code == 401


def test_last_used_at_written_at_most_once_a_minute(world: World) -> None:
    token, key = api_auth.issue_token(None, owner=world.commune_officer, name="t")
    assert token.last_used_at is None
    read_person(world, key)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    read_person(world, key)
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    read_person(world, key)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > first - dt.timedelta(minutes=2)


def test_user_for_key_queries(world: World, django_assert_max_num_queries: Any) -> None:
    _token, key = api_auth.issue_token(None, owner=world.commune_officer, name="t")
    api_auth.user_for_key(key)  # first use writes last_used_at
    with django_assert_max_num_queries(1):
        user = api_auth.user_for_key(key)
    assert user == world.commune_officer
    assert user is not None
    with django_assert_max_num_queries(0):
        assert user.agency is not None
        assert user.agency.jurisdiction == world.commune


def test_user_for_key_rejects_implausible_keys(db: None) -> None:
    for key in ("", "x" * 1000, "cd_\x00abc", "cd_khóa"):
        assert api_auth.user_for_key(key) is None


def test_keys_are_never_logged(
    world: World, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.DEBUG = True  # ninja's own HttpBearer logs the header under DEBUG
    _token, key = api_auth.issue_token(None, owner=world.commune_officer, name="t")
    caplog.set_level(logging.DEBUG)
    url = PERSON_URL.format(world.person.id_number)
    for header in (f"Token {key}", f"Basic {key}", key, f"Bearer {key}x"):
        Client().get(url, HTTP_AUTHORIZATION=header)
    assert key not in caplog.text


# --- issuing rights -------------------------------------------------------------------


def test_users_issue_tokens_for_themselves_admins_for_anyone(world: World) -> None:
    api_auth.issue_token(world.commune_officer, owner=world.commune_officer, name="mine")
    with pytest.raises(PermissionDenied):
        api_auth.issue_token(world.commune_officer, owner=world.steward, name="theirs")
    with pytest.raises(PermissionDenied):
        api_auth.issue_token(world.nobody, owner=world.nobody, name="no role")
    api_auth.issue_token(world.admin, owner=world.commune_officer, name="by admin")
    assert ApiToken.objects.filter(user=world.commune_officer).count() == 2


def test_revoking_someone_elses_token_is_refused(world: World) -> None:
    token, _key = api_auth.issue_token(None, owner=world.steward, name="t")
    with pytest.raises(PermissionDenied):
        api_auth.revoke_tokens(world.commune_officer, [token])
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_auth.revoke_tokens(world.admin, [token]) == 1
    assert api_auth.revoke_tokens(world.admin, [token]) == 0  # already revoked
    assert ChangeRecord.objects.filter(action="revoke_api_token").count() == 1


def test_issue_validation(world: World) -> None:
    with pytest.raises(ValidationFailed):
        api_auth.issue_token(None, owner=world.commune_officer, name="x" * 101)
    with pytest.raises(ValidationFailed):
        api_auth.issue_token(None, owner=world.commune_officer, name="x", valid_days=0)
    inactive = factories.make_user(Role.OFFICER, unit=world.commune)
    inactive.is_active = False
    inactive.save()
    with pytest.raises(ValidationFailed):
        api_auth.issue_token(None, owner=inactive, name="x")


# --- admin ----------------------------------------------------------------------------


def test_admin_issues_a_token_and_shows_the_key_once(world: World) -> None:
    client = Client()
    client.force_login(world.steward)
    add_url = "/admin/core/apitoken/add/"
    assert client.get(add_url).status_code == 200
    response = client.post(add_url, {"name": "Cổng dịch vụ công", "valid_days": "30"})
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.user == world.steward
    html = response.content.decode()
    match = re.search(r'id="api-key"[^>]*value="([^"]+)"', html)
    assert match is not None
    key = match.group(1)
    assert key.startswith("cd_")
    assert ApiToken.hash_key(key) == token.key_hash
    # The change page shows the prefix, never the hash or the key.
    detail = client.get(f"/admin/core/apitoken/{token.pk}/change/").content.decode()
    assert token.prefix in detail
    assert token.key_hash not in detail
    assert key not in detail
    listing = client.get("/admin/core/apitoken/").content.decode()
    assert token.key_hash not in listing


def test_admin_token_form_error_not_500(world: World) -> None:
    client = Client()
    client.force_login(world.steward)
    response = client.post("/admin/core/apitoken/add/", {"name": "", "valid_days": "99999"})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_admin_revoke_action(world: World) -> None:
    token, _key = api_auth.issue_token(None, owner=world.commune_officer, name="t")
    client = Client()
    client.force_login(world.admin)
    response = client.post(
        "/admin/core/apitoken/",
        {"action": "revoke", "_selected_action": [str(token.pk)]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_steward_sees_only_own_tokens_in_admin(world: World) -> None:
    other, _ = api_auth.issue_token(None, owner=world.commune_officer, name="officer's")
    own, _ = api_auth.issue_token(None, owner=world.steward, name="steward's")
    client = Client()
    client.force_login(world.steward)
    listing = client.get("/admin/core/apitoken/").content.decode()
    assert "steward&#x27;s" in listing or "steward's" in listing
    assert "officer" not in listing.split("result_list", 1)[-1]
    assert client.get(f"/admin/core/apitoken/{other.pk}/change/").status_code == 302
    assert client.get(f"/admin/core/apitoken/{own.pk}/change/").status_code == 200

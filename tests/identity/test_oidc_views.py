"""The portal as its own relying party, connected services, consent memory, the admin
and the commands of the OpenID Connect provider (Django's test client, real database)."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from oauth2_provider.models import AccessToken, Application, RefreshToken

from congdan.audit.models import ChangeRecord
from congdan.identity.decorators import PORTAL_SESSION_KEY
from congdan.identity.models import ClientPolicy, Consent, SigningKey
from congdan.identity.services import clients
from tests.conftest import World
from tests.identity.helpers import make_account, portal_login

RP_REDIRECT = "http://rp.example.test/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def form_data(page: Any) -> dict[str, str]:
    return {k: v for k, v in page.context["form"].initial.items() if v is not None}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(client_id: str, scope: str, **extra: str) -> dict[str, str]:
    _verifier, challenge = pkce()
    return {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": RP_REDIRECT,
        "scope": scope,
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


@pytest.fixture
def rp(world: World) -> clients.RegisteredClient:
    return clients.create_client(
        None,
        name="Ngân hàng Thử",
        redirect_uris=[RP_REDIRECT],
        scopes=["openid", "profile", "phone"],
        organisation="NH",
    )


# --- the portal's own login ----------------------------------------------------------------


def test_portal_login_round_trip_in_process(client: Client, world: World) -> None:
    account = make_account(world.person)
    client.force_login(account.user)
    start = client.get("/me/login/", {"next": "/me/services/"})
    assert start.status_code == 302
    authorize = client.get(start["Location"])
    # first-party client: no consent page
    assert authorize.status_code == 302, authorize.content[:300]
    callback = urlsplit(authorize["Location"])
    assert callback.path == "/me/callback/"
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302
    assert done["Location"] == "/me/services/"
    portal = client.session[PORTAL_SESSION_KEY]
    assert portal["uid"] == account.user.pk
    assert portal["sub"] == str(account.public_id)
    assert portal["acr"] == "level1"
    assert portal["id_token"].count(".") == 2
    assert client.get("/me/services/").status_code == 200
    assert not Consent.objects.filter(user=account.user).exists()
    # the portal client follows CONGDAN_PUBLIC_URL
    app = Application.objects.get(client_id=clients.PORTAL_CLIENT_ID)
    assert app.redirect_uris == clients.portal_redirect_uri()

    # logout: RP-initiated, ends the provider session too
    out = client.post("/me/logout/")
    assert out.status_code == 302
    assert urlsplit(out["Location"]).path == "/o/logout/"
    final = client.get(out["Location"])
    assert final.status_code == 302
    assert final["Location"] == clients.portal_post_logout_uri()
    assert "_auth_user_id" not in client.session


def test_portal_callback_refuses_bad_state_and_keeps_next_on_site(
    client: Client, world: World
) -> None:
    account = make_account(world.person)
    client.force_login(account.user)
    assert client.get("/me/callback/", {"code": "x", "state": "forged"}).status_code == 400
    start = client.get("/me/login/", {"next": "https://evil.test/x"})
    callback = urlsplit(client.get(start["Location"])["Location"])
    done = client.get(f"{callback.path}?{callback.query}")
    assert done["Location"] == "/me/"
    # a code already used cannot log in again
    again = client.get(f"{callback.path}?{callback.query}")
    assert again.status_code == 400


def test_portal_login_settings_override(client: Client, world: World, settings: Any) -> None:
    settings.CONGDAN_PUBLIC_URL = "http://portal.example.test"
    account = make_account(world.person)
    client.force_login(account.user)
    start = client.get("/me/login/")
    assert query_of(start["Location"])["redirect_uri"] == "http://portal.example.test/me/callback/"
    callback = urlsplit(client.get(start["Location"])["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    claims_iss = client.get("/.well-known/openid-configuration").json()["issuer"]
    assert claims_iss == "http://portal.example.test"


def test_anonymous_authorize_goes_to_login(client: Client, rp: clients.RegisteredClient) -> None:
    response = client.get("/o/authorize/", authorize_params(rp.application.client_id, "openid"))
    assert response.status_code == 302
    assert response["Location"].startswith("/id/login/?next=")
    silent = client.get(
        "/o/authorize/", authorize_params(rp.application.client_id, "openid", prompt="none")
    )
    assert silent.status_code == 302
    assert query_of(silent["Location"])["error"] == "login_required"


# --- consent memory -----------------------------------------------------------------------


def test_consent_remembered_per_scope_set(
    client: Client, world: World, rp: clients.RegisteredClient
) -> None:
    account = make_account(world.person)
    client.force_login(account.user)
    client_id = rp.application.client_id
    params = authorize_params(client_id, "openid profile")
    page = client.get("/o/authorize/", params)
    assert page.status_code == 200
    assert "Họ, chữ đệm và tên" in page.content.decode()
    answer = client.post("/o/authorize/", {**form_data(page), "allow": "on"})
    assert "code" in query_of(answer["Location"])
    assert ChangeRecord.objects.filter(action="oidc_consent_grant").count() == 1
    # same scopes: no page
    assert client.get("/o/authorize/", params).status_code == 302
    # prompt=none with a wider scope set: consent_required
    wider = authorize_params(client_id, "openid profile phone", prompt="none")
    assert query_of(client.get("/o/authorize/", wider)["Location"])["error"] == "consent_required"
    # a wider scope set shows the page again; refusing sends access_denied
    page = client.get("/o/authorize/", authorize_params(client_id, "openid profile phone"))
    assert page.status_code == 200
    refused = client.post("/o/authorize/", form_data(page))
    assert query_of(refused["Location"])["error"] == "access_denied"
    assert Consent.objects.get(user=account.user, revoked_at__isnull=True).scopes == [
        "openid",
        "profile",
    ]


def test_consent_post_tampered_scope_is_refused(
    client: Client, world: World, rp: clients.RegisteredClient
) -> None:
    account = make_account(world.person)
    client.force_login(account.user)
    page = client.get("/o/authorize/", authorize_params(rp.application.client_id, "openid"))
    data = {**form_data(page), "allow": "on", "scope": "openid id_number"}
    answer = client.post("/o/authorize/", data)
    assert query_of(answer["Location"])["error"] == "invalid_scope"
    assert not Consent.objects.exists()


# --- connected services -------------------------------------------------------------------


def test_connected_services_requires_portal_login(client: Client, world: World) -> None:
    response = client.get("/me/services/")
    assert response.status_code == 302
    assert response["Location"].startswith("/me/login/?next=")


def test_connected_services_list_and_revoke(
    client: Client, world: World, rp: clients.RegisteredClient
) -> None:
    account = make_account(world.person)
    consent = clients.grant_consent(
        account.user, application=rp.application, scopes=["openid", "profile"]
    )
    portal_login(client, account)
    page = client.get("/me/services/")
    assert page.status_code == 200
    assert "Ngân hàng Thử" in page.content.decode()

    other = make_account(world.neighbour)
    other_client = portal_login(Client(), other)
    assert other_client.post(f"/me/services/{consent.pk}/revoke/").status_code == 404
    assert client.get(f"/me/services/{consent.pk}/revoke/").status_code == 405

    response = client.post(f"/me/services/{consent.pk}/revoke/")
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert ChangeRecord.objects.filter(action="oidc_consent_revoke", object_id=consent.pk).exists()
    assert client.post(f"/me/services/{consent.pk}/revoke/").status_code == 404


def test_revoke_consent_drops_only_that_clients_tokens(
    world: World, rp: clients.RegisteredClient
) -> None:
    from django.utils import timezone

    account = make_account(world.person)
    other = clients.create_client(None, name="B", redirect_uris=[RP_REDIRECT], scopes=["openid"])
    later = timezone.now() + timezone.timedelta(minutes=5)
    for app, value in ((rp.application, "a"), (other.application, "b")):
        token = AccessToken.objects.create(
            user=account.user, application=app, token=value * 20, expires=later, scope="openid"
        )
        RefreshToken.objects.create(
            user=account.user, application=app, token=value * 21, access_token=token
        )
    consent = clients.grant_consent(account.user, application=rp.application, scopes=["openid"])
    clients.revoke_consent(account.user, consent_id=consent.pk)
    assert not AccessToken.objects.filter(application=rp.application).exists()
    assert AccessToken.objects.filter(application=other.application).count() == 1
    assert RefreshToken.objects.get(application=rp.application).revoked is not None
    assert RefreshToken.objects.get(application=other.application).revoked is None


# --- administration -----------------------------------------------------------------------


def test_admin_registers_relying_party_and_shows_secret_once(client: Client, world: World) -> None:
    client.force_login(world.admin)
    response = client.post(
        "/admin/oauth2_provider/application/add/",
        {
            "name": "Hãng bay Thử",
            "client_type": "confidential",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "https://air.example.test/cb",
            "post_logout_redirect_uris": "",
            "organisation": "Hãng bay",
            "allowed_scopes": ["openid", "profile"],
            "required_level": "2",
            "sector_identifier": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    app = Application.objects.get(name="Hãng bay Thử")
    policy = ClientPolicy.objects.get(application=app)
    assert policy.required_level == 2
    assert policy.sector_identifier == "air.example.test"
    assert policy.allowed_scopes == ["openid", "profile"]
    text = response.content.decode()
    assert "client_secret" in text
    assert app.client_secret not in text  # the hash is never shown
    assert ChangeRecord.objects.filter(action="oidc_client_create").exists()
    detail = client.get(f"/admin/oauth2_provider/application/{app.pk}/change/").content.decode()
    assert "client_secret (" not in detail
    keys_page = client.get("/admin/identity/signingkey/")
    assert keys_page.status_code == 200


def test_admin_denied_to_steward(client: Client, world: World) -> None:
    client.force_login(world.steward)
    assert client.get("/admin/oauth2_provider/application/").status_code == 403
    assert client.get("/admin/identity/consent/").status_code == 403


def test_dot_management_pages_are_not_mounted(client: Client, world: World) -> None:
    account = make_account(world.person)
    client.force_login(account.user)
    assert client.get("/o/applications/register/").status_code == 404


# --- commands -----------------------------------------------------------------------------


def test_oidc_client_create_and_demo(world: World, settings: Any) -> None:
    out = io.StringIO()
    call_command(
        "oidc_client",
        "create",
        "--name",
        "Viễn thông Thử",
        "--redirect-uri",
        "https://tel.example.test/cb",
        "--scopes",
        "openid profile phone",
        "--level",
        "2",
        "--confidential",
        stdout=out,
    )
    text = out.getvalue()
    assert "client_id:" in text and "client_secret:" in text
    policy = ClientPolicy.objects.get(application__name="Viễn thông Thử")
    assert policy.required_level == 2
    with pytest.raises(CommandError):
        call_command("oidc_client", "create", "--name", "X", "--scopes", "openid nope")

    settings.DEBUG = True
    out = io.StringIO()
    call_command("oidc_client", "ensure-demo", stdout=out)
    call_command("oidc_client", "ensure-demo", stdout=io.StringIO())
    assert Application.objects.filter(client_id__in=["demo-bank", "demo-dichvucong"]).count() == 2
    assert "demo-bank-secret-not-for-production" in out.getvalue()
    assert ClientPolicy.objects.get(application__client_id="demo-dichvucong").required_level == 2
    settings.DEBUG = False
    settings.CONGDAN_DEMO = False
    with pytest.raises(CommandError):
        call_command("oidc_client", "ensure-demo")


def test_oidc_keys_list_and_rotate(world: World) -> None:
    out = io.StringIO()
    call_command("oidc_keys", "list", stdout=out)
    first = SigningKey.objects.get()
    assert first.kid in out.getvalue() and "signing" in out.getvalue()
    out = io.StringIO()
    call_command("oidc_keys", "rotate", stdout=out)
    first.refresh_from_db()
    assert first.retired_at is not None and first.retire_after is not None
    assert first.retire_after > first.retired_at
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1
    assert "private" not in out.getvalue().lower() or "BEGIN" not in out.getvalue()

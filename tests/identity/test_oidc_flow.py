"""The OpenID Connect provider end to end: a live server, Authlib's OAuth 2 client, a
requests session carrying the citizen's provider login, ID tokens checked against the
JWKS fetched over HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from oauth2_provider.models import AccessToken, RefreshToken

from congdan.audit.models import AccessLogEntry
from congdan.core.models import User
from congdan.identity.models import AccountStatus, Consent, EidAccount, EidLevel, SigningKey
from congdan.identity.oidc import subject_for
from congdan.identity.services import clients
from tests import factories
from tests.identity.helpers import make_account

pytestmark = pytest.mark.django_db(transaction=True)

RP_REDIRECT = "http://rp.example.test/callback"


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "input" and data.get("type") == "hidden" and data.get("name"):
            self.fields[str(data["name"])] = data.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def browser_for(user: User) -> requests.Session:
    """A browser logged in at the provider (a session made as the login page would)."""
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store["eid_auth"] = {"time": 1_760_000_000, "amr": ["pwd", "otp"]}
    store.save()
    browser = requests.Session()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, store.session_key)
    return browser


@dataclass
class Rp:
    client_id: str
    secret: str
    scopes: list[str]


def make_rp(
    scopes: list[str],
    *,
    level: int = EidLevel.LEVEL1,
    confidential: bool = True,
    name: str = "Ngân hàng Thử",
) -> Rp:
    registered = clients.create_client(
        None,
        name=name,
        redirect_uris=[RP_REDIRECT],
        post_logout_redirect_uris=["http://rp.example.test/"],
        scopes=scopes,
        required_level=level,
        confidential=confidential,
        organisation="Ngân hàng Thử nghiệm",
    )
    return Rp(registered.application.client_id, registered.client_secret, scopes)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@pytest.fixture
def live(live_server: Any, settings: Any) -> str:
    settings.CONGDAN_PUBLIC_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def person() -> Any:
    province = factories.current_province("48")
    commune = factories.communes_of(province)[0]
    return factories.make_person(commune, full_name="Phạm Thị Dung")


def oauth_session(rp: Rp, scope: str | None = None) -> OAuth2Session:
    return OAuth2Session(
        rp.client_id,
        rp.secret or None,
        scope=scope or " ".join(rp.scopes),
        redirect_uri=RP_REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if rp.secret else "none",
    )


def authorize(
    live: str,
    browser: requests.Session,
    oauth: OAuth2Session,
    *,
    verifier: str,
    nonce: str,
    consent: bool = True,
    **params: str,
) -> requests.Response:
    """Run the browser side; returns the final response (a redirect to the RP or a page)."""
    url, _state = oauth.create_authorization_url(
        f"{live}/o/authorize/", code_verifier=verifier, nonce=nonce, **params
    )
    response = browser.get(url, allow_redirects=False)
    if response.status_code == 200 and consent:
        fields = hidden_fields(response.text)
        response = browser.post(
            url, data={**fields, "allow": "on"}, allow_redirects=False, headers={"Referer": url}
        )
    return response


def callback_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(RP_REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def decode_id_token(live: str, id_token: str, *, client_id: str, nonce: str) -> dict[str, Any]:
    jwks = requests.get(f"{live}/o/.well-known/jwks.json", timeout=10).json()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks))
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        acr={"essential": True},
    )
    registry.validate(token.claims)
    return dict(token.claims)


def full_login(
    live: str, rp: Rp, account: EidAccount, **params: str
) -> tuple[OAuth2Session, dict[str, Any], str]:
    oauth = oauth_session(rp)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    response = authorize(
        live, browser_for(account.user), oauth, verifier=verifier, nonce=nonce, **params
    )
    location = response.headers["Location"]
    callback_params(response)
    token = oauth.fetch_token(
        f"{live}/o/token/", authorization_response=location, code_verifier=verifier
    )
    return oauth, dict(token), nonce


# --- the happy path -----------------------------------------------------------------------


def test_discovery_follows_public_url(live: str) -> None:
    doc = requests.get(f"{live}/.well-known/openid-configuration", timeout=10).json()
    assert doc["issuer"] == live
    assert doc["authorization_endpoint"] == f"{live}/o/authorize/"
    assert doc["jwks_uri"] == f"{live}/o/.well-known/jwks.json"
    assert doc["acr_values_supported"] == ["level1", "level2"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "pairwise" in doc["subject_types_supported"]
    assert doc["introspection_endpoint"] == f"{live}/o/introspect/"
    jwks = requests.get(doc["jwks_uri"], timeout=10).json()
    assert len(jwks["keys"]) == 1
    assert "d" not in jwks["keys"][0]  # never the private part
    assert SigningKey.objects.count() == 1  # made on first use


def test_code_flow_with_pkce_consent_claims_refresh_userinfo_introspection(
    live: str, person: Any
) -> None:
    account = make_account(person, level=EidLevel.LEVEL2)
    rp = make_rp(["openid", "profile", "id_number", "address", "phone", "household", "card"])
    oauth = oauth_session(rp)
    browser = browser_for(account.user)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(
        f"{live}/o/authorize/", code_verifier=verifier, nonce=nonce
    )
    page = browser.get(url, allow_redirects=False)
    assert page.status_code == 200
    for claim in (
        "name",
        "birthdate",
        "id_number",
        "address",
        "phone_number",
        "household",
        "id_card",
    ):
        assert f'data-claim="{claim}"' in page.text
    assert "Ngân hàng Thử nghiệm" in page.text
    fields = hidden_fields(page.text)
    answer = browser.post(url, data={**fields, "allow": "on"}, allow_redirects=False)
    params = callback_params(answer)
    assert params["state"] == state
    assert Consent.objects.get(user=account.user, revoked_at__isnull=True).scopes == sorted(
        rp.scopes
    )

    token = oauth.fetch_token(
        f"{live}/o/token/",
        authorization_response=answer.headers["Location"],
        code_verifier=verifier,
    )
    claims = decode_id_token(live, token["id_token"], client_id=rp.client_id, nonce=nonce)
    assert claims["acr"] == "level2"
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["auth_time"] == 1_760_000_000
    assert claims["sub"] == str(account.public_id)  # allowed id_number: public sub
    assert claims["name"] == "Phạm Thị Dung"
    assert claims["birthdate"] == "1990-05-17"
    assert claims["gender"] == "female" or person.sex == "M"
    assert claims["id_number"] == person.id_number
    assert claims["address"]["commune_code"] == person.residence_commune.code
    assert claims["address"]["province_code"] == "48"
    assert claims["phone_number"] == "+84912345678"
    assert claims["household"]["relationship"] == "head"
    assert claims["household"]["head_name"] == "Phạm Thị Dung"
    assert claims["id_card"]["number"] == person.id_number
    assert claims["id_card"]["expiry_date"] is None
    logged = AccessLogEntry.objects.filter(person=person, view="oidc:id_token").get()
    assert logged.actor_label == f"oidc:{rp.client_id}"
    assert logged.organisation == "Ngân hàng Thử nghiệm"
    assert "id_number" in logged.fields and "sub" not in logged.fields

    # userinfo: same sub, logged
    info = oauth.get(f"{live}/o/userinfo/").json()
    assert info["sub"] == claims["sub"]
    assert info["id_number"] == person.id_number
    assert AccessLogEntry.objects.filter(person=person, view="oidc:userinfo").count() == 1

    # introspection as the confidential client
    seen = requests.post(
        f"{live}/o/introspect/",
        data={"token": token["access_token"]},
        auth=(rp.client_id, rp.secret),
        timeout=10,
    ).json()
    assert seen["active"] is True
    assert seen["sub"] == claims["sub"]
    assert "username" not in seen
    other = make_rp(["openid"], name="Khác")
    foreign = requests.post(
        f"{live}/o/introspect/",
        data={"token": token["access_token"]},
        auth=(other.client_id, other.secret),
        timeout=10,
    ).json()
    assert foreign == {"active": False}

    # refresh gives new tokens; the old access token is gone
    refreshed = oauth.refresh_token(f"{live}/o/token/", refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert oauth.get(f"{live}/o/userinfo/").status_code == 200

    # revocation
    revoked = requests.post(
        f"{live}/o/revoke_token/",
        data={"token": refreshed["access_token"]},
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    assert oauth.get(f"{live}/o/userinfo/").status_code == 401

    # second login: consent remembered, no page
    again = authorize(
        live, browser, oauth_session(rp), verifier=verifier, nonce=nonce, consent=False
    )
    assert "code" in callback_params(again)


def test_pairwise_sub_without_id_number_scope(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid", "profile"])
    _oauth, token, nonce = full_login(live, rp, account)
    claims = decode_id_token(live, token["id_token"], client_id=rp.client_id, nonce=nonce)
    assert claims["sub"] != str(account.public_id)
    assert claims["sub"] == subject_for(
        account, EidAccount.objects.get(pk=account.pk) and rp_policy(rp)
    )
    assert claims["acr"] == "level1"
    assert "id_number" not in claims


def rp_policy(rp: Rp) -> Any:
    from congdan.identity.models import ClientPolicy

    return ClientPolicy.objects.get(application__client_id=rp.client_id)


def test_public_client_and_rp_initiated_logout(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid", "profile"], confidential=False)
    oauth = oauth_session(rp)
    browser = browser_for(account.user)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    response = authorize(live, browser, oauth, verifier=verifier, nonce=nonce)
    token = oauth.fetch_token(
        f"{live}/o/token/",
        authorization_response=response.headers["Location"],
        code_verifier=verifier,
    )
    assert token["id_token"]
    logout = browser.get(
        f"{live}/o/logout/",
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "http://rp.example.test/",
        },
        allow_redirects=False,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == "http://rp.example.test/"
    assert not AccessToken.objects.filter(user=account.user).exists()
    # the provider session has ended: authorize now sends the browser to log in
    again = browser.get(
        oauth.create_authorization_url(f"{live}/o/authorize/", code_verifier=verifier)[0],
        allow_redirects=False,
    )
    assert again.status_code == 302
    assert "/o/authorize/" not in urlsplit(again.headers["Location"]).path


# --- refusals ------------------------------------------------------------------------------


def test_wrong_redirect_uri_is_not_followed(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid"])
    oauth = OAuth2Session(
        rp.client_id, rp.secret, scope="openid", redirect_uri="http://evil.test/cb"
    )
    verifier, _ = pkce_pair()
    url, _ = oauth.create_authorization_url(f"{live}/o/authorize/", code_verifier=verifier)
    response = browser_for(account.user).get(url, allow_redirects=False)
    assert response.status_code == 400
    assert "evil.test" not in response.headers.get("Location", "")


def test_pkce_missing_wrong_and_plain(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid"], confidential=False)
    browser = browser_for(account.user)
    base = {
        "client_id": rp.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": RP_REDIRECT,
        "state": "s1",
    }
    # a public client without PKCE
    missing = browser.get(f"{live}/o/authorize/", params=base, allow_redirects=False)
    assert callback_params(missing)["error"] == "invalid_request"
    # plain is refused
    plain = browser.get(
        f"{live}/o/authorize/",
        params={**base, "code_challenge": "x" * 50, "code_challenge_method": "plain"},
        allow_redirects=False,
    )
    refused = callback_params(plain)
    assert refused["error"] == "invalid_request"
    assert refused["state"] == "s1"
    # a wrong verifier at the token endpoint; then the code is burnt (reuse fails)
    oauth = oauth_session(rp)
    verifier, nonce = secrets.token_urlsafe(48), "n"
    response = authorize(live, browser, oauth, verifier=verifier, nonce=nonce)
    code = callback_params(response)["code"]
    token_url = f"{live}/o/token/"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": RP_REDIRECT,
        "client_id": rp.client_id,
    }
    wrong = requests.post(
        token_url, data={**form, "code_verifier": secrets.token_urlsafe(48)}, timeout=10
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    no_verifier = requests.post(token_url, data=form, timeout=10)
    assert no_verifier.status_code == 400
    ok = requests.post(token_url, data={**form, "code_verifier": verifier}, timeout=10)
    # oauthlib invalidates a code only on success, so the right verifier still works once
    assert ok.status_code == 200, ok.text
    reused = requests.post(token_url, data={**form, "code_verifier": verifier}, timeout=10)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_scope_not_allowed_is_refused_not_narrowed(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid", "profile"])
    oauth = oauth_session(rp, scope="openid profile id_number")
    response = authorize(
        live, browser_for(account.user), oauth, verifier=secrets.token_urlsafe(48), nonce="n"
    )
    assert callback_params(response)["error"] == "invalid_scope"


def test_level2_required_by_acr_values_and_by_policy(live: str, person: Any) -> None:
    account = make_account(person, level=EidLevel.LEVEL1)
    browser = browser_for(account.user)
    rp = make_rp(["openid", "profile"])
    for rp_, extra in (
        (rp, {"acr_values": "level2"}),
        (make_rp(["openid"], level=2, name="DVC"), {}),
    ):
        oauth = oauth_session(rp_)
        response = authorize(
            live,
            browser,
            oauth,
            verifier=secrets.token_urlsafe(48),
            nonce="n",
            consent=False,
            **extra,
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/oidc/level2-required/")
        page = browser.get(f"{live}/oidc/level2-required/", allow_redirects=False)
        assert page.status_code == 403
        assert "/me/level2/" in page.text
        assert "unmet_authentication_requirements" in page.text  # the button back to the client
        assert RP_REDIRECT in page.text
    # a level-2 account passes acr_values=level2
    account.level = EidLevel.LEVEL2
    account.save()
    oauth = oauth_session(rp)
    ok = authorize(
        live, browser, oauth, verifier=secrets.token_urlsafe(48), nonce="n", acr_values="level2"
    )
    assert "code" in callback_params(ok)


@pytest.mark.parametrize("status", [AccountStatus.LOCKED, AccountStatus.SUSPENDED])
def test_unusable_account_gets_no_code(live: str, person: Any, status: str) -> None:
    account = make_account(person, status=status)
    rp = make_rp(["openid"])
    response = authorize(
        live,
        browser_for(account.user),
        oauth_session(rp),
        verifier=secrets.token_urlsafe(48),
        nonce="n",
    )
    assert response.status_code == 403
    assert "error=access_denied" in response.text


def test_officer_without_eid_gets_no_code(live: str) -> None:
    officer = factories.make_user(unit=factories.current_province("48"))
    rp = make_rp(["openid"])
    response = authorize(
        live, browser_for(officer), oauth_session(rp), verifier=secrets.token_urlsafe(48), nonce="n"
    )
    assert response.status_code == 403
    assert "tài khoản cán bộ" in response.text


def test_refresh_fails_after_lock_and_after_consent_revoked(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid", "profile"])
    oauth, token, _ = full_login(live, rp, account)
    account.status = AccountStatus.LOCKED
    account.save()
    locked = requests.post(
        f"{live}/o/token/",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert locked.status_code == 400
    assert locked.json()["error"] == "invalid_grant"
    assert oauth.get(f"{live}/o/userinfo/").status_code == 401  # bearer refused too

    account.status = AccountStatus.ACTIVE
    account.save()
    oauth, token, _ = full_login(live, rp, account)
    consent = Consent.objects.get(user=account.user, revoked_at__isnull=True)
    clients.revoke_consent(account.user, consent_id=consent.pk)
    assert not RefreshToken.objects.filter(user=account.user, revoked__isnull=True).exists()
    after = requests.post(
        f"{live}/o/token/",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert after.status_code == 400
    assert oauth.get(f"{live}/o/userinfo/").status_code == 401


def test_expired_access_token_is_refused(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid", "profile"])
    oauth, token, _ = full_login(live, rp, account)
    AccessToken.objects.filter(user=account.user).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert oauth.get(f"{live}/o/userinfo/").status_code == 401
    seen = requests.post(
        f"{live}/o/introspect/",
        data={"token": token["access_token"]},
        auth=(rp.client_id, rp.secret),
        timeout=10,
    ).json()
    assert seen == {"active": False}


def test_client_credentials_for_member_system(live: str) -> None:
    system = clients.create_client(
        None,
        name="Hệ thống BHXH",
        scopes=["registry:read"],
        client_credentials=True,
        organisation="BHXH",
    )
    oauth = OAuth2Session(system.application.client_id, system.client_secret, scope="registry:read")
    token = oauth.fetch_token(f"{live}/o/token/", grant_type="client_credentials")
    assert token["scope"] == "registry:read"
    assert "refresh_token" not in token
    assert "id_token" not in token
    bad = requests.post(
        f"{live}/o/token/",
        data={"grant_type": "client_credentials", "scope": "openid profile"},
        auth=(system.application.client_id, system.client_secret),
        timeout=10,
    )
    assert bad.json()["error"] == "invalid_scope"
    wrong_secret = requests.post(
        f"{live}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(system.application.client_id, "nope"),
        timeout=10,
    )
    assert wrong_secret.status_code == 401


def test_key_rotation(live: str, person: Any) -> None:
    account = make_account(person)
    rp = make_rp(["openid", "profile"])
    _oauth, first, nonce = full_login(live, rp, account)
    old_kid = jwt.decode(
        first["id_token"],
        KeySet.import_key_set(requests.get(f"{live}/o/.well-known/jwks.json", timeout=10).json()),
    ).header["kid"]
    new = clients.rotate_signing_key(None)
    assert new.kid != old_kid
    kids = {
        k["kid"] for k in requests.get(f"{live}/o/.well-known/jwks.json", timeout=10).json()["keys"]
    }
    assert kids == {old_kid, new.kid}
    # the old token still verifies against the published set
    decode_id_token(live, first["id_token"], client_id=rp.client_id, nonce=nonce)
    _oauth, second, _nonce2 = full_login(live, rp, account)
    claims_header = jwt.decode(
        second["id_token"],
        KeySet.import_key_set(requests.get(f"{live}/o/.well-known/jwks.json", timeout=10).json()),
    ).header
    assert claims_header["kid"] == new.kid
    # once retire_after has passed, the old key drops out and its tokens no longer verify
    SigningKey.objects.filter(kid=old_kid).update(
        retire_after=timezone.now() - timedelta(seconds=1)
    )
    jwks = requests.get(f"{live}/o/.well-known/jwks.json", timeout=10).json()
    assert {k["kid"] for k in jwks["keys"]} == {new.kid}
    with pytest.raises((JoseError, ValueError)):
        jwt.decode(first["id_token"], KeySet.import_key_set(jwks))

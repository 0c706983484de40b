"""The GovStack Digital Registries facade (/api/govstack/): read, exists, list and
MyPersonalDataUsage under the same grants, consent and access log as the native API.
Member systems use real client-credentials tokens from /o/token/; the citizen's token for
MyPersonalDataUsage comes from the real authorization-code flow where the provider can
issue the scope (see ``citizen_token``)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from congdan.audit.models import AccessLogEntry, Channel, Outcome
from congdan.audit.services import log_access
from congdan.exchange.api_govstack import ACCESS_LOG_SCOPE, LIST_MAX_MATCHES
from congdan.exchange.models import Consent
from congdan.identity.models import EidAccount
from congdan.identity.services import clients
from tests import factories
from tests.conftest import World
from tests.exchange.conftest import Api, MemberApi
from tests.identity.helpers import make_account

BASE = "/api/govstack/data/population/1.0"
READ = f"{BASE}/read"
EXISTS = f"{BASE}/exists"
USAGE = "/api/govstack/data/MyPersonalDataUsage/1.0"
RP_REDIRECT = "http://portal.example.test/callback"


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]


def _query(**content: Any) -> dict[str, Any]:
    return {"query": {"content": content}}


def _entries(person_id: int) -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(person_id=person_id).order_by("id"))


@pytest.fixture
def ministry(member_api: MemberApi) -> Api:
    return member_api(
        "moh",
        grants=[
            ("person-basic", "public_service", ["id_number", "full_name", "birth_date", "sex"])
        ],
        kind="ministry",
        member_class="GOV",
    )


@pytest.fixture
def bank(member_api: MemberApi) -> Api:
    return member_api(
        "vcb",
        grants=[
            ("person-basic", "kyc_full_profile", ["id_number", "full_name", "birth_date"]),
            ("verify-identity", "kyc_account_opening", ["full_name", "birth_date"]),
        ],
    )


# --- read ---------------------------------------------------------------------------------


def test_read_returns_the_granted_fields_and_logs_the_access(ministry: Api, world: World) -> None:
    response = ministry.post(READ, _query(id_number=world.person.id_number))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "content": {
            "id_number": world.person.id_number,
            "full_name": "Nguyễn Văn An",
            "birth_date": "1990-05-17",
            "sex": "M",
        }
    }
    [entry] = _entries(world.person.pk)
    assert entry.channel == Channel.EXCHANGE
    assert entry.view == "person-basic"
    assert entry.purpose == "public_service"
    assert entry.fields == "id_number,full_name,birth_date,sex"
    assert entry.subsystem == ministry.subsystem.identifier == "VN/GOV/moh/main"
    assert entry.organisation == "moh"
    assert entry.outcome == Outcome.OK
    # The spec's example key for a citizen's identifier works too.
    assert ministry.post(READ, _query(ID=world.person.id_number)).status_code == 200


def test_information_mediator_client_header_must_name_the_caller(
    ministry: Api, world: World
) -> None:
    body = _query(id_number=world.person.id_number)
    same = ministry.post(READ, body, HTTP_INFORMATION_MEDIATOR_CLIENT="VN/GOV/moh/main")
    assert same.status_code == 200, same.content
    for other in ("VN/COM/vcb/main", "VN/GOV/moh", "VN/GOV/moh/main/x", "vn/gov/moh/main"):
        response = ministry.post(READ, body, HTTP_INFORMATION_MEDIATOR_CLIENT=other)
        _error(response, 403, "client_mismatch")
    listing = ministry.get(
        f"{BASE}?query.full_name=x&query.birth_date=1990-05-17",
        HTTP_INFORMATION_MEDIATOR_CLIENT="VN/COM/vcb/main",
    )
    _error(listing, 403, "client_mismatch")
    assert len(_entries(world.person.pk)) == 1  # only the allowed call


def test_read_refusals(ministry: Api, member_api: MemberApi, world: World) -> None:
    number = world.person.id_number
    _error(ministry.post(READ, _query(id_number=number), purpose=""), 422, "purpose_required")
    _error(
        ministry.post(READ, _query(id_number=number), purpose="health_insurance"), 403, "no_grant"
    )
    _error(
        ministry.post(READ, _query(id_number=number), purpose="no_such_purpose"),
        403,
        "unknown_purpose",
    )
    stranger = member_api("airline1", grants=[("card-status", "boarding_check", ["card_status"])])
    _error(stranger.post(READ, _query(id_number=number), purpose="public_service"), 403, "no_grant")
    _error(
        ministry.post("/api/govstack/data/vehicles/1.0/read", _query(id_number=number)),
        404,
        "unknown_registry",
    )
    _error(
        ministry.post("/api/govstack/data/population/2.0/read", _query(id_number=number)),
        404,
        "unknown_version",
    )
    _error(ministry.post(READ, _query(id_number="079090000000")), 404, "person_not_found")
    _error(ministry.post(READ, _query(id_number="12ab")), 422, "invalid_id_number")
    _error(ministry.post(READ, _query(full_name="Nguyễn Văn An")), 422, "id_number_required")
    _error(
        ministry.post(READ, _query(id_number=number, full_name="Nguyễn Văn An")),
        422,
        "unsupported_query",
    )
    _error(ministry.post(READ, _query(id_number=12345)), 422, "invalid_attribute")
    _error(ministry.post(READ, {"content": {"id_number": number}}), 422, "invalid_request")
    _error(ministry.post(READ, "not json", content_type="application/json"), 422, "invalid_request")
    anonymous = Client().post(READ, _query(id_number=number), content_type="application/json")
    _error(anonymous, 401, "unauthenticated")
    assert _entries(world.person.pk) == []


def test_read_needs_the_citizens_consent_when_the_purpose_does(bank: Api, world: World) -> None:
    body = _query(id_number=world.person.id_number)
    _error(bank.post(READ, body, purpose="kyc_full_profile"), 403, "consent_required")
    [refused] = _entries(world.person.pk)
    assert refused.outcome == Outcome.REFUSED
    assert refused.fields == ""
    grant = bank.member.grants.get(service__code="person-basic")
    Consent.objects.create(
        person=world.person,
        member=bank.member,
        service=grant.service,
        purpose=grant.purpose,
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    response = bank.post(READ, body, purpose="kyc_full_profile")
    assert response.status_code == 200, response.content
    assert response.json()["content"]["full_name"] == "Nguyễn Văn An"
    assert [e.outcome for e in _entries(world.person.pk)] == [Outcome.REFUSED, Outcome.OK]


# --- exists -------------------------------------------------------------------------------


def test_exists_answers_true_or_false_only(bank: Api, world: World) -> None:
    number = world.person.id_number
    purpose = "kyc_account_opening"
    yes = bank.post(
        EXISTS,
        _query(id_number=number, full_name="nguyễn  văn AN", birth_date="1990-05-17"),
        purpose=purpose,
    )
    assert yes.status_code == 200, yes.content
    assert yes.json()["answer"]["status"] is True
    assert set(yes.json()) == {"answer"}
    assert set(yes.json()["answer"]) == {"status", "message"}
    no = bank.post(
        EXISTS,
        _query(id_number=number, full_name="Nguyễn Văn An", birth_date="1990-05-18"),
        purpose=purpose,
    )
    assert no.status_code == 200
    assert no.json()["answer"]["status"] is False
    assert "1990" not in no.content.decode()  # nothing of the record leaks
    nobody = bank.post(
        EXISTS, _query(id_number="079090000000", full_name="Nguyễn Văn An"), purpose=purpose
    )
    assert nobody.json()["answer"]["status"] is False
    entries = _entries(world.person.pk)
    assert [(e.view, e.outcome, e.fields, e.purpose) for e in entries] == [
        ("verify-identity", Outcome.VERIFIED, "full_name,birth_date", purpose)
    ] * 2


def test_exists_refusals(bank: Api, world: World) -> None:
    number = world.person.id_number
    purpose = "kyc_account_opening"
    # The grant covers full_name and birth_date, not sex.
    _error(
        bank.post(EXISTS, _query(id_number=number, sex="M"), purpose=purpose),
        403,
        "field_not_allowed",
    )
    _error(bank.post(EXISTS, _query(id_number=number), purpose=purpose), 422, "no_attributes")
    _error(
        bank.post(EXISTS, _query(id_number=number, religion="x"), purpose=purpose),
        422,
        "unknown_attribute",
    )
    _error(
        bank.post(EXISTS, _query(id_number=number, full_name="A"), purpose="boarding_check"),
        403,
        "no_grant",
    )
    _error(
        bank.post(
            "/api/govstack/data/population/0.9/exists",
            _query(id_number=number, full_name="A"),
            purpose=purpose,
        ),
        404,
        "unknown_version",
    )
    _error(
        bank.post(
            EXISTS,
            _query(id_number=number, full_name="A"),
            purpose=purpose,
            HTTP_INFORMATION_MEDIATOR_CLIENT="VN/COM/other/main",
        ),
        403,
        "client_mismatch",
    )
    assert _entries(world.person.pk) == []


# --- list ---------------------------------------------------------------------------------


def _list_url(**params: Any) -> str:
    return f"{BASE}?{urlencode(params)}"


def test_list_is_an_exact_bounded_search(ministry: Api, world: World) -> None:
    twins = [
        factories.make_person(
            world.commune, full_name="Hoàng Văn Sơn", birth_date=dt.date(2001, 3, 4)
        )
        for _ in range(3)
    ]
    factories.make_person(world.commune, full_name="Hoàng Văn Sơn", birth_date=dt.date(2001, 3, 5))
    factories.make_person(
        world.commune, full_name="Hoàng Văn Sơn Hải", birth_date=dt.date(2001, 3, 4)
    )
    params = {"query.full_name": "hoang van  SON", "query.birth_date": "2001-03-04"}
    first = ministry.get(_list_url(**params, page_size=2))
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["count"] == 3
    assert body["previous"] is None
    assert body["next"].startswith("http://testserver/api/govstack/data/population/1.0?")
    assert "page=2" in body["next"]
    assert [r["id_number"] for r in body["results"]] == [p.id_number for p in twins[:2]]
    assert set(body["results"][0]) == {"id_number", "full_name", "birth_date", "sex"}
    second = ministry.get(body["next"])
    assert second.status_code == 200, second.content
    assert [r["id_number"] for r in second.json()["results"]] == [twins[2].id_number]
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None
    # Each person returned is logged once per page that returned it; no one else.
    for person in twins:
        [entry] = _entries(person.pk)
        assert (entry.view, entry.purpose, entry.outcome) == (
            "person-basic",
            "public_service",
            Outcome.OK,
        )
    assert AccessLogEntry.objects.count() == 3
    narrowed = ministry.get(_list_url(**params, **{"query.sex": "F"}))
    assert narrowed.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_list_refusals(ministry: Api, bank: Api, member_api: MemberApi, world: World) -> None:
    name, born = "Nguyễn Văn An", "1990-05-17"
    ok = {"query.full_name": name, "query.birth_date": born}
    _error(ministry.get(_list_url(**{"query.full_name": name})), 422, "search_too_broad")
    _error(ministry.get(_list_url(**ok, search="An")), 422, "unsupported_parameter")
    _error(ministry.get(_list_url(**ok, ordering="descending")), 422, "unsupported_parameter")
    _error(
        ministry.get(_list_url(**ok, **{"query.id_number": world.person.id_number})),
        422,
        "unsupported_query",
    )
    _error(
        ministry.get(_list_url(**{"query.full_name": name, "query.birth_date": "17/05/1990"})),
        422,
        "invalid_attribute",
    )
    _error(ministry.get(_list_url(**ok, page_size=11)), 422, "invalid_paging")
    _error(ministry.get(_list_url(**ok, page="abc")), 422, "invalid_paging")
    _error(ministry.get(_list_url(**ok), purpose=""), 422, "purpose_required")
    _error(ministry.get("/api/govstack/data/persons/1.0?" + urlencode(ok)), 404, "unknown_registry")
    # A purpose that needs consent cannot be used for a search.
    _error(bank.get(_list_url(**ok), purpose="kyc_full_profile"), 403, "list_not_allowed")
    # One cannot search by what the grant does not show.
    narrow = member_api("bhxh", grants=[("person-basic", "health_insurance", ["id_number"])])
    _error(narrow.get(_list_url(**ok)), 403, "field_not_allowed")
    assert AccessLogEntry.objects.count() == 0
    for _ in range(LIST_MAX_MATCHES + 1):
        factories.make_person(
            world.commune, full_name="Trần Văn Nam", birth_date=dt.date(1970, 1, 1)
        )
    crowded = {"query.full_name": "Trần Văn Nam", "query.birth_date": "1970-01-01"}
    _error(ministry.get(_list_url(**crowded)), 422, "too_many_matches")
    assert AccessLogEntry.objects.count() == 0


# --- MyPersonalDataUsage ------------------------------------------------------------------


class _Hidden(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "input" and data.get("type") == "hidden" and data.get("name"):
            self.fields[str(data["name"])] = data.get("value") or ""


def _code_flow_token(account: EidAccount, scopes: list[str]) -> str:
    """A citizen's access token through the real authorization-code flow with PKCE: a
    portal (relying party) the citizen logged in to, consent page, /o/token/."""
    registered = clients.create_client(
        None,
        name="Cổng dịch vụ công tỉnh",
        redirect_uris=[RP_REDIRECT],
        post_logout_redirect_uris=["http://portal.example.test/"],
        scopes=scopes,
        required_level=1,
        confidential=True,
        organisation="UBND tỉnh",
    )
    browser = Client()
    browser.force_login(account.user)
    session = browser.session
    session["eid_auth"] = {"time": int(timezone.now().timestamp()), "amr": ["pwd"]}
    session.save()
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": registered.application.client_id,
        "redirect_uri": RP_REDIRECT,
        "scope": " ".join(scopes),
        "state": "s1",
        "nonce": "n1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = f"/o/authorize/?{urlencode(params)}"
    page = browser.get(url)
    if page.status_code == 200:
        parser = _Hidden()
        parser.feed(page.content.decode())
        page = browser.post(url, {**parser.fields, "allow": "on"})
    assert page.status_code == 302, page.content[:500]
    code = parse_qs(urlsplit(page["Location"]).query)["code"][0]
    basic = base64.b64encode(
        f"{registered.application.client_id}:{registered.client_secret}".encode()
    ).decode()
    token = Client().post(
        "/o/token/",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": RP_REDIRECT,
                "code_verifier": verifier,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert token.status_code == 200, token.content
    return str(token.json()["access_token"])


def citizen_token(account: EidAccount, scopes: list[str]) -> str:
    """The citizen's access token for ``scopes``, through the real authorization-code
    flow of our provider."""
    return _code_flow_token(account, scopes)


@pytest.fixture
def citizen(world: World) -> EidAccount:
    return make_account(world.person)


def _usage(http: Client, token: str, **params: str) -> Any:
    return http.get(f"{USAGE}?{urlencode(params)}", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_my_personal_data_usage_lists_the_citizens_own_visible_entries(
    citizen: EidAccount, ministry: Api, world: World
) -> None:
    person = world.person
    assert ministry.post(READ, _query(id_number=person.id_number)).status_code == 200
    assert ministry.post(READ, _query(id_number=world.neighbour.id_number)).status_code == 200
    today = timezone.localdate()
    for organisation, hidden_until in (
        ("c01", today + dt.timedelta(days=30)),
        ("c02", today - dt.timedelta(days=1)),
    ):
        log_access(
            None,
            person_ids=[person.pk],
            channel=Channel.EXCHANGE,
            view="person-basic",
            fields=["full_name"],
            purpose="criminal_investigation",
            on_behalf_of=(f"VN/GOV/{organisation}/main", organisation),
            hidden_until=hidden_until,
        )
    token = citizen_token(citizen, ["openid", ACCESS_LOG_SCOPE])
    response = _usage(Client(), token, userID=person.id_number, DatabaseID="population")
    assert response.status_code == 200, response.content
    rows = response.json()
    mine = AccessLogEntry.objects.filter(person=person).order_by("-id")
    visible = [e for e in mine if e.hidden_until is None or e.hidden_until <= today]
    assert [row["ID"] for row in rows] == [str(e.id) for e in visible]
    assert len(rows) == 2
    assert all(row["ReaderInstitutionID"] != "c01" for row in rows)  # still hidden
    read = rows[-1]
    assert read["ReaderID"] == "VN/GOV/moh/main"
    assert read["ReaderInstitutionID"] == "moh"
    assert read["ReaderInstitutionName"] == "Tổ chức moh"
    assert read["ReaderApplicationName"] == "Hệ thống chính"
    assert read["Refrences"] == [{"ReferenceID": "person-basic"}]
    assert read["Purpose"] == "public_service"
    assert read["Fields"] == ["id_number", "full_name", "birth_date", "sex"]
    assert read["Outcome"] == "ok"
    assert read["SearchDateTime"].endswith("Z")
    assert rows[0]["ReaderInstitutionID"] == "c02"  # its hiding has ended
    # Paging by id; reading one's own log is not itself logged.
    count = AccessLogEntry.objects.count()
    older = _usage(
        Client(),
        token,
        userID=person.id_number,
        DatabaseID="population",
        before=rows[0]["ID"],
        limit="1",
    )
    assert [row["ID"] for row in older.json()] == [rows[1]["ID"]]
    assert AccessLogEntry.objects.count() == count


def test_my_personal_data_usage_refusals(citizen: EidAccount, ministry: Api, world: World) -> None:
    person = world.person
    token = citizen_token(citizen, ["openid", ACCESS_LOG_SCOPE])
    http = Client()
    _error(
        _usage(http, token, userID=world.neighbour.id_number, DatabaseID="population"),
        403,
        "not_own_data",
    )
    _error(
        _usage(http, token, userID=person.id_number, DatabaseID="vehicles"), 404, "unknown_registry"
    )
    _error(_usage(http, token, userID="12", DatabaseID="population"), 422, "invalid_id_number")
    _error(_usage(http, token, userID=person.id_number), 422, "invalid_request")
    _error(
        _usage(http, token, userID=person.id_number, DatabaseID="population", limit="5000"),
        422,
        "invalid_paging",
    )
    # The portal is not a member subsystem: a header naming one is refused.
    mismatch = http.get(
        f"{USAGE}?userID={person.id_number}&DatabaseID=population",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_INFORMATION_MEDIATOR_CLIENT="VN/GOV/moh/main",
    )
    _error(mismatch, 403, "client_mismatch")
    # A member system's token is not the citizen's.
    _error(
        ministry.get(f"{USAGE}?userID={person.id_number}&DatabaseID=population"),
        403,
        "citizen_token_required",
    )
    # A citizen token without the scope (an ordinary login at some relying party).
    login_only = citizen_token(citizen, ["openid", "id_number"])
    _error(
        _usage(http, login_only, userID=person.id_number, DatabaseID="population"),
        403,
        "insufficient_scope",
    )
    # No token, a wrong one, an expired one.
    _error(
        http.get(f"{USAGE}?userID={person.id_number}&DatabaseID=population"), 401, "unauthenticated"
    )
    _error(
        _usage(http, "x" * 30, userID=person.id_number, DatabaseID="population"),
        401,
        "unauthenticated",
    )
    AccessToken.objects.filter(user=citizen.user).update(
        expires=timezone.now() - dt.timedelta(seconds=1)
    )
    _error(
        _usage(http, token, userID=person.id_number, DatabaseID="population"),
        401,
        "unauthenticated",
    )


def test_my_personal_data_usage_follows_the_clients_current_policy(
    citizen: EidAccount, world: World
) -> None:
    from congdan.identity.models import ClientPolicy

    token = citizen_token(citizen, ["openid", ACCESS_LOG_SCOPE])
    http = Client()
    ok = _usage(http, token, userID=world.person.id_number, DatabaseID="population")
    assert ok.status_code == 200, ok.content
    policy = ClientPolicy.objects.get(application__accesstoken__user=citizen.user)
    policy.allowed_scopes = [s for s in policy.allowed_scopes if s != ACCESS_LOG_SCOPE]
    policy.save()
    _error(
        _usage(http, token, userID=world.person.id_number, DatabaseID="population"),
        403,
        "insufficient_scope",
    )

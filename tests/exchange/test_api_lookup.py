"""Lookups and verification by member systems: the grant matrix (organisation × service
× purpose × fields), consent, rate limits and the access log. Real tokens from /o/token/.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord, Channel, Outcome
from congdan.exchange import policy
from congdan.exchange.catalogue import PERSON_BASIC_FIELDS
from congdan.exchange.models import AccessGrant, Consent, MemberStatus, RateLimit
from congdan.exchange.services import grants as grant_services
from congdan.exchange.services import members
from tests.conftest import World
from tests.exchange.conftest import Api, MemberApi, grant

PERSONS = "/api/v1/exchange/persons/"
VERIFY = "/api/v1/exchange/verify"


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]


def _entries(person_id: int) -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(person_id=person_id).order_by("id"))


@pytest.fixture
def ministry(member_api: MemberApi) -> Api:
    return member_api(
        "moh",
        grants=[("person-basic", "public_service", ["id_number", "full_name", "birth_date"])],
        kind="ministry",
        member_class="GOV",
    )


# --- the grant matrix --------------------------------------------------------------------


def test_lookup_returns_exactly_the_granted_fields(ministry: Api, world: World) -> None:
    response = ministry.get(PERSONS + world.person.id_number + "?service=person-basic")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fields"] == ["id_number", "full_name", "birth_date"]
    assert body["person"] == {
        "id_number": world.person.id_number,
        "full_name": "Nguyễn Văn An",
        "birth_date": "1990-05-17",
    }
    [entry] = _entries(world.person.pk)
    assert entry.channel == Channel.EXCHANGE
    assert entry.organisation == "moh"
    assert entry.subsystem == "VN/GOV/moh/main"
    assert entry.actor_label == "VN/GOV/moh/main"
    assert entry.view == "person-basic"
    assert entry.fields == "id_number,full_name,birth_date"
    assert entry.purpose == "public_service"
    assert entry.outcome == Outcome.OK
    assert entry.request_id
    assert entry.hidden_until is None


def test_asking_for_a_subset_narrows_and_a_field_outside_is_refused(
    ministry: Api, world: World
) -> None:
    url = PERSONS + world.person.id_number
    response = ministry.get(url + "?fields=full_name")
    assert response.status_code == 200
    assert response.json()["person"] == {"full_name": "Nguyễn Văn An"}
    _error(ministry.get(url + "?fields=full_name,religion"), 403, "field_not_allowed")
    # The refusal read nothing: only the allowed call is logged.
    assert [e.fields for e in _entries(world.person.pk)] == ["full_name"]


@pytest.mark.parametrize(
    ("service", "purpose", "code", "status"),
    [
        ("person-basic", "", "purpose_required", 422),
        ("person-basic", "kyc_full_profile", "no_grant", 403),  # purpose not granted
        ("person-residence", "public_service", "no_grant", 403),  # service not granted
        ("person-basic", "boarding_check", "unknown_purpose", 403),  # not a purpose of it
        ("no-such-service", "public_service", "unknown_service", 404),
        ("verify-identity", "public_service", "wrong_service_kind", 422),
    ],
)
def test_calls_outside_the_grant_are_refused_with_a_reason(  # noqa: PLR0917 -- parametrised
    ministry: Api, world: World, service: str, purpose: str, code: str, status: int
) -> None:
    response = ministry.get(
        PERSONS + world.person.id_number + f"?service={service}", purpose=purpose
    )
    _error(response, status, code)
    assert not _entries(world.person.pk)


def test_a_grant_of_another_member_does_not_help(
    ministry: Api, member_api: MemberApi, world: World
) -> None:
    other = member_api(
        "telco", grants=[("card-status", "subscriber_registration", ["card_status"])]
    )
    _error(other.get(PERSONS + world.person.id_number, purpose="public_service"), 403, "no_grant")


def test_grant_for_one_subsystem_does_not_cover_another(
    member_api: MemberApi, client: Client, world: World
) -> None:
    api = member_api("bank2")
    second = members.add_subsystem(
        None,
        member=api.member,
        code="branch",
        name="Chi nhánh",
        client_secret="exchange-member-secret-for-tests-0123456789",
    )
    grant(api.member, "person-basic", "public_service", ["full_name"], subsystem=second.subsystem)
    url = PERSONS + world.person.id_number
    _error(api.get(url, purpose="public_service"), 403, "no_grant")
    from tests.exchange.conftest import token_for

    branch = Api(
        http=Client(),
        token=token_for(client, second.client_id),
        member=api.member,
        subsystem=second.subsystem,
        purpose="public_service",
    )
    assert branch.get(url).status_code == 200


def test_validity_dates_and_revocation(ministry: Api, world: World) -> None:
    url = PERSONS + world.person.id_number
    grant_row = AccessGrant.objects.get(member=ministry.member)
    today = timezone.localdate()
    AccessGrant.objects.filter(pk=grant_row.pk).update(valid_from=today + dt.timedelta(days=1))
    policy.clear_caches()
    _error(ministry.get(url), 403, "grant_not_yet_valid")
    AccessGrant.objects.filter(pk=grant_row.pk).update(
        valid_from=today - dt.timedelta(days=30), valid_until=today - dt.timedelta(days=1)
    )
    policy.clear_caches()
    _error(ministry.get(url), 403, "grant_expired")
    grant_services.change_validity(None, grant_id=grant_row.pk, valid_until=None, reason="gia hạn")
    assert ministry.get(url).status_code == 200
    grant_services.revoke_grant(None, grant_id=grant_row.pk, reason="hết nhu cầu")
    _error(ministry.get(url), 403, "grant_expired")
    actions = list(
        ChangeRecord.objects.filter(object_type="exchange.accessgrant", object_id=grant_row.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["exchange_grant", "exchange_grant_validity", "exchange_grant_revoke"]


def test_grant_changes_by_a_person_need_the_permission(world: World, catalogue: None) -> None:
    from congdan.core.errors import PermissionDenied
    from congdan.exchange.models import DataService, ServicePurpose

    member = members.register_member(None, code="m1", name="M1", kind="bank", member_class="COM")
    service = DataService.objects.get(code="person-basic")
    purpose = ServicePurpose.objects.get(service=service, code="public_service")
    with pytest.raises(PermissionDenied):
        grant_services.grant_access(
            world.province_officer,
            member=member,
            service=service,
            purpose=purpose,
            fields=["full_name"],
        )
    with pytest.raises(Exception, match="không có các trường"):
        grant_services.grant_access(
            world.admin, member=member, service=service, purpose=purpose, fields=["salary"]
        )
    assert not AccessGrant.objects.exists()


def test_unknown_person_is_404_and_not_logged(ministry: Api, world: World) -> None:
    number = world.person.id_number[:-1] + ("0" if world.person.id_number[-1] != "0" else "1")
    _error(ministry.get(PERSONS + number), 404, "person_not_found")
    _error(ministry.get(PERSONS + "12345"), 422, "invalid_id_number")


def test_bad_tokens_and_suspended_members_are_401(ministry: Api, world: World) -> None:
    url = PERSONS + world.person.id_number
    for header in ("", "Bearer nope", "Basic abc", "Bearer " + "x" * 400):
        response = Client().get(url, HTTP_AUTHORIZATION=header, HTTP_X_PURPOSE="public_service")
        _error(response, 401, "unauthenticated")
    members.set_member_status(
        None, member_id=ministry.member.pk, status=MemberStatus.SUSPENDED, reason="kiểm tra"
    )
    _error(ministry.get(url), 401, "unauthenticated")


def test_investigation_reads_are_hidden_until_a_date(member_api: MemberApi, world: World) -> None:
    police = member_api(
        "c01",
        grants=[("person-basic", "criminal_investigation", ["full_name"])],
        kind="investigation",
        member_class="GOV",
    )
    assert police.get(PERSONS + world.person.id_number).status_code == 200
    [entry] = _entries(world.person.pk)
    assert entry.hidden_until == timezone.localdate() + dt.timedelta(days=180)


# --- consent -----------------------------------------------------------------------------


@pytest.fixture
def bank(member_api: MemberApi) -> Api:
    return member_api(
        "vcb",
        grants=[
            ("person-basic", "kyc_full_profile", list(PERSON_BASIC_FIELDS)),
            ("verify-identity", "kyc_account_opening", ["full_name", "birth_date"]),
        ],
    )


def _consent(bank: Api, person_id: int, **extra: Any) -> Consent:
    from congdan.exchange.models import ServicePurpose

    purpose = ServicePurpose.objects.get(service__code="person-basic", code="kyc_full_profile")
    return Consent.objects.create(
        person_id=person_id,
        member=bank.member,
        service=purpose.service,
        purpose=purpose,
        valid_until=extra.pop("valid_until", timezone.now() + dt.timedelta(days=30)),
        **extra,
    )


def test_consent_required_then_granted_then_revoked(bank: Api, world: World) -> None:
    url = PERSONS + world.person.id_number + "?service=person-basic"
    _error(bank.get(url, purpose="kyc_full_profile"), 403, "consent_required")
    [refused] = _entries(world.person.pk)
    assert refused.outcome == Outcome.REFUSED
    assert refused.fields == ""
    consent = _consent(bank, world.person.pk)
    response = bank.get(url, purpose="kyc_full_profile")
    assert response.status_code == 200
    assert set(response.json()["person"]) == set(PERSON_BASIC_FIELDS)
    consent.revoked_at = timezone.now()
    consent.save()
    _error(bank.get(url, purpose="kyc_full_profile"), 403, "consent_required")
    # Consent for one person does not cover another.
    _error(
        bank.get(
            PERSONS + world.neighbour.id_number + "?service=person-basic",
            purpose="kyc_full_profile",
        ),
        403,
        "consent_required",
    )


def test_expired_consent_does_not_count(bank: Api, world: World) -> None:
    _consent(bank, world.person.pk, valid_until=timezone.now() - dt.timedelta(seconds=1))
    url = PERSONS + world.person.id_number + "?service=person-basic"
    _error(bank.get(url, purpose="kyc_full_profile"), 403, "consent_required")


# --- verification --------------------------------------------------------------------------


def test_verify_answers_match_per_attribute_without_data(bank: Api, world: World) -> None:
    response = bank.post(
        VERIFY,
        {
            "id_number": world.person.id_number,
            "attributes": {"full_name": "  nguyễn   văn AN ", "birth_date": "1990-05-18"},
        },
        purpose="kyc_account_opening",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "id_number": world.person.id_number,
        "results": {"full_name": "match", "birth_date": "no_match"},
        "all_match": False,
    }
    assert "1990-05-17" not in response.content.decode()
    [entry] = _entries(world.person.pk)
    assert entry.outcome == Outcome.VERIFIED
    assert entry.view == "verify-identity"
    assert entry.fields == "full_name,birth_date"


def test_verify_without_diacritics_is_no_match(bank: Api, world: World) -> None:
    body = bank.post(
        VERIFY,
        {"id_number": world.person.id_number, "attributes": {"full_name": "Nguyen Van An"}},
        purpose="kyc_account_opening",
    ).json()
    assert body["results"] == {"full_name": "no_match"}


def test_verify_unknown_number_is_all_no_match_and_not_logged(bank: Api, world: World) -> None:
    number = world.person.id_number[:-1] + ("0" if world.person.id_number[-1] != "0" else "1")
    body = bank.post(
        VERIFY,
        {"id_number": number, "attributes": {"full_name": "Nguyễn Văn An"}},
        purpose="kyc_account_opening",
    ).json()
    assert body["results"] == {"full_name": "no_match"}
    assert not AccessLogEntry.objects.exists()


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"id_number": "1", "attributes": {"full_name": "A"}}, "invalid_id_number", 422),
        ({"id_number": "048090000001", "attributes": {}}, "no_attributes", 422),
        ({"id_number": "048090000001", "attributes": {"salary": "1"}}, "unknown_attribute", 422),
        ({"id_number": "048090000001", "attributes": {"sex": "M"}}, "field_not_allowed", 403),
        ({"id_number": "048090000001", "attributes": {"full_name": 5}}, "invalid_attribute", 422),
        ({"attributes": {"full_name": "A"}}, "invalid_request", 422),
        ("not json", "invalid_request", 422),
    ],
)
def test_bad_verify_requests(bank: Api, body: Any, code: str, status: int) -> None:
    if isinstance(body, str):
        response = bank.post(
            VERIFY, body, content_type="application/json", purpose="kyc_account_opening"
        )
    else:
        response = bank.post(VERIFY, body, purpose="kyc_account_opening")
    _error(response, status, code)
    assert not AccessLogEntry.objects.exists()


def test_verify_purpose_in_body(bank: Api, world: World) -> None:
    response = bank.post(
        VERIFY,
        {
            "id_number": world.person.id_number,
            "attributes": {"birth_date": "1990-05-17"},
            "purpose": "kyc_account_opening",
        },
        purpose="",
    )
    assert response.json()["all_match"] is True


# --- rate limits ---------------------------------------------------------------------------


def test_rate_limit_per_member_and_service_gives_429_with_retry_after(
    ministry: Api, member_api: MemberApi, world: World
) -> None:
    from congdan.exchange.models import DataService

    RateLimit.objects.create(
        member=ministry.member, service=DataService.objects.get(code="person-basic"), per_minute=3
    )
    policy.clear_caches()
    url = PERSONS + world.person.id_number
    for _ in range(3):
        assert ministry.get(url).status_code == 200
    response = ministry.get(url)
    _error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 61
    assert len(_entries(world.person.pk)) == 3
    # Another member is counted on its own.
    other = member_api(
        "moj", grants=[("person-basic", "public_service", ["full_name"])], kind="ministry"
    )
    assert other.get(url).status_code == 200


@pytest.mark.parametrize("store", ["database", "redis"])
def test_rate_counter_stores(store: str, db: None) -> None:
    import uuid

    from congdan.core.errors import RateLimited
    from congdan.exchange import ratelimit

    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    key = f"test:{uuid.uuid4().hex}"
    with override_settings(**({"CACHES": caches} if store == "redis" else {})):
        if store == "redis":
            from django.core.cache import cache

            try:
                cache.set("ping", 1)
            except Exception:  # any connection error: no Redis here
                pytest.skip("Redis is not listening on 127.0.0.1:6379")
        moment = 1_800_000_030.0
        ratelimit.hit(key, 2, now=moment)
        ratelimit.hit(key, 2, now=moment + 1)
        with pytest.raises(RateLimited) as refused:
            ratelimit.hit(key, 2, now=moment + 2)
        assert refused.value.retry_after == 29
        ratelimit.hit(key, 2, now=moment + 31)  # the next window


# --- the catalogue ---------------------------------------------------------------------


def test_catalogue_and_service_openapi_are_public(client: Client, catalogue: None) -> None:
    services = client.get("/api/v1/exchange/services").json()
    codes = [s["code"] for s in services]
    assert codes == sorted(
        [
            "card-status",
            "household",
            "person-basic",
            "person-events",
            "person-residence",
            "verify-identity",
        ]
    )
    basic = next(s for s in services if s["code"] == "person-basic")
    kyc = next(p for p in basic["purposes"] if p["code"] == "kyc_full_profile")
    assert kyc["requires_consent"] is True
    assert "Nghị định 13/2023" in kyc["legal_basis"]
    doc = client.get(basic["openapi"]).json()
    assert doc["openapi"] == "3.1.0"
    operation = doc["paths"]["/persons/{id_number}"]["get"]
    props = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert set(props["person"]["properties"]) == set(PERSON_BASIC_FIELDS)
    verify = client.get("/api/v1/exchange/services/verify-identity/openapi.json").json()
    assert "/verify" in verify["paths"]
    response = client.get("/api/v1/exchange/services/nope/openapi.json")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_service"


def test_control_characters_are_refused_not_a_500(ministry: Api, world: World) -> None:
    """PostgreSQL refuses NUL in text: such input must be a clean refusal."""
    response = Client().get("/api/v1/exchange/services/a%00b/openapi.json")
    _error(response, 404, "unknown_service")
    _error(
        ministry.get(PERSONS + world.person.id_number + "?service=a%00b"), 404, "unknown_service"
    )
    response = ministry.get(
        "/api/govstack/data/population/1.0?query.full_name=a%00b&query.birth_date=2001-03-04",
        purpose="public_service",
    )
    assert response.status_code == 422, response.content


def test_consent_purposes_do_not_reveal_which_numbers_exist(bank: Api, world: World) -> None:
    number = world.person.id_number[:-1] + ("0" if world.person.id_number[-1] != "0" else "1")
    for id_number in (world.person.id_number, number):
        response = bank.get(
            PERSONS + id_number + "?service=person-basic", purpose="kyc_full_profile"
        )
        _error(response, 403, "consent_required")
    # Only the real person's refused attempt is logged (there is no one else to log it on).
    assert [e.person_id for e in AccessLogEntry.objects.all()] == [world.person.pk]

"""Citizens' consents for member organisations: the services (own person only, purposes
that need consent, 1–365 days, audited) and the portal page /me/data/consents/; and the
demo path: a bank refused without consent, allowed after it, both in the tracker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord, Channel, Outcome
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.exchange.models import Consent, Member, MemberKind, MemberStatus
from congdan.exchange.services import consents as service
from congdan.exchange.services import grants as grant_services
from congdan.exchange.services import members
from congdan.identity.models import EidAccount
from tests.conftest import World
from tests.exchange.conftest import MemberApi, grant
from tests.exchange.test_tracker import shown_ids
from tests.identity.helpers import make_account, portal_login

pytestmark = [pytest.mark.django_db]

URL = "/me/data/consents/"
KYC_FIELDS = ("full_name", "birth_date", "sex")


@pytest.fixture
def account(world: World) -> EidAccount:
    return make_account(world.person)


@pytest.fixture
def other_account(world: World) -> EidAccount:
    return make_account(world.neighbour, phone="0912000111")


@pytest.fixture
def bank(catalogue: None) -> Member:
    member = members.register_member(
        None, code="vcb", name="Ngân hàng Ngoại thương", kind=MemberKind.BANK, member_class="COM"
    )
    grant(member, "person-basic", "kyc_full_profile", KYC_FIELDS)
    return member


def consent_for(account: EidAccount, days: int = 30) -> Consent:
    return service.grant_consent(
        account.user,
        member_code="vcb",
        service="person-basic",
        purpose="kyc_full_profile",
        days=days,
    )


# --- services ------------------------------------------------------------------------------


def test_grant_consent_for_the_own_person_is_audited(account: EidAccount, bank: Member) -> None:
    consent = consent_for(account, days=30)

    assert consent.person_id == account.person_id
    assert consent.member == bank
    assert consent.active
    assert abs(consent.valid_until - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(
        minutes=1
    )
    record = ChangeRecord.objects.get(action="exchange_consent_grant", object_id=consent.pk)
    assert record.person_id == account.person_id
    assert record.actor == account.user
    assert record.changes["member"] == [None, "vcb"]
    assert "17/2024/TT-NHNN" in record.legal_basis
    assert not AccessLogEntry.objects.filter(person_id=account.person_id).exists()


def test_granting_again_renews_the_active_consent(account: EidAccount, bank: Member) -> None:
    first = consent_for(account, days=10)
    again = consent_for(account, days=200)

    assert again.pk == first.pk
    assert Consent.objects.filter(person=account.person).count() == 1
    assert again.valid_until > timezone.now() + dt.timedelta(days=199)
    assert ChangeRecord.objects.filter(action="exchange_consent_renew", object_id=first.pk).exists()


@pytest.mark.parametrize("days", [0, 366, -1, True])
def test_period_is_one_to_365_days(account: EidAccount, bank: Member, days: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        consent_for(account, days=days)
    assert caught.value.code == "invalid_days"
    assert not Consent.objects.exists()


def test_only_purposes_that_need_consent_and_that_the_member_holds(
    account: EidAccount, bank: Member
) -> None:
    grant(bank, "card-status", "kyc_account_opening", ["card_status"])
    cases = [
        ("vcb", "card-status", "kyc_account_opening", "consent_not_applicable"),
        ("vcb", "person-residence", "kyc_full_profile", "no_grant"),
        ("vcb", "person-basic", "no_such_purpose", "unknown_purpose"),
        ("vcb", "no-such-service", "kyc_full_profile", "unknown_purpose"),
        ("nobody", "person-basic", "kyc_full_profile", "unknown_member"),
    ]
    for member_code, service_code, purpose, code in cases:
        with pytest.raises(ValidationFailed) as caught:
            service.grant_consent(
                account.user, member_code=member_code, service=service_code, purpose=purpose, days=5
            )
        assert caught.value.code == code, (member_code, service_code, purpose)
    assert not Consent.objects.exists()


def test_no_consent_to_a_suspended_member_or_a_revoked_grant(
    account: EidAccount, bank: Member
) -> None:
    Member.objects.filter(pk=bank.pk).update(status=MemberStatus.SUSPENDED)
    with pytest.raises(ValidationFailed):
        consent_for(account)
    Member.objects.filter(pk=bank.pk).update(status=MemberStatus.ACTIVE)
    grant_services.revoke_grant(None, grant_id=bank.grants.get().pk, reason="hết hợp đồng")
    with pytest.raises(ValidationFailed) as caught:
        consent_for(account)
    assert caught.value.code == "no_grant"


def test_only_citizens_consent(world: World, bank: Member) -> None:
    for actor in (world.commune_officer, None):
        with pytest.raises(PermissionDenied):
            service.grant_consent(
                actor,
                member_code="vcb",
                service="person-basic",
                purpose="kyc_full_profile",
                days=5,
            )


def test_revoke_own_consent(account: EidAccount, bank: Member) -> None:
    consent = consent_for(account)

    service.revoke_consent(account.user, consent_id=consent.pk)

    consent.refresh_from_db()
    assert consent.revoked_at is not None and not consent.active
    assert ChangeRecord.objects.filter(
        action="exchange_consent_revoke", object_id=consent.pk, person_id=account.person_id
    ).exists()
    with pytest.raises(NotFound):  # once only
        service.revoke_consent(account.user, consent_id=consent.pk)


def test_another_citizens_consent_cannot_be_revoked(
    account: EidAccount, other_account: EidAccount, bank: Member
) -> None:
    theirs = consent_for(other_account)

    with pytest.raises(NotFound):
        service.revoke_consent(account.user, consent_id=theirs.pk)

    theirs.refresh_from_db()
    assert theirs.active


# --- the page ------------------------------------------------------------------------------


def test_page_lists_offers_with_member_service_purpose_basis_and_fields(
    client: Client, account: EidAccount, bank: Member
) -> None:
    other = members.register_member(
        None, code="tel", name="Nhà mạng Thử", kind=MemberKind.TELECOM, member_class="COM"
    )
    grant(other, "card-status", "subscriber_registration", ["card_status"])  # no consent needed
    grant(bank, "person-basic", "kyc_full_profile", ["nationality"])  # a second grant: union
    http = portal_login(client, account)

    response = http.get(URL)

    assert response.status_code == 200
    offers = response.context["offers"]
    assert [o["offer"].key for o in offers] == ["vcb|person-basic|kyc_full_profile"]
    assert offers[0]["offer"].fields == ("full_name", "birth_date", "sex", "nationality")
    content = response.content.decode()
    assert "Ngân hàng Ngoại thương" in content
    assert "Thông tin cơ bản của công dân" in content
    assert "Định danh khách hàng (eKYC)" in content
    assert "Thông tư 17/2024/TT-NHNN" in content
    assert "Họ, chữ đệm và tên, Ngày sinh, Giới tính, Quốc tịch" in content
    assert "Nhà mạng Thử" not in content


def test_grant_and_revoke_through_the_page(
    client: Client, account: EidAccount, bank: Member
) -> None:
    http = portal_login(client, account)

    response = http.post(URL, {"offer": "vcb|person-basic|kyc_full_profile", "days": "60"})

    assert response.status_code == 302
    consent = Consent.objects.get(person=account.person)
    assert consent.active
    page = http.get(URL)
    assert page.context["active"] == [consent]
    assert f"/me/data/consents/{consent.pk}/revoke/" in page.content.decode()

    assert http.get(f"/me/data/consents/{consent.pk}/revoke/").status_code == 405
    assert http.post(f"/me/data/consents/{consent.pk}/revoke/").status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    page = http.get(URL)
    assert page.context["active"] == []
    assert [p["state"] for p in page.context["past"]] == ["revoked"]


@pytest.mark.parametrize(
    "data",
    [
        {"offer": "vcb|person-basic|kyc_full_profile", "days": "0"},
        {"offer": "vcb|person-basic|kyc_full_profile", "days": "366"},
        {"offer": "vcb|person-basic|kyc_full_profile", "days": "mười"},
        {"offer": "other|person-basic|kyc_full_profile", "days": "5"},
        {"offer": "", "days": "5"},
        {"offer": "a\x00b", "days": "5"},
    ],
)
def test_bad_grant_input_is_a_form_error(
    client: Client, account: EidAccount, bank: Member, data: dict[str, str]
) -> None:
    response = portal_login(client, account).post(URL, data)
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not Consent.objects.exists()


def test_revoking_another_citizens_consent_is_a_404(
    client: Client, account: EidAccount, other_account: EidAccount, bank: Member
) -> None:
    theirs = consent_for(other_account)
    http = portal_login(client, account)

    assert http.post(f"/me/data/consents/{theirs.pk}/revoke/").status_code == 404
    assert http.post("/me/data/consents/999999999/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.active
    assert theirs not in http.get(URL).context["active"]


def test_revoke_needs_the_csrf_token(account: EidAccount, bank: Member) -> None:
    consent = consent_for(account)
    http = portal_login(Client(enforce_csrf_checks=True), account)

    assert http.post(f"/me/data/consents/{consent.pk}/revoke/").status_code == 403

    consent.refresh_from_db()
    assert consent.active


def test_officers_and_strangers_are_sent_to_the_citizen_login(
    client: Client, world: World, bank: Member
) -> None:
    assert client.get(URL).status_code == 302
    client.force_login(world.commune_officer)
    assert client.get(URL).status_code == 302
    assert (
        client.post(URL, {"offer": "vcb|person-basic|kyc_full_profile", "days": "5"}).status_code
        == 302
    )
    assert not Consent.objects.exists()


# --- the demo path -------------------------------------------------------------------------


def test_bank_refused_without_consent_then_allowed_and_both_in_the_tracker(
    client: Client, member_api: MemberApi, account: EidAccount, world: World
) -> None:
    api = member_api("vcb", grants=[("person-basic", "kyc_full_profile", KYC_FIELDS)])
    lookup = f"/api/v1/exchange/persons/{world.person.id_number}?service=person-basic"

    refused = api.get(lookup)
    assert refused.status_code == 403
    assert refused.json()["code"] == "consent_required"

    http = portal_login(client, account)
    assert (
        http.post(URL, {"offer": "vcb|person-basic|kyc_full_profile", "days": "30"}).status_code
        == 302
    )

    allowed = api.get(lookup)
    assert allowed.status_code == 200, allowed.content
    assert set(allowed.json()["fields"]) == set(KYC_FIELDS)

    tracker = http.get("/me/data/access/")
    entries = AccessLogEntry.objects.filter(person=world.person, channel=Channel.EXCHANGE)
    assert sorted(entries.values_list("outcome", flat=True)) == [Outcome.OK, Outcome.REFUSED]
    assert shown_ids(tracker) == list(entries.order_by("-id").values_list("id", flat=True))
    content = tracker.content.decode()
    assert "Tổ chức vcb" in content  # the member's name, not its code
    assert "Định danh khách hàng (eKYC)" in content

    # After the citizen revokes, the bank is refused again.
    consent = Consent.objects.get(person=world.person)
    http.post(f"/me/data/consents/{consent.pk}/revoke/")
    assert api.get(lookup).json()["code"] == "consent_required"


def test_consent_page_names_services_and_purposes_in_english(
    client: Client, world: World, member_api: Any
) -> None:
    """The database keeps the catalogue's Vietnamese names; the page translates them."""
    member_api("bankx", grants=[("person-basic", "kyc_full_profile", ["full_name"])])
    http = portal_login(client, make_account(world.person))
    http.cookies["django_language"] = "en"
    page = http.get("/me/data/consents/").content.decode()
    assert "basic information" in page  # "Citizen's basic information", HTML-escaped
    assert "Thông tin cơ bản của công dân" not in page

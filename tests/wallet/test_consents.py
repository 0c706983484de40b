"""Pull consents: the services and the citizen's pages (/me/documents/consents/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.core.errors import NotFound, ValidationFailed
from congdan.identity.services import clients
from congdan.wallet.models import PullConsent
from congdan.wallet.services import consents
from tests.identity.helpers import portal_login
from tests.wallet.conftest import Family, issue

LIST = reverse("wallet:consents")


@pytest.fixture
def bank(family: Family) -> str:
    clients.create_client(
        None,
        name="Hệ thống ngân hàng",
        client_id="bank",
        client_credentials=True,
        scopes=["wallet:read"],
        organisation="Ngân hàng Thử nghiệm",
    )
    # A system without wallet:read is no requester.
    clients.create_client(
        None,
        name="Tra cứu",
        client_id="lookup",
        client_credentials=True,
        scopes=["registry:read"],
        organisation="Cơ quan tra cứu",
    )
    return "bank"


def _grant(family: Family, **changes: object) -> PullConsent:
    arguments: dict[str, object] = {
        "application_client_id": "bank",
        "doc_types": ["id_card"],
        "purpose": "Mở tài khoản",
        "days": 30,
    }
    arguments.update(changes)
    return consents.grant_consent(family.father, **arguments)  # type: ignore[arg-type]  # test helper


# --- services -------------------------------------------------------------------------------


def test_grant_and_revoke(family: Family, bank: str) -> None:
    consent = _grant(family, purpose="  Mở   tài khoản ")
    assert consent.purpose == "Mở tài khoản"
    assert consent.is_active
    assert consent.expires_at - consent.granted_at == dt.timedelta(days=30)
    assert ChangeRecord.objects.filter(action="wallet_consent_grant", person=family.father).exists()
    assert not AccessLogEntry.objects.filter(person=family.father).exists()  # own act
    consents.revoke_consent(family.father, consent_id=consent.pk)
    consent.refresh_from_db()
    assert not consent.is_active
    assert ChangeRecord.objects.filter(action="wallet_consent_revoke").exists()
    with pytest.raises(NotFound):  # already revoked
        consents.revoke_consent(family.father, consent_id=consent.pk)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"application_client_id": "lookup"}, "unknown_client"),
        ({"application_client_id": "nobody"}, "unknown_client"),
        ({"doc_types": []}, "required"),
        ({"doc_types": ["passport"]}, "unknown_doc_type"),
        ({"purpose": "  "}, "required"),
        ({"purpose": "x" * 201}, "too_long"),
        ({"days": 0}, "invalid_days"),
        ({"days": 366}, "invalid_days"),
    ],
)
def test_grant_refusals(family: Family, bank: str, changes: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _grant(family, **changes)
    assert caught.value.code == code


def test_own_issued_types_may_be_named(family: Family, bank: str) -> None:
    issue(family, holder=family.father)
    assert "birth_certificate" in consents.consent_doc_types(family.father)
    assert _grant(family, doc_types=["birth_certificate"]).doc_types == ["birth_certificate"]


def test_someone_elses_consent_is_not_found(family: Family, bank: str) -> None:
    consent = _grant(family)
    with pytest.raises(NotFound):
        consents.revoke_consent(family.neighbour_account.person, consent_id=consent.pk)


def test_requesters_are_wallet_read_systems(family: Family, bank: str) -> None:
    assert [a.client_id for a in consents.requester_clients()] == ["bank"]


# --- pages ----------------------------------------------------------------------------------


def test_pages_need_a_citizen(client: Client, family: Family, bank: str) -> None:
    assert client.get(LIST).status_code == 302
    client.force_login(family.officer)
    assert client.get(LIST).status_code == 302


def test_list_and_grant_through_the_form(client: Client, family: Family, bank: str) -> None:
    portal_login(client, family.father_account)
    page = client.get(LIST)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Ngân hàng Thử nghiệm" in content
    assert "Cơ quan tra cứu" not in content
    response = client.post(
        LIST,
        {
            "application": "bank",
            "doc_types": ["id_card", "health_insurance_card"],
            "purpose": "Mở tài khoản",
            "days": "10",
        },
    )
    assert response.status_code == 302
    consent = PullConsent.objects.get(person=family.father)
    assert consent.doc_types == ["id_card", "health_insurance_card"]
    assert "Mở tài khoản" in client.get(LIST).content.decode()


def test_bad_form_is_shown_again(client: Client, family: Family, bank: str) -> None:
    portal_login(client, family.father_account)
    response = client.post(LIST, {"application": "bank", "purpose": "", "days": "999"})
    assert response.status_code == 422
    assert not PullConsent.objects.exists()


def test_revoke_own_and_404_for_another(client: Client, family: Family, bank: str) -> None:
    mine = _grant(family)
    theirs = consents.grant_consent(
        family.neighbour_account.person,
        application_client_id="bank",
        doc_types=["id_card"],
        purpose="Vay vốn",
        days=5,
    )
    portal_login(client, family.father_account)
    revoke = "wallet:consent_revoke"
    assert client.get(reverse(revoke, args=[mine.pk])).status_code == 405
    assert client.post(reverse(revoke, args=[theirs.pk])).status_code == 404
    assert client.post(reverse(revoke, args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None
    page = client.get(LIST).content.decode()
    assert "Đã rút lại" in page
    assert "Vay vốn" not in page  # another citizen's consent is never listed


def test_expired_consent_is_listed_as_expired(client: Client, family: Family, bank: str) -> None:
    consent = _grant(family)
    PullConsent.objects.filter(pk=consent.pk).update(expires_at=timezone.now())
    portal_login(client, family.father_account)
    assert "Hết hạn" in client.get(LIST).content.decode()

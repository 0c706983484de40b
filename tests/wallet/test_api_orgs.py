"""The organisations' wallet API: issuers push and change status, requesters pull with
the citizen's consent. Tokens are real client-credentials tokens from our /o/token/.

Design choice tested here: another agency's document is a 404 ``document_not_found``
(the same answer as a number nobody issued), never a 403 that would confirm it exists.
A pull without consent is a 403 ``no_consent``, also for an unknown ID number.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from congdan.audit.models import AccessLogEntry, Channel
from congdan.core.models import AgencyKind
from congdan.identity.services import clients
from congdan.wallet import selectors
from congdan.wallet.models import Document, DocumentEvent, DocumentStatus, EventKind
from congdan.wallet.services import consents
from tests import factories
from tests.conftest import World

SECRET = "wallet-system-secret-for-tests-0123456789"
DOCS = "/api/v1/wallet/documents"


def _basic(client_id: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{SECRET}".encode()).decode()


def _token(http: Client, client_id: str, scope: str) -> str:
    response = http.post(
        "/o/token/",
        f"grant_type=client_credentials&scope={scope}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=_basic(client_id),
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def _system(client_id: str, scopes: list[str], agency: Any = None, org: str = "") -> str:
    clients.create_client(
        None,
        name=client_id,
        client_id=client_id,
        client_secret=SECRET,
        client_credentials=True,
        scopes=scopes,
        organisation=org or client_id,
        agency=agency,
    )
    return client_id


class Api:
    def __init__(self, http: Client, token: str) -> None:
        self.http, self.token = http, token

    def _auth(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def post(self, url: str, body: Any) -> Any:
        data = body if isinstance(body, str) else json.dumps(body)
        return self.http.post(url, data, content_type="application/json", **self._auth())

    def get(self, url: str, **extra: Any) -> Any:
        return self.http.get(url, **self._auth(), **extra)


@pytest.fixture
def issuer(world: World, client: Client) -> Api:
    agency = factories.make_agency(None, kind=AgencyKind.POLICE)
    _system("issuer-a", ["wallet:issue"], agency=agency)
    return Api(client, _token(client, "issuer-a", "wallet:issue"))


@pytest.fixture
def other_issuer(world: World) -> Api:
    http = Client()
    _system("issuer-b", ["wallet:issue"], agency=factories.make_agency(None))
    return Api(http, _token(http, "issuer-b", "wallet:issue"))


@pytest.fixture
def requester(world: World) -> Api:
    http = Client()
    _system("bank", ["wallet:read"], org="Ngân hàng Thử nghiệm")
    return Api(http, _token(http, "bank", "wallet:read"))


def _push(api: Api, world: World, **changes: Any) -> Any:
    body: dict[str, Any] = {
        "holder_id_number": world.person.id_number,
        "doc_type": "driving_licence",
        "data": {"full_name": world.person.full_name, "licence_class": "B"},
        "valid_until": str(timezone.localdate() + dt.timedelta(days=3650)),
        "source_ref": "GPLX-1",
    }
    body.update(changes)
    return api.post(DOCS, body)


def _assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]


# --- issuers --------------------------------------------------------------------------------


def test_push_reaches_the_citizen(issuer: Api, world: World) -> None:
    response = _push(issuer, world)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "valid"
    assert body["credential_format"] == "dc+sd-jwt"
    document = Document.objects.get(number=body["number"])
    assert document.credential == body["credential"]
    assert document.integrated  # a known integrated type
    assert document.title_vi == "Giấy phép lái xe"
    assert document in selectors.documents_for_citizen(world.person)
    verdict = selectors.verify_document(document)
    assert verdict is not None
    assert verdict.valid
    event = DocumentEvent.objects.get(document=document)
    assert event.kind == EventKind.ISSUED
    assert event.actor_label == "client:issuer-a"


def test_status_changes_by_the_issuer(issuer: Api, world: World) -> None:
    number = _push(issuer, world).json()["number"]
    url = f"{DOCS}/{number}"
    response = issuer.post(f"{url}/suspend", {"reason": "Đang xác minh"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"
    _assert_error(issuer.post(f"{url}/suspend", {"reason": "lại"}), 409, "not_valid")
    assert issuer.post(f"{url}/reinstate", {"reason": "Xong"}).json()["status"] == "valid"
    assert issuer.post(f"{url}/revoke", {"reason": "Thu hồi"}).json()["status"] == "revoked"
    read = issuer.get(url)
    assert read.status_code == 200
    assert read.json()["status"] == "revoked"
    assert read.json()["holder_id_number"] == world.person.id_number
    # The issuer system read a citizen's document: on the citizen's access log.
    entry = AccessLogEntry.objects.get(person=world.person, view="wallet_issuer_read")
    assert entry.actor_label.startswith("client:") and entry.purpose == "document_status"
    document = Document.objects.get(number=number)
    assert document.status == DocumentStatus.REVOKED
    assert document.revocation_reason == "Thu hồi"


def test_another_agency_gets_404(issuer: Api, other_issuer: Api, world: World) -> None:
    number = _push(issuer, world).json()["number"]
    _assert_error(other_issuer.get(f"{DOCS}/{number}"), 404, "document_not_found")
    response = other_issuer.post(f"{DOCS}/{number}/revoke", {"reason": "không phải của tôi"})
    _assert_error(response, 404, "document_not_found")
    assert Document.objects.get(number=number).status == DocumentStatus.VALID


def test_token_without_wallet_issue_is_403(requester: Api, world: World) -> None:
    _assert_error(_push(requester, world), 403, "insufficient_scope")


def test_missing_expired_or_invalid_token_is_401(issuer: Api, world: World) -> None:
    _assert_error(
        issuer.http.post(DOCS, "{}", content_type="application/json"), 401, "unauthenticated"
    )
    _assert_error(Api(issuer.http, "not-a-token").post(DOCS, {}), 401, "unauthenticated")
    get_access_token_model().objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    _assert_error(_push(issuer, world), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "invalid_request"),
        ('"a string"', "invalid_request"),
        ({"holder_id_number": "12", "doc_type": "x"}, "invalid_request"),
        ({"holder_id_number": "048090000001", "doc_type": "x", "data": [1]}, "invalid_request"),
        (
            {"holder_id_number": "048090000001", "doc_type": "x", "valid_until": "soon"},
            "invalid_request",
        ),
    ],
)
def test_bad_bodies_are_422(issuer: Api, body: Any, code: str) -> None:
    _assert_error(issuer.post(DOCS, body), 422, code)


def test_domain_validation_is_422(issuer: Api, world: World) -> None:
    past = str(timezone.localdate() - dt.timedelta(days=1))
    _assert_error(_push(issuer, world, valid_until=past), 422, "date_in_past")
    _assert_error(_push(issuer, world, doc_type="Bad-Type"), 422, "invalid_doc_type")
    _assert_error(_push(issuer, world, doc_type="permit"), 422, "required")  # no titles
    _assert_error(_push(issuer, world, data={"iss": "x"}), 422, "reserved_field")
    _assert_error(_push(issuer, world, holder_id_number="099999999999"), 404, "holder_not_found")
    _assert_error(issuer.post(f"{DOCS}/NOPE-1/revoke", {"reason": "x"}), 404, "document_not_found")
    _assert_error(issuer.post(f"{DOCS}/NOPE-1/revoke", {"reason": ""}), 422, "invalid_request")


# --- requesters -----------------------------------------------------------------------------


def _pull(api: Api, world: World, purpose: str = "Mở tài khoản", **extra: Any) -> Any:
    url = f"/api/v1/wallet/holders/{world.person.id_number}/documents?doc_type=driving_licence"
    if purpose:
        url += f"&purpose={purpose}"
    return api.get(url, **extra)


def test_pull_needs_consent(issuer: Api, requester: Api, world: World) -> None:
    number = _push(issuer, world).json()["number"]
    _assert_error(_pull(requester, world), 403, "no_consent")
    consent = consents.grant_consent(
        world.person,
        application_client_id="bank",
        doc_types=["driving_licence"],
        purpose="Mở tài khoản",
        days=30,
    )
    response = _pull(requester, world)
    assert response.status_code == 200, response.content
    (item,) = response.json()
    assert item["number"] == number
    assert item["status"] == "valid"
    assert item["credential"] == Document.objects.get(number=number).credential
    entry = AccessLogEntry.objects.get(person=world.person, view="wallet_pull")
    assert entry.channel == Channel.WALLET
    assert entry.fields == "driving_licence"
    assert entry.purpose == "Mở tài khoản"
    assert entry.actor_label == "client:bank"
    assert entry.organisation == "Ngân hàng Thử nghiệm"
    assert DocumentEvent.objects.filter(document__number=number, kind=EventKind.PULLED).count() == 1
    # The purpose may come in X-Purpose.
    assert _pull(requester, world, purpose="", HTTP_X_PURPOSE="Mở tài khoản").status_code == 200
    _assert_error(_pull(requester, world, purpose="Cho vay"), 403, "no_consent")
    consents.revoke_consent(world.person, consent_id=consent.pk)
    _assert_error(_pull(requester, world), 403, "no_consent")


def test_pull_of_unknown_person_or_type_is_no_consent(requester: Api, world: World) -> None:
    consents.grant_consent(
        world.person,
        application_client_id="bank",
        doc_types=["id_card"],
        purpose="Mở tài khoản",
        days=1,
    )
    _assert_error(_pull(requester, world), 403, "no_consent")  # consent for id_card only
    response = requester.get(
        "/api/v1/wallet/holders/099999999999/documents?doc_type=id_card&purpose=x"
    )
    _assert_error(response, 403, "no_consent")
    _assert_error(
        requester.get(f"/api/v1/wallet/holders/{world.person.id_number}/documents"),
        422,
        "invalid_request",
    )


def test_issuer_cannot_pull(issuer: Api, world: World) -> None:
    _assert_error(_pull(issuer, world), 403, "insufficient_scope")

"""The public verifier: the page, the share link page, the API, and what a verification
writes (an access-log entry on the holder, a VERIFIED event on the document)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, Channel
from congdan.wallet import credentials, keys, services, verification
from congdan.wallet.models import Document, DocumentEvent, EventKind, Share
from tests.wallet.conftest import Family
from tests.wallet.test_verifier import PORTRAIT, id_card, make_c06, present

VERIFY = reverse("wallet:verify")
API = "/api/v1/verify/"


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Verifications are counted per address in the cache (the rate limit): start from zero."""
    cache.clear()
    yield
    cache.clear()


def make_share(
    document: Document,
    claims: list[str],
    *,
    minutes: int = 30,
    presentation_minutes: int | None = None,
) -> Share:
    """A share as the sharing service makes one: aud = its URL, nonce = its token."""
    token = secrets.token_urlsafe(24)
    expires_at = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=minutes)
    presentation = credentials.present(
        document,
        claims=claims,
        aud=verification.share_url(token),
        nonce=token,
        expires_at=(
            expires_at
            if presentation_minutes is None
            else timezone.now() + dt.timedelta(minutes=presentation_minutes)
        ),
    )
    return Share.objects.create(
        token=token,
        document=document,
        shared_by=document.holder,
        claims=claims,
        presentation=presentation,
        fits_qr=len(presentation) <= credentials.QR_MAX,
        expires_at=expires_at,
    )


def _verified_events(document: Document) -> list[DocumentEvent]:
    return list(DocumentEvent.objects.filter(document=document, kind=EventKind.VERIFIED))


def _wallet_log() -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(channel=Channel.WALLET, view="wallet_verify"))


# --- the page -------------------------------------------------------------------------


def test_the_page_shows_a_form(client: Client, family: Family) -> None:
    response = client.get(VERIFY)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="presentation"' in html and "csrfmiddlewaretoken" in html
    assert reverse("wallet:verify_offline") in html


def test_a_valid_presentation_on_the_page(client: Client, family: Family) -> None:
    document = id_card(family.father, portrait=True)
    text = present(document, ["full_name", "birth_date", "portrait"])
    response = client.post(VERIFY, {"presentation": text, "verifier": "Khách sạn Sông Hàn"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hợp lệ" in html and "Không hợp lệ" not in html
    assert family.father.full_name in html
    assert family.father.birth_date.strftime("%d/%m/%Y") in html
    assert f'src="{PORTRAIT}"' in html
    assert "Thẻ căn cước" in html  # the document type
    assert document.number in html
    assert document.issuer.name in html
    assert "Họ, chữ đệm và tên" in html  # labels, not codes
    # Nothing undisclosed.
    for hidden in ("address", "home_town", "id_number"):
        assert document.data[hidden] not in html, hidden
    # Logged for the holder, with the verifier's name and only the disclosed fields.
    entry = AccessLogEntry.objects.get(channel=Channel.WALLET, view="wallet_verify")
    assert entry.person_id == family.father.pk
    assert entry.actor is None
    assert entry.actor_label == "verifier:Khách sạn Sông Hàn"
    assert entry.purpose == "verification"
    assert set(entry.fields.split(",")) == {"full_name", "birth_date", "portrait"}
    (event,) = _verified_events(document)
    assert event.detail["result"] == "valid"
    assert set(event.detail["claims"]) == {"full_name", "birth_date", "portrait"}
    assert event.share is None


def test_a_revoked_document_on_the_page(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    services.change_status(
        actor=None,
        actor_label="test",
        agency_id=document.issuer_id,
        number=document.number,
        change="revoke",
        reason="Mất thẻ",
    )
    response = client.post(VERIFY, {"presentation": text})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Không hợp lệ" in html
    assert "Giấy tờ đã bị cơ quan cấp thu hồi." in html
    assert family.father.full_name not in html
    (event,) = _verified_events(document)
    assert event.detail["result"] == "revoked"
    assert _wallet_log()[0].actor_label == "verifier:anonymous"


def test_malformed_input_on_the_page_writes_nothing(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    for bad in (text[:40], "xin chào", "a.b.c~", "\u00ff" * 50):
        response = client.post(VERIFY, {"presentation": bad})
        assert response.status_code == 400
        html = response.content.decode()
        assert "Không đọc được dữ liệu" in html
    response = client.post(VERIFY, {"presentation": ""})
    assert response.status_code == 400
    assert "Dán nội dung mã QR" in response.content.decode()
    response = client.post(VERIFY, {"presentation": "x" * (verification.MAX_INPUT + 1)})
    assert response.status_code == 400
    assert "quá dài" in response.content.decode()
    assert not _wallet_log()
    assert not _verified_events(document)


def test_a_share_link_pasted_on_the_page(client: Client, family: Family) -> None:
    document = id_card(family.father)
    share = make_share(document, ["full_name"])
    response = client.post(VERIFY, {"presentation": verification.share_url(share.token)})
    assert response.status_code == 200
    assert family.father.full_name in response.content.decode()
    (event,) = _verified_events(document)
    assert event.share == share


# --- the share link page --------------------------------------------------------------


def test_an_active_share_link(client: Client, family: Family) -> None:
    document = id_card(family.father)
    share = make_share(document, ["full_name", "birth_date"])
    url = reverse("wallet:share_link", args=[share.token])
    assert settings.CONGDAN_PUBLIC_URL + url == verification.share_url(share.token)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hợp lệ" in html
    assert family.father.full_name in html
    assert document.data["address"] not in html
    (event,) = _verified_events(document)
    assert event.share == share
    assert event.detail == {
        "result": "valid",
        "claims": ["full_name", "birth_date"],
        "channel": "link",
    }
    assert len(_wallet_log()) == 1


def test_a_revoked_share_link_shows_no_data(client: Client, family: Family) -> None:
    document = id_card(family.father)
    share = make_share(document, ["full_name"])
    share.revoked_at = timezone.now()
    share.save()
    response = client.get(reverse("wallet:share_link", args=[share.token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Không hợp lệ" in html
    assert "Người giữ giấy tờ đã thu hồi lượt chia sẻ này." in html
    assert family.father.full_name not in html
    (event,) = _verified_events(document)
    assert event.detail["result"] == "share_revoked"
    # The QR content of the same share, pasted on the page: the same answer.
    response = client.post(VERIFY, {"presentation": share.presentation})
    assert "Người giữ giấy tờ đã thu hồi lượt chia sẻ này." in response.content.decode()


def test_an_expired_share_link_shows_no_data(client: Client, family: Family) -> None:
    document = id_card(family.father)
    share = make_share(document, ["full_name"], presentation_minutes=60)
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get(reverse("wallet:share_link", args=[share.token]))
    html = response.content.decode()
    assert "Lượt chia sẻ này đã hết hạn." in html
    assert family.father.full_name not in html
    # Expired by its own key-binding exp, too.
    old = make_share(document, ["full_name"], presentation_minutes=-10)
    response = client.get(reverse("wallet:share_link", args=[old.token]))
    assert "Lượt chia sẻ này đã hết hạn." in response.content.decode()


def test_an_unknown_share_link_is_not_found(client: Client, family: Family) -> None:
    response = client.get(reverse("wallet:share_link", args=["no-such-token-here"]))
    assert response.status_code == 404
    assert "Không tìm thấy lượt chia sẻ" in response.content.decode()
    assert not DocumentEvent.objects.filter(kind=EventKind.VERIFIED).exists()


def test_a_presentation_for_an_unknown_share_of_ours_is_refused(
    client: Client, family: Family
) -> None:
    document = id_card(family.father)
    token = "A" * 32
    text = credentials.present(
        document,
        claims=["full_name"],
        aud=verification.share_url(token),
        nonce=token,
        expires_at=None,
    )
    verdict = verification.verify_presentation(text, channel_label="test")
    assert (verdict.valid, verdict.code) == (False, "wrong_audience")


# --- the API --------------------------------------------------------------------------


def _api(client: Client, body: Any) -> Any:
    return client.post(API, data=json.dumps(body), content_type="application/json")


def test_the_api_verifies(client: Client, family: Family) -> None:
    document = id_card(family.father)
    response = _api(client, {"presentation": present(document, ["full_name"]), "verifier": "VNA"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is True and body["code"] == "valid"
    assert body["claims"] == {"full_name": family.father.full_name}
    assert body["document_number"] == document.number
    assert body["status"] == "valid"
    assert {c["name"] for c in body["checks"]} >= {"signature", "disclosures", "holder", "status"}
    assert _wallet_log()[0].actor_label == "verifier:VNA"


def test_the_api_says_revoked(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    services.change_status(
        actor=None,
        actor_label="t",
        agency_id=document.issuer_id,
        number=document.number,
        change="revoke",
        reason="Mất thẻ",
    )
    body = _api(client, {"presentation": text}).json()
    assert (body["valid"], body["code"], body["claims"]) == (False, "revoked", {})


def test_the_api_on_bad_input(client: Client, family: Family) -> None:
    make_c06()
    response = _api(client, {"presentation": "not a presentation"})
    assert response.status_code == 200
    assert response.json()["code"] == "malformed"
    assert response.json()["valid"] is False
    for body, status, code in (
        ({}, 422, "invalid_request"),
        ({"presentation": 12}, 422, "invalid_request"),
        ({"presentation": ""}, 422, "required"),
        ({"presentation": "x" * (verification.MAX_INPUT + 1)}, 422, "too_large"),
    ):
        response = _api(client, body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["code"] == code
        assert response.json()["message"]
    response = client.post(API, data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "message"}
    # Bigger than Django accepts at all: still a JSON 4xx.
    response = client.post(
        API, data=json.dumps({"presentation": "x" * 3_000_000}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert not _wallet_log()


def test_the_api_needs_no_credentials_and_no_csrf(family: Family) -> None:
    document = id_card(family.father)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        API,
        data=json.dumps({"presentation": present(document, ["full_name"])}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["valid"] is True


# --- the offline page -----------------------------------------------------------------


def test_the_offline_page_lists_our_issuers(client: Client, family: Family) -> None:
    document = id_card(family.father)
    response = client.get(reverse("wallet:verify_offline"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "wallet/offline-verifier.js" in html
    raw = re.search(r'<script id="offline-config"[^>]*>(.*?)</script>', html, re.S)
    assert raw is not None
    config = json.loads(raw.group(1))
    issuers = {i["iss"]: i for i in config["issuers"]}
    iss = keys.issuer_id(document.issuer)
    assert issuers[iss]["jwks_uri"] == keys.jwks_uri(document.issuer)
    assert issuers[iss]["status_lists"] == [
        keys.status_list_uri(document.issuer, document.status_list.number)
    ]
    assert config["labels"]["full_name"] == "Họ, chữ đệm và tên"
    assert "trạng thái chưa kiểm tra (ngoại tuyến)" in config["strings"]["status_offline"]


def test_a_method_the_api_route_lacks_is_a_json_405(db: None) -> None:
    """ninja's own plain-text 405 becomes {"code","message"} with its Allow header."""
    response = Client().get("/api/v1/verify/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"

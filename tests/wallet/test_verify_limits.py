"""Limits on the public verifier: a per-address rate limit on the page, the share links and
the API; repeated identical verifications logged once; the verifier's free-text name
checked; and nothing about the document shown when a share was withdrawn, has expired or
is not ours."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, Channel
from congdan.wallet import credentials, services, verification
from congdan.wallet.models import Document, DocumentEvent, EventKind, Share
from tests.wallet.conftest import Family
from tests.wallet.test_verifier import id_card, present
from tests.wallet.test_verify_views import make_share

VERIFY = reverse("wallet:verify")
API = "/api/v1/verify/"


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """The per-address counters live in the cache: start every test from zero."""
    cache.clear()
    yield
    cache.clear()


def _api(client: Client, body: Any, **extra: Any) -> Any:
    return client.post(API, data=json.dumps(body), content_type="application/json", **extra)


def _events(document: Document) -> list[DocumentEvent]:
    return list(DocumentEvent.objects.filter(document=document, kind=EventKind.VERIFIED))


def _log() -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(channel=Channel.WALLET, view="wallet_verify"))


# --- rate limit -----------------------------------------------------------------------


def test_the_page_is_rate_limited_per_address(
    client: Client, family: Family, settings: Any
) -> None:
    settings.WALLET_VERIFY_RATE = 3
    document = id_card(family.father)
    text = present(document, ["full_name"])
    for _ in range(3):
        assert client.post(VERIFY, {"presentation": text}).status_code == 200
    response = client.post(VERIFY, {"presentation": text})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert "Quá nhiều lượt xác minh" in html
    assert family.father.full_name not in html
    # Bad input counts too: it is the requests that are limited.
    assert client.post(VERIFY, {"presentation": ""}).status_code == 429
    # Showing the form is not verifying.
    assert client.get(VERIFY).status_code == 200
    # Another address has its own allowance.
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post(VERIFY, {"presentation": text}).status_code == 200


def test_share_links_are_rate_limited(client: Client, family: Family, settings: Any) -> None:
    settings.WALLET_VERIFY_RATE = 2
    share = make_share(id_card(family.father), ["full_name"])
    url = reverse("wallet:share_link", args=[share.token])
    assert client.get(url).status_code == 200
    assert client.get(reverse("wallet:share_link", args=["no-such-token-x"])).status_code == 404
    response = client.get(url)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Quá nhiều lượt xác minh" in response.content.decode()
    assert len(_events(share.document)) == 1


def test_the_api_is_rate_limited(client: Client, family: Family, settings: Any) -> None:
    settings.WALLET_VERIFY_RATE = 2
    text = present(id_card(family.father), ["full_name"])
    assert _api(client, {"presentation": text}).status_code == 200
    assert _api(client, {"presentation": text}).status_code == 200
    response = _api(client, {"presentation": text})
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert "thử lại sau" in body["message"]
    assert set(body) == {"code", "message"}
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_limit_counts_page_link_and_api_together(
    client: Client, family: Family, settings: Any
) -> None:
    settings.WALLET_VERIFY_RATE = 2
    share = make_share(id_card(family.father), ["full_name"])
    assert client.get(reverse("wallet:share_link", args=[share.token])).status_code == 200
    assert _api(client, {"presentation": share.presentation}).status_code == 200
    assert client.post(VERIFY, {"presentation": share.presentation}).status_code == 429


def test_an_ipv6_subscriber_is_counted_by_its_64(
    client: Client, family: Family, settings: Any
) -> None:
    settings.WALLET_VERIFY_RATE = 2
    text = present(id_card(family.father), ["full_name"])
    for n in (1, 2):
        assert _api(client, {"presentation": text}, REMOTE_ADDR=f"2001:db8:1:2::{n}").status_code
    response = _api(client, {"presentation": text}, REMOTE_ADDR="2001:db8:1:2:ffff::3")
    assert response.status_code == 429
    response = _api(client, {"presentation": text}, REMOTE_ADDR="2001:db8:1:3::1")
    assert response.status_code == 200


def test_the_rate_setting_has_a_default(settings: Any) -> None:
    if hasattr(settings, "WALLET_VERIFY_RATE"):
        del settings.WALLET_VERIFY_RATE
    assert verification._rate() == verification.DEFAULT_RATE == 60
    settings.WALLET_VERIFY_RATE = "oops"
    assert verification._rate() == 60
    settings.WALLET_VERIFY_RATE = 5
    for _ in range(5):
        assert verification.throttle("198.51.100.7") == 0
    assert verification.throttle("198.51.100.7") > 0
    assert verification.throttle("198.51.100.8") == 0


# --- repeated verifications -----------------------------------------------------------


def test_a_repeated_verification_is_counted_not_logged_again(
    client: Client, family: Family
) -> None:
    document = id_card(family.father)
    share = make_share(document, ["full_name"])
    url = reverse("wallet:share_link", args=[share.token])
    for _ in range(4):  # a link-preview bot, then the person, then reloads
        assert client.get(url).status_code == 200
    (event,) = _events(document)
    assert event.detail["repeats"] == 3
    assert len(_log()) == 1
    # Another verifier name, another result or other fields: a new entry.
    client.post(VERIFY, {"presentation": share.presentation, "verifier": "Khách sạn A"})
    text = present(document, ["full_name", "birth_date"])
    client.post(VERIFY, {"presentation": text})
    client.post(VERIFY, {"presentation": text})
    share.revoked_at = timezone.now()
    share.save()
    client.get(url)
    results = sorted(
        (e.actor_label, e.detail["result"], e.detail.get("repeats", 0)) for e in _events(document)
    )
    assert results == [
        ("verifier:Khách sạn A", "valid", 0),
        ("verifier:anonymous", "share_revoked", 0),
        ("verifier:anonymous", "valid", 1),
        ("verifier:anonymous", "valid", 3),
    ]
    assert len(_log()) == 4


def test_after_a_minute_the_same_verification_is_logged_again(
    client: Client, family: Family
) -> None:
    document = id_card(family.father)
    share = make_share(document, ["full_name"])
    url = reverse("wallet:share_link", args=[share.token])
    client.get(url)
    DocumentEvent.objects.filter(document=document).update(
        at=timezone.now() - dt.timedelta(seconds=61)
    )
    client.get(url)
    assert len(_events(document)) == 2
    assert len(_log()) == 2


# --- the verifier's name --------------------------------------------------------------


def test_the_verifier_name_is_cleaned() -> None:
    assert verification.clean_label("  Khách   sạn \u00a0 Sông Hàn ") == "Khách sạn Sông Hàn"
    assert verification.clean_label("") == ""
    assert verification.clean_label(None) == ""
    assert verification.clean_label("x" * 120) == "x" * 120
    assert verification.clean_label(" " * 50 + "x" * 120 + " " * 50) == "x" * 120
    for bad in ("a\x00b", "a\nb", "a\tb", "\x1b[31mred", "a\u202eb", "x" * 121, 12):
        with pytest.raises(verification.ValidationFailed) as caught:
            verification.clean_label(bad)
        assert caught.value.code == "invalid_request"
        assert caught.value.field == "verifier"


def test_a_bad_verifier_name_on_the_page(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    response = client.post(VERIFY, {"presentation": text, "verifier": "Khách\x00sạn"})
    assert response.status_code == 400
    assert "ký tự điều khiển" in response.content.decode()
    response = client.post(VERIFY, {"presentation": text, "verifier": "x" * 121})
    assert response.status_code == 400
    assert "dài quá 120 ký tự" in response.content.decode()
    assert not _log() and not _events(document)
    response = client.post(VERIFY, {"presentation": text, "verifier": "  Khách   sạn  A "})
    assert response.status_code == 200
    assert _log()[0].actor_label == "verifier:Khách sạn A"
    assert 'value="Khách sạn A"' in response.content.decode()


def test_a_bad_verifier_name_in_the_api(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    for bad in ("Khách\x00sạn", "a\r\nb", "x" * 121, "\u202eevil"):
        response = _api(client, {"presentation": text, "verifier": bad})
        assert response.status_code == 422, bad
        body = response.json()
        assert body["code"] == "invalid_request"
        assert "Tên đơn vị xác minh" in body["message"]
    assert not _log() and not _events(document)
    assert _api(client, {"presentation": text, "verifier": " V  N A "}).status_code == 200
    assert _log()[0].actor_label == "verifier:V N A"


def test_the_service_refuses_a_bad_name_too(family: Family) -> None:
    share = make_share(id_card(family.father), ["full_name"])
    with pytest.raises(verification.ValidationFailed):
        verification.verify_share(share.token, verifier_label="a\x00b")
    with pytest.raises(verification.ValidationFailed):
        verification.verify_presentation(
            share.presentation, channel_label="t", verifier_label="y" * 200
        )
    assert not _log()


# --- nothing about the document for a withdrawn, expired or foreign share -----------------


def _leaks(html: str, document: Document) -> list[str]:
    found = [
        value
        for value in (
            document.number,
            document.issuer.name,
            "Thẻ căn cước",
            "01/07/2024",
            "01/01/2040",
            document.holder.full_name,
        )
        if value in html
    ]
    labels = (
        "Thông tin giấy tờ",
        "Số giấy tờ",
        "Bên cấp",
        "Ngày cấp",
        "Người xuất trình là chủ giấy tờ",
        "Chữ ký số của bên cấp",
        "Trạng thái",
    )
    return found + [label for label in labels if label in html]


def _revoked_share(document: Document) -> Share:
    share = make_share(document, ["full_name"])
    share.revoked_at = timezone.now()
    share.save()
    return share


def _expired_share(document: Document) -> Share:
    share = make_share(document, ["full_name"], presentation_minutes=60)
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    share.refresh_from_db()
    return share


def _foreign_share(document: Document) -> Share:
    """A share of ours whose presentation is addressed elsewhere."""
    share = make_share(document, ["full_name"])
    share.presentation = present(document, ["full_name"])
    share.save()
    return share


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_revoked_share, "share_revoked"),
        (_expired_share, "presentation_expired"),
        (_foreign_share, "wrong_audience"),
    ],
)
def test_a_failed_share_shows_only_the_verdict(
    client: Client, family: Family, make: Any, code: str
) -> None:
    document = id_card(family.father)
    share = make(document)
    response = client.get(reverse("wallet:share_link", args=[share.token]))
    html = response.content.decode()
    assert f'data-code="{code}"' in html
    assert "Không hợp lệ" in html
    assert _leaks(html, document) == []
    # Still written to the holder's history.
    assert {e.detail["result"] for e in _events(document)} == {code}
    if code == "wrong_audience":
        return  # pasted, it is a presentation for someone else: verified as such
    # The same presentation pasted on the page, and sent to the API.
    response = client.post(VERIFY, {"presentation": share.presentation})
    html = response.content.decode()
    assert f'data-code="{code}"' in html
    assert _leaks(html, document) == []
    body = _api(client, {"presentation": share.presentation}).json()
    assert (body["valid"], body["code"]) == (False, code)
    assert body["document_number"] == body["issuer"] == body["issuer_name"] == body["vct"] == ""
    assert body["issued_at"] is body["expires_at"] is None
    assert body["claims"] == {}
    assert {c["name"] for c in body["checks"]} <= {"share"}


def test_an_unknown_share_of_ours_pasted_shows_only_the_verdict(
    client: Client, family: Family
) -> None:
    document = id_card(family.father)
    token = "B" * 32
    text = credentials.present(
        document,
        claims=["full_name"],
        aud=verification.share_url(token),
        nonce=token,
        expires_at=None,
    )
    response = client.post(VERIFY, {"presentation": text})
    html = response.content.decode()
    assert 'data-code="wrong_audience"' in html
    assert _leaks(html, document) == []


def test_other_failures_still_show_the_document(client: Client, family: Family) -> None:
    """A revoked document is not a withdrawn share: the verifier sees which document."""
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
    response = client.post(VERIFY, {"presentation": text})
    html = response.content.decode()
    assert document.number in html
    assert family.father.full_name not in html

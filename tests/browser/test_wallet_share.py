"""End to end in a real browser: a citizen shares only the name and photo of their
driving licence, and a verifier who opens the link sees exactly those two fields.

The citizen logs in through the portal's own OIDC flow (password + SMS code, real pages),
opens "Giấy tờ của tôi", the licence card, ticks "Họ, chữ đệm và tên" and "Ảnh chân
dung", shares for an hour, and copies the link. The verifier opens it in a fresh browser
context (no session, no cookies): the verdict is valid, the name and the photo are shown,
and the licence number, address and birth date are nowhere on the page.

Same browser rules as test_officer_flow.py (Debian's chromium, skipped without it unless
CONGDAN_REQUIRE_BROWSER=1). The link page is ``wallet:share_link`` (/v/<token>/).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from congdan.wallet.models import Share
from tests.browser.helpers import citizen_login, new_page
from tests.browser.test_officer_flow import CHROMIUM, CHROMIUM_ARGS, _sync_playwright
from tests.wallet import conftest as wallet_conftest
from tests.wallet.test_sharing import driving_licence

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.wallet.conftest import Family

family = wallet_conftest.family  # the fixture: a father with an e-ID account, his child


def _new_page(browser: Browser) -> Page:
    return new_page(browser)


def _citizen_login(page: Page, base: str, family: Family) -> None:
    citizen_login(page, base, id_number=family.father.id_number, phone=family.father_account.phone)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_share_name_and_photo_of_a_driving_licence(
    live_server: Any,
    family: Family,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync_playwright = _sync_playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CONGDAN_PUBLIC_URL = live_server.url  # issuer ids and share links on this host
    base = live_server.url
    licence = driving_licence(family)
    hidden = {
        "licence number": licence.data["licence_number"],
        "address": licence.data["address"],
        "birth date": family.father.birth_date.strftime("%d/%m/%Y"),
    }

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # 1. The citizen logs in and opens the licence from its card.
            citizen = _new_page(browser)
            _citizen_login(citizen, base, family)
            citizen.get_by_role("link", name="Giấy tờ của tôi").first.click()
            citizen.wait_for_url("**/me/documents/")
            card = citizen.locator("a.wallet-card", has_text="Giấy phép lái xe")
            assert family.father.full_name.upper() in card.inner_text().upper()
            card.click()
            citizen.wait_for_url(f"**/me/documents/{licence.number}/")
            assert "Chữ ký số hợp lệ" in citizen.locator("main").inner_text()

            # 2. Ticks only the name and the photo, shares for an hour.
            share_form = citizen.locator("form", has=citizen.locator("input[name=claims]"))
            share_form.get_by_label("Họ, chữ đệm và tên", exact=True).check()
            share_form.get_by_label("Ảnh chân dung", exact=True).check()
            share_form.get_by_label("Thời hạn").select_option("60")
            share_form.get_by_role("button", name="Chia sẻ").click()
            citizen.wait_for_url(f"**/me/documents/{licence.number}/shares/*/")
            share = Share.objects.get()
            assert share.claims == ["full_name", "portrait"]
            assert citizen.locator(".share-qr svg").count() == 1
            link = citizen.locator("#share-link").get_attribute("href")
            assert link == base + reverse("wallet:share_link", args=[share.token])

            # 3. The verifier opens the link in a fresh context and sees exactly those two.
            verifier = _new_page(browser)
            verifier.goto(link)
            main = verifier.locator("main")
            text = main.inner_text()
            assert "Hợp lệ" in text, text
            assert family.father.full_name in text
            photos = main.locator("img[src^='data:image/jpeg;base64,']")
            assert photos.count() == 1
            assert photos.first.get_attribute("alt")
            for what, value in hidden.items():
                assert value not in text, f"the {what} is shown to the verifier"
            assert licence.data["licence_number"] not in verifier.content()
            assert licence.data["address"] not in verifier.content()
        finally:
            browser.close()

"""The offline verifier in a real browser: a gate opens /verify/offline/ while online (the
issuers' keys and status lists are cached in the browser), loses the network, and checks a
QR presentation of an ID card that shares only the name and the birth date: valid, and
exactly those two fields. A tampered one is invalid; without a cached status list the page
says the status was not checked.

Same browser rules as test_officer_flow.py (Debian's chromium, skipped without it unless
CONGDAN_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from congdan.wallet import sdjwt
from tests.browser.test_officer_flow import CHROMIUM, CHROMIUM_ARGS, PHONE, _sync_playwright
from tests.wallet.test_verifier import id_card, present

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.conftest import World


def _verify(page: Page, text: str) -> Any:
    page.locator("#offline-input").fill(text)
    page.get_by_role("button", name="Xác minh").click()
    verdict = page.locator("#offline-result .verdict")
    verdict.wait_for()
    return verdict


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_offline_verification_of_a_shared_id_card(
    live_server: Any, world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_playwright = _sync_playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CONGDAN_PUBLIC_URL = live_server.url
    person = world.person
    card = id_card(person, portrait=True)
    text = present(card, ["full_name", "birth_date"], expires_in=3600)
    parts = text.split("~")
    parts[1] = sdjwt.disclosure("full_name", "Người Khác")
    tampered = "~".join(parts)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="vi-VN")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(live_server.url + "/verify/offline/")
            page.wait_for_selector("body[data-offline-ready=true]")
            stored = json.loads(
                page.evaluate("window.localStorage.getItem('congdan.offlineVerifier.v1')")
            )
            assert list(stored["jwks"]) == [f"{live_server.url}/wallet/issuers/C06"]
            assert len(stored["lists"]) == 1

            # The network is cut: the gate has no signal.
            context.set_offline(True)
            verdict = _verify(page, text)
            assert verdict.get_attribute("data-valid") == "true"
            assert "Hợp lệ" in verdict.inner_text()
            claims = page.locator("#offline-claims [data-claim]")
            names = [claims.nth(i).get_attribute("data-claim") for i in range(claims.count())]
            assert names == ["full_name", "birth_date"]
            shown = page.locator("#offline-claims").inner_text()
            assert person.full_name in shown
            assert person.birth_date.strftime("%d/%m/%Y") in shown
            result = page.locator("#offline-result").inner_text()
            for hidden in ("address", "home_town"):
                assert card.data[hidden] not in result
            assert page.locator("#offline-result img").count() == 0  # portrait not shared
            assert "Còn hiệu lực" in result  # from the status list cached while online

            verdict = _verify(page, tampered)
            assert verdict.get_attribute("data-valid") == "false"
            assert "Không hợp lệ" in verdict.inner_text()
            assert page.locator("#offline-claims").count() == 0

            verdict = _verify(page, text[:50])
            assert verdict.get_attribute("data-valid") == "false"

            # Another gate whose status lists never loaded: valid, status not checked.
            other = browser.new_context(viewport=PHONE, locale="vi-VN")
            other.route("**/status/**", lambda route: route.abort())
            second = other.new_page()
            second.set_default_timeout(15_000)
            second.goto(live_server.url + "/verify/offline/")
            second.wait_for_selector("body[data-offline-ready=true]")
            other.set_offline(True)
            verdict = _verify(second, text)
            assert verdict.get_attribute("data-valid") == "true"
            result = second.locator("#offline-result").inner_text()
            assert "trạng thái chưa kiểm tra (ngoại tuyến)" in result
        finally:
            browser.close()

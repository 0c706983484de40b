"""End to end in a real browser (Debian's chromium through Playwright), at phone width.

A commune officer logs in, finds "Nguyễn Văn An" by typing the name without diacritics,
opens the person, registers a temporary residence through the form and sees it in the
residence history.

Skipped when Playwright or /usr/bin/chromium is missing, unless CONGDAN_REQUIRE_BROWSER=1
(CI), where that is a failure. Never runs ``playwright install``: the browser is the
distribution's. Set CONGDAN_SCREENSHOT_DIR to keep screenshots of the pages visited.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from congdan.registry.models import Residence, ResidenceKind
from tests.factories import PASSWORD

if TYPE_CHECKING:
    from tests.conftest import World

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


def _sync_playwright() -> Any:
    """Playwright's sync entry point, or a skip (a failure when the browser is required)."""
    required = os.environ.get("CONGDAN_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        reason = f"playwright is not importable ({exc}); install the dev extra"
        if required:
            pytest.fail(f"CONGDAN_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)"
        if required:
            pytest.fail(f"CONGDAN_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_registers_a_temporary_residence(
    live_server: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_playwright = _sync_playwright()
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes after it started are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = os.environ.get("CONGDAN_SCREENSHOT_DIR")
    start = timezone.localdate()
    end = start + dt.timedelta(days=90)
    street = "Số 7 kiệt 25 đường Hùng Vương"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="vi-VN")
            page = context.new_page()
            page.set_default_timeout(15_000)

            def shot(name: str) -> None:
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)

            # The home page links officers to their own login page.
            page.goto(live_server.url + "/")
            page.get_by_role("link", name="Đăng nhập dành cho cán bộ").click()
            page.wait_for_url("**/login/")
            assert page.locator("html").get_attribute("lang") == "vi"
            shot("login")
            page.get_by_label("Tên đăng nhập").fill(world.commune_officer.username)
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()

            # Search without diacritics.
            page.wait_for_url("**/registry/")
            page.get_by_label("Số định danh hoặc họ tên").fill("nguyen van an")
            page.get_by_role("button", name="Tìm kiếm").click()
            page.wait_for_url("**/registry/?*")
            link = page.get_by_role("link", name="Nguyễn Văn An")
            assert link.count() == 1
            shot("search")
            link.click()

            # The person page, then the temporary residence form.
            page.wait_for_url(f"**/person/{world.person.id_number}/")
            assert page.get_by_role("heading", name="Nguyễn Văn An").count() == 1
            shot("person")
            page.get_by_role("link", name="Đăng ký tạm trú").click()
            page.wait_for_url("**/temporary-residence/")
            page.get_by_label("Số nhà, đường / thôn, tổ").fill(street)
            page.get_by_label("Xã/phường").select_option(world.commune.code)
            page.get_by_label("Từ ngày").fill(start.isoformat())
            page.get_by_label("Đến ngày").fill(end.isoformat())
            page.get_by_label("Lý do").fill("Đi học")
            shot("temporary_residence_form")
            page.get_by_role("button", name="Đăng ký tạm trú").click()

            # Back on the person page: confirmation and the new row in the history.
            page.wait_for_url(f"**/person/{world.person.id_number}/*")
            assert "Đã đăng ký tạm trú" in page.locator(".messages").inner_text()
            history = page.locator("#residences")
            assert street in history.inner_text()
            assert "Tạm trú" in history.inner_text()
            assert end.strftime("%d/%m/%Y") in history.inner_text()
            shot("person_after")
        finally:
            browser.close()

    residence = Residence.objects.get(person=world.person, kind=ResidenceKind.TEMPORARY)
    assert residence.address.street == street
    assert (residence.start_date, residence.end_date) == (start, end)

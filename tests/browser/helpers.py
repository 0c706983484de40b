"""Shared steps of the browser tests: a phone-sized page, the last SMS code, and a
citizen's login through the portal's OIDC flow (password + SMS code, real pages)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from congdan.core.models import OutboxMessage
from tests.browser.test_officer_flow import PHONE
from tests.identity.helpers import PASSWORD as CITIZEN_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def new_page(browser: Browser) -> Page:
    page = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
    page.set_default_timeout(15_000)
    return page


def last_code(phone: str) -> str:
    message = OutboxMessage.objects.filter(recipient=phone).order_by("-id").first()
    assert message is not None, "no SMS was sent"
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match, message.body
    return match.group(1)


def citizen_login(page: Page, base: str, *, id_number: str, phone: str) -> None:
    """A citizen page sends the browser through the portal's OIDC flow to the login."""
    page.goto(base + "/me/")
    page.wait_for_url("**/id/login/**")
    page.get_by_label("Số định danh cá nhân").fill(id_number)
    page.get_by_label("Mật khẩu").fill(CITIZEN_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/id/login/verify/")
    page.get_by_label("Mã xác thực").fill(last_code(phone))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/me/")

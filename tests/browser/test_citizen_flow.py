"""End to end in a real browser: a citizen registers at level 1, sets up TOTP, logs in
to a relying party (the sample in examples/, a real OIDC client) and consents, revokes
the consent; an officer raises the account to level 2 and the relying party that
requires level 2 then accepts it.

Same browser rules as test_officer_flow.py (Debian's chromium, skipped without it unless
CONGDAN_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import io
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django_otp.oath import totp
from PIL import Image

from congdan.core.models import OutboxMessage
from congdan.identity.models import AccountStatus, Consent, EidAccount, EidLevel
from congdan.identity.services import clients, level2
from tests.browser.test_officer_flow import CHROMIUM, CHROMIUM_ARGS, PHONE, _sync_playwright

if TYPE_CHECKING:
    from tests.conftest import World

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "relying_party.py"
PASSWORD = "Mat-khau-cong-dan-2026"
PHONE_NUMBER = "0912345678"


def _example_module() -> Any:
    spec = importlib.util.spec_from_file_location("congdan_example_rp", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


class RunningRelyingParty:
    """The sample relying party from examples/, served in a thread on a free port."""

    def __init__(self, issuer: str, *, name: str, level: int, scopes: list[str]) -> None:
        example = _example_module()
        self.server = example.http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
        port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        registered = clients.create_client(
            None,
            name=name,
            redirect_uris=[f"{self.url}/callback"],
            post_logout_redirect_uris=[f"{self.url}/"],
            scopes=scopes,
            required_level=level,
            organisation=name,
        )
        rp = example.RelyingParty(
            issuer=issuer,
            client_id=registered.application.client_id,
            client_secret=registered.client_secret,
            scope=" ".join(scopes),
            redirect_uri=f"{self.url}/callback",
            name=name,
        )
        self.server.RequestHandlerClass = example.make_handler(rp)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _portrait(tmp_path: Path) -> Path:
    path = tmp_path / "chan-dung.png"
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), (190, 160, 140)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _last_code(phone: str) -> str:
    body = OutboxMessage.objects.filter(recipient=phone).order_by("-id").first()
    assert body is not None, "no SMS was sent"
    match = re.search(r"\b(\d{6})\b", body.body)
    assert match, body.body
    return match.group(1)


def _totp_code(secret_groups: str, *, ahead: int = 0) -> str:
    compact = secret_groups.replace(" ", "").upper()
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(key, t0=-ahead * 30):06d}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_citizen_registers_uses_totp_consents_and_reaches_level2(
    live_server: Any, world: World, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_playwright = _sync_playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CONGDAN_PUBLIC_URL = live_server.url
    settings.CONGDAN_OUTBOX_VISIBLE = True
    person = world.person
    bank = RunningRelyingParty(
        live_server.url, name="Ngân hàng Thử", level=1, scopes=["openid", "profile", "id_number"]
    )
    services = RunningRelyingParty(
        live_server.url, name="Dịch vụ công Thử", level=2, scopes=["openid", "profile", "card"]
    )
    base = live_server.url
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
                page.set_default_timeout(15_000)

                # 1. Level-1 registration; the name typed without diacritics still matches.
                page.goto(base + "/id/register/")
                page.get_by_label("Số định danh cá nhân").fill(person.id_number)
                page.get_by_label("Họ, chữ đệm và tên").fill("nguyen van an")
                page.get_by_label("Ngày sinh").fill(person.birth_date.strftime("%d/%m/%Y"))
                page.get_by_label("Số điện thoại di động").fill(PHONE_NUMBER)
                page.get_by_label("Ảnh chân dung").set_input_files(str(_portrait(tmp_path)))
                page.locator("#id_new_password1").fill(PASSWORD)
                page.locator("#id_new_password2").fill(PASSWORD)
                page.get_by_role("button", name="Tiếp tục").click()
                page.wait_for_url("**/id/register/verify/")
                page.get_by_label("Mã xác thực").fill(_last_code(PHONE_NUMBER))
                page.get_by_role("button", name="Xác nhận").click()
                page.wait_for_url("**/id/login/**")
                account = EidAccount.objects.get(person=person)
                assert account.status == AccountStatus.ACTIVE
                assert account.level == EidLevel.LEVEL1

                # 2. Log in (password + SMS code), then set up TOTP.
                page.goto(base + "/me/security/totp/")
                page.wait_for_url("**/id/login/**")
                page.get_by_label("Số định danh cá nhân").fill(person.id_number)
                page.get_by_label("Mật khẩu").fill(PASSWORD)
                page.get_by_role("button", name="Đăng nhập").click()
                page.wait_for_url("**/id/login/verify/")
                page.get_by_label("Mã xác thực").fill(_last_code(PHONE_NUMBER))
                page.get_by_role("button", name="Xác nhận").click()
                page.wait_for_url("**/me/security/totp/")
                page.get_by_role("button", name="Bắt đầu thiết lập").click()
                secret = page.locator("code.secret").inner_text()
                page.get_by_label("Mã trong ứng dụng xác thực").fill(_totp_code(secret))
                page.get_by_role("button", name="Xác nhận và bật").click()
                page.wait_for_url("**/me/security/")

                # 3. A fresh browser logs in to the bank with password + TOTP and consents.
                page = browser.new_context(viewport=PHONE, locale="vi-VN").new_page()
                page.set_default_timeout(15_000)
                page.goto(bank.url + "/login")
                page.wait_for_url("**/id/login/**")
                page.get_by_label("Số định danh cá nhân").fill(person.id_number)
                page.get_by_label("Mật khẩu").fill(PASSWORD)
                page.get_by_role("button", name="Đăng nhập").click()
                page.wait_for_url("**/id/login/verify/")
                # The authenticator app is asked for, not an SMS code.
                assert "ứng dụng xác thực" in page.locator("main").inner_text()
                # The code of the next 30-second step: the setup already used this one.
                page.get_by_label("Mã xác thực").fill(_totp_code(secret, ahead=1))
                page.get_by_role("button", name="Xác nhận").click()
                page.wait_for_url("**/o/authorize/**")
                consent_text = page.locator("main").inner_text()
                assert "Ngân hàng Thử" in consent_text
                assert "Số định danh cá nhân" in consent_text
                page.get_by_role("button", name="Đồng ý chia sẻ").click()
                page.wait_for_url(bank.url + "/")
                shown = page.locator("body").inner_text()
                assert "level1" in shown
                assert person.full_name in shown
                assert person.id_number in shown
                assert Consent.objects.filter(revoked_at__isnull=True).count() == 1

                # 4. The level-2 service refuses a level-1 account, with an explanation.
                page.goto(services.url + "/login")
                page.wait_for_load_state()
                assert page.url.startswith(base)  # stopped at the provider, not sent back
                assert "mức độ 2" in page.locator("main").inner_text()

                # 5. Revoke the bank's consent under "Connected services".
                page.goto(base + "/me/services/")
                page.get_by_role("button", name="Thu hồi sự đồng ý").click()
                page.wait_for_url("**/me/services/**")
                assert "chưa cho ứng dụng nào" in page.locator("main").inner_text()
                assert not Consent.objects.filter(revoked_at__isnull=True).exists()

                # 6. An officer verifies the chip card; the level-2 service now accepts.
                level2.verify_level2(
                    world.commune_officer,
                    account_id=account.pk,
                    card_number=person.id_number,
                    card_issue_date=dt.date(2024, 8, 1),
                    portrait=_portrait(tmp_path).read_bytes(),
                    attested=True,
                )
                page.goto(services.url + "/login")
                page.wait_for_url("**/o/authorize/**")
                page.get_by_role("button", name="Đồng ý chia sẻ").click()
                page.wait_for_url(services.url + "/")
                shown = page.locator("body").inner_text()
                assert "level2" in shown
                assert person.id_number in shown  # the card number claim
            finally:
                browser.close()
    finally:
        bank.close()
        services.close()

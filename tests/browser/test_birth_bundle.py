"""End to end in a real browser: the birth bundle (khai sinh – thường trú – BHYT), filed
once by the mother and processed by three agencies.

The mother (e-ID level 2) logs in through the portal's own OIDC flow (password + SMS
code, real pages), opens "Dịch vụ công" → the bundle → "Nộp hồ sơ trực tuyến", sees her
name prefilled, read-only and labelled with its source, fills in the child, attaches the
medical birth certificate and submits. In their own browser contexts the commune justice
officer receives, reviews and approves the birth registration, the commune police officer
approves the permanent residence and the provincial social-insurance officer the health
insurance card. Back as the mother: the bundle is complete and both of the child's
documents are in "Giấy tờ của tôi"; the child is in the registry with a valid ID number,
in the parents' household.

Same browser rules as test_officer_flow.py (Debian's chromium, skipped without it unless
CONGDAN_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from congdan.core.models import User
from congdan.procedures.models import Bundle, BundleStatus, DossierStatus
from congdan.registry import idnumbers
from congdan.registry.models import HouseholdMembership
from congdan.wallet.models import Document
from tests.browser.helpers import citizen_login, new_page
from tests.browser.test_officer_flow import CHROMIUM, CHROMIUM_ARGS, _sync_playwright
from tests.factories import PASSWORD as OFFICER_PASSWORD
from tests.procedures import helpers as procedure_helpers
from tests.procedures.helpers import PDF, Family

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

family = procedure_helpers.family  # the fixture: parents and the three agencies' officers
CHILD = "Phạm Minh Khôi"
REGISTRY_SOURCE = "Cơ sở dữ liệu quốc gia về dân cư"


def _new_page(browser: Browser) -> Page:
    return new_page(browser)


def _citizen_login(page: Page, base: str, family: Family) -> None:
    citizen_login(page, base, id_number=family.mother.id_number, phone=family.account.phone)


def _officer_page(browser: Browser, base: str, user: User) -> Page:
    """A fresh context with the officer logged in at /login/ and on "Hồ sơ thủ tục"."""
    page = _new_page(browser)
    page.goto(base + "/login/")
    page.get_by_label("Tên đăng nhập").fill(user.username)
    page.get_by_label("Mật khẩu").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Hồ sơ thủ tục").click()
    page.wait_for_url("**/office/dossiers/")
    return page


def _process(page: Page, code: str, *, reviews: int) -> None:
    """From the queue: open the dossier, receive it, pass its review steps, approve."""
    page.get_by_role("link", name=code).click()
    page.wait_for_url(f"**/office/dossiers/{code}/")
    buttons = ["Tiếp nhận hồ sơ"] + ["Hoàn thành bước thẩm định"] * reviews
    for name in [*buttons, "Phê duyệt và trả kết quả"]:
        page.get_by_role("button", name=name).click()
        page.wait_for_url(f"**/office/dossiers/{code}/")
        assert f"Đã cập nhật hồ sơ {code}" in page.locator(".messages").inner_text()
    status = page.locator("dl.facts").first.inner_text()
    assert "Đã trả kết quả" in status, status


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_birth_bundle_filed_by_the_mother_and_processed_by_three_agencies(
    live_server: Any,
    family: Family,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync_playwright = _sync_playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CONGDAN_PUBLIC_URL = live_server.url
    base = live_server.url
    certificate = tmp_path / "giay-chung-sinh.pdf"
    certificate.write_bytes(PDF)
    born = timezone.localdate() - dt.timedelta(days=2)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # 1. The mother logs in and finds the bundle under "Dịch vụ công".
            mother = _new_page(browser)
            _citizen_login(mother, base, family)
            mother.get_by_role("link", name="Dịch vụ công", exact=True).click()
            mother.wait_for_url("**/services/")
            mother.get_by_role("link", name=re.compile("^Liên thông: khai sinh")).click()
            mother.wait_for_url("**/services/birth_bundle/")
            mother.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
            mother.wait_for_url("**/services/birth_bundle/apply/")

            # 2. Her name is prefilled from the registry and cannot be edited.
            name = mother.locator("#id_applicant_full_name")
            assert name.input_value() == family.mother.full_name
            assert name.is_disabled()
            source = mother.locator("div.field:has(#id_applicant_full_name) + p.helptext")
            assert REGISTRY_SOURCE in source.inner_text()

            # 3. The child, the medical birth certificate, submit.
            mother.get_by_label("Họ, chữ đệm và tên của trẻ").fill(CHILD)
            mother.get_by_label("Ngày sinh của trẻ").fill(born.isoformat())
            mother.get_by_label("Giới tính của trẻ").select_option("M")
            mother.get_by_label("Dân tộc của trẻ").select_option("01")
            mother.get_by_label(re.compile("^Nơi sinh")).fill("Bệnh viện Phụ sản Nhi Đà Nẵng")
            mother.get_by_label("Người yêu cầu là").select_option("mother")
            mother.get_by_label("Nơi đăng ký khám bệnh, chữa bệnh ban đầu").fill("Trạm y tế phường")
            mother.get_by_label("Giấy chứng sinh").set_input_files(str(certificate))
            mother.get_by_role("button", name="Nộp hồ sơ", exact=True).click()

            # 4. The bundle page: three parts, one deadline for the group, free.
            mother.wait_for_url("**/me/bundles/*/")
            bundle = Bundle.objects.get()
            assert mother.url.endswith(f"/me/bundles/{bundle.code}/")
            assert mother.locator("section.card").count() == 3
            facts = mother.locator("dl.facts").first.inner_text()
            assert "Hạn giải quyết cả nhóm" in facts
            assert bundle.due_date.strftime("%d/%m/%Y") in facts
            assert "Miễn phí" in facts
            parts = {d.procedure_code: d for d in bundle.dossiers.all()}
            birth = parts["birth_registration"]
            residence = parts["permanent_residence_registration"]
            insurance = parts["child_health_insurance"]
            assert birth.status == DossierStatus.SUBMITTED
            assert residence.status == DossierStatus.WAITING
            assert insurance.status == DossierStatus.WAITING

            # 5. The justice officer registers the birth (receive, review, approve).
            justice = _officer_page(browser, base, family.justice)
            _process(justice, birth.code, reviews=1)

            # 6. The police officer now sees the residence part and approves it.
            police = _officer_page(browser, base, family.police)
            _process(police, residence.code, reviews=0)

            # 7. The provincial social-insurance officer approves the card.
            social = _officer_page(browser, base, family.insurance)
            _process(social, insurance.code, reviews=1)

            # 8. Back as the mother: complete, and the child's documents in her wallet.
            mother.reload()
            facts = mother.locator("dl.facts").first.inner_text()
            assert "Hoàn thành" in facts, facts
            mother.get_by_role("link", name="Giấy tờ của tôi").click()
            mother.wait_for_url("**/me/documents/")
            children = mother.locator("section", has_text="Giấy tờ của con chưa thành niên")
            listed = children.inner_text()
            assert "Giấy khai sinh" in listed
            assert "Thẻ bảo hiểm y tế" in listed
            assert CHILD in listed
        finally:
            browser.close()

    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.COMPLETED
    birth.refresh_from_db()
    child = birth.subject
    assert child is not None
    assert child.full_name == CHILD
    assert child.birth_date == born
    assert idnumbers.validate(child.id_number) == []
    assert child.mother_id == family.mother.pk
    assert child.father_id == family.father.pk
    household = HouseholdMembership.objects.get(person=family.mother, until__isnull=True)
    assert HouseholdMembership.objects.get(person=child, until__isnull=True).household_id == (
        household.household_id
    )
    docs = set(Document.objects.filter(holder=child).values_list("doc_type", flat=True))
    assert {"birth_certificate", "health_insurance_card"} <= docs

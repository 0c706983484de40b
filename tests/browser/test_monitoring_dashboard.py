"""The issue's "done when" for the dashboards, in a real browser at phone width: a
provincial leader logs in, opens the programme dashboard, opens the online dossier rate,
sees the communes ranked against the 40 % target with the laggards marked, drills into
one commune and one procedure, and downloads the Excel export (a valid workbook).

Data: daily facts written directly (tests/monitoring/test_dashboard.py ``build_dash``).
Skipped without Playwright or /usr/bin/chromium unless CONGDAN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.browser.test_officer_flow import CHROMIUM, CHROMIUM_ARGS, PHONE, _sync_playwright
from tests.factories import PASSWORD
from tests.monitoring.test_dashboard import YEAR, build_dash


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_provincial_leader_drills_down_and_exports(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_playwright = _sync_playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = os.environ.get("CONGDAN_SCREENSHOT_DIR")
    dash = build_dash()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="vi-VN", accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(15_000)

            def shot(name: str) -> None:
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)

            page.goto(live_server.url + "/login/?next=/monitoring/")
            page.get_by_label("Tên đăng nhập").fill(dash.province_leader.username)
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url("**/monitoring/")
            assert dash.province.name in page.get_by_role("heading", level=1).inner_text()

            # The year of the data.
            page.get_by_label("Năm", exact=True).fill(str(YEAR))
            page.get_by_role("button", name="Xem").click()
            page.wait_for_url(f"**/monitoring/?*year={YEAR}*")
            card = page.locator("#kpi-online_dossier_rate")
            assert "37,14 %" in card.inner_text()
            assert "Gần đạt" in card.inner_text()
            shot("monitoring_overview")

            # The online dossier rate per commune against the 40 % target.
            card.get_by_role("link", name="Tỷ lệ hồ sơ trực tuyến").click()
            page.wait_for_url("**/monitoring/kpi/online_dossier_rate/?*")
            communes = page.locator("#table-commune tbody tr")
            assert dash.c2.name in communes.nth(0).inner_text()  # best first: 90 %
            laggard = page.locator("#table-commune tr.laggard-red")
            assert laggard.count() == 1
            assert dash.c5.name in laggard.inner_text()
            assert "Chưa đạt" in laggard.inner_text()
            assert page.locator("#table-commune tr.laggard-amber").count() == 1
            assert page.locator("svg.chart").count() >= 2  # the ranking and the series
            shot("monitoring_communes")

            # Drill into one commune …
            page.locator("#table-commune").get_by_role("link", name=dash.c1.name).click()
            page.wait_for_url(f"**unit={dash.c1.pk}*")
            assert dash.c1.name in page.get_by_role("heading", level=1).inner_text()
            assert dash.justice_c1.name in page.locator("#table-agency").inner_text()
            shot("monitoring_commune")

            # … and into one procedure.
            page.locator("#table-procedure").get_by_role("link", name="Đăng ký khai sinh").click()
            page.wait_for_url("**procedure=birth_registration*")
            assert "Đăng ký khai sinh" in page.locator(".filters-active").inner_text()
            assert "60 %" in page.locator("#headline-title + dl").inner_text()
            shot("monitoring_procedure")

            # Back to the province's ranking and export it to Excel.
            page.go_back()
            page.go_back()
            page.wait_for_url("**/monitoring/kpi/online_dossier_rate/?*")
            with page.expect_download() as download_info:
                page.get_by_role("link", name="Tải tất cả các bảng (Excel)").first.click()
            download = download_info.value
            assert download.suggested_filename.endswith(".xlsx")
            workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
            rows = list(workbook.worksheets[0].iter_rows(values_only=True))
            assert rows[0][1] == "Xã, phường"
            assert rows[1][1] == dash.c2.name
            assert any(r[1] == dash.c5.name and r[-1] == "Chưa đạt" for r in rows)
        finally:
            browser.close()

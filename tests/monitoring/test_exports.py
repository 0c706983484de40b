"""CSV and Excel exports of the dashboards' tables: the same rows as the page, UTF-8 with a
BOM, spreadsheet formulas neutralised, numbers kept as numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from congdan.core.models import AgencyKind
from congdan.monitoring import exports
from tests import factories
from tests.monitoring.test_dashboard import (
    BIRTH,
    ONLINE,
    OVERVIEW,
    YEAR,
    Dash,
    as_user,
    build_dash,
    fact,
    get,
    table_rows,
)


@pytest.fixture
def dash(db: None) -> Dash:
    return build_dash()


def read_csv(response: Any) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_of_the_commune_ranking_has_the_page_rows(dash: Dash) -> None:
    client = as_user(dash.province_leader)
    page = get(client, ONLINE)
    response = get(client, ONLINE, format="csv", table="commune")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="online_dossier_rate-province-{dash.province.code}'
        f'-{YEAR}0101-{YEAR}1231-commune.csv"'
    )
    rows = read_csv(response)
    assert rows[0] == [
        "Hạng",
        "Xã, phường",
        "Giá trị",
        "Tử số",
        "Mẫu số",
        "Mục tiêu",
        "Chênh lệch",
        "Đánh giá",
    ]
    assert [r[1] for r in rows[1:]] == table_rows(page, "commune")
    assert rows[1] == ["1", dash.c2.name, "90.00", "9", "10", "40.00", "50.00", "Đạt"]
    assert rows[3] == ["3", dash.c4.name, "30.00", "3", "10", "40.00", "-10.00", "Gần đạt"]
    assert rows[4] == ["4", dash.c3.name, "25.00", "5", "20", "20.00", "5.00", "Đạt"]
    assert rows[5] == ["5", dash.c5.name, "10.00", "1", "10", "40.00", "-30.00", "Chưa đạt"]
    # A commune without data: no rank, no value.
    assert rows[6][0] == "" and rows[6][2] == "" and rows[6][7] == "Chưa có số liệu"


def test_csv_defaults_to_the_first_table_and_keeps_filters(dash: Dash) -> None:
    client = as_user(dash.province_leader)
    rows = read_csv(get(client, ONLINE, format="csv", procedure=BIRTH))
    assert rows[0][1] == "Xã, phường"
    c1 = next(r for r in rows if r[1] == dash.c1.name)
    assert c1[2:5] == ["60.00", "6", "10"]
    months = read_csv(get(client, ONLINE, format="csv", table="month"))
    assert months[0][0] == "Tháng"  # not ranked: no rank column
    assert months[1] == [f"01/{YEAR}", "60.00", "18", "30", "40.00", "20.00", "Đạt"]


def test_xlsx_of_the_drill_down_has_every_table(dash: Dash) -> None:
    client = as_user(dash.province_leader)
    page = get(client, ONLINE)
    response = get(client, ONLINE, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_TYPE
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 3  # communes, procedures, months
    communes = list(book.worksheets[0].iter_rows(values_only=True))
    assert communes[0][:3] == ("Hạng", "Xã, phường", "Giá trị")
    assert [r[1] for r in communes[1:]] == table_rows(page, "commune")
    assert communes[1][:5] == (1, dash.c2.name, 90, 9, 10)
    assert isinstance(communes[1][2], int | float)  # a number, not text
    assert book.worksheets[0].cell(row=2, column=3).number_format == "0.00"
    procedures = list(book.worksheets[1].iter_rows(values_only=True))
    assert [r[1] for r in procedures[1:]] == table_rows(page, "procedure")
    months = list(book.worksheets[2].iter_rows(values_only=True))
    assert len(months) == 13


def test_overview_exports(dash: Dash) -> None:
    client = as_user(dash.province_leader)
    rows = read_csv(get(client, OVERVIEW, format="csv"))
    assert rows[0][:3] == ["Mã", "Chỉ tiêu", "Giá trị"]
    online = next(r for r in rows if r[0] == "online_dossier_rate")
    assert online[1:8] == [
        "Tỷ lệ hồ sơ trực tuyến",
        "37.14",
        "26",
        "70",
        "40.00",
        "-2.86",
        "Gần đạt",
    ]
    assert len(rows) == 1 + 13  # 14 KPIs but lookups, which is national-only
    book = load_workbook(io.BytesIO(get(client, OVERVIEW, format="xlsx").content))
    sheet_rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(sheet_rows) == 14
    assert sheet_rows[1][0] == "online_dossier_rate"


def test_exports_are_scoped_like_the_page(dash: Dash) -> None:
    client = as_user(dash.commune_leader)
    for fmt in ("csv", "xlsx"):
        assert get(client, ONLINE, format=fmt, unit=dash.c2.pk).status_code == 404
        assert get(client, OVERVIEW, format=fmt, unit=dash.province.pk).status_code == 404
    assert get(as_user(dash.officer), ONLINE, format="xlsx").status_code == 403


def test_formulas_in_names_are_neutralised(dash: Dash) -> None:
    evil = factories.make_agency(dash.c2, kind=AgencyKind.OTHER)
    evil.name = '=HYPERLINK("http://evil.example","x")'
    evil.save()
    fact(dt.date(YEAR, 4, 1), dash.c2, evil, BIRTH, 4, 1)
    client = as_user(dash.province_leader)
    rows = read_csv(get(client, ONLINE, format="csv", table="agency", unit=dash.c2.pk))
    assert f"'{evil.name}" in [r[1] for r in rows]
    book = load_workbook(io.BytesIO(get(client, ONLINE, format="xlsx", unit=dash.c2.pk).content))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value == evil.name]
    assert cells and all(c.data_type == "s" for c in cells)


# --- the helpers ----------------------------------------------------------------------


def test_csv_bytes_escapes_and_keeps_numbers_plain() -> None:
    table = exports.Table(
        title="t",
        header=["a", "b", "c", "d"],
        rows=[
            ["=1+1", Decimal("42.50"), dt.date(2025, 1, 2), None],
            ["+x", -3, "@SUM(A1)", "\tx"],
            ["-2", 7, 'Hà Nội, "trung tâm"', True],
        ],
    )
    data = exports.csv_bytes(table)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")[1:])))
    assert rows[1] == ["'=1+1", "42.50", "2025-01-02", ""]
    assert rows[2] == ["'+x", "-3", "'@SUM(A1)", "'\tx"]
    assert rows[3] == ["'-2", "7", 'Hà Nội, "trung tâm"', "1"]


def test_xlsx_bytes_types_and_sheet_names() -> None:
    tables = [
        exports.Table(
            title="Tỷ lệ: theo xã/phường [2025]?",
            header=["Tên", "Giá trị", "Ngày"],
            rows=[
                ["=cmd|' /C calc'!A0", Decimal("12.34"), dt.date(2025, 3, 4)],
                ["a\x01b", 5, None],
            ],
            percent_columns=frozenset({1}),
        ),
        exports.Table(title="Tỷ lệ: theo xã/phường [2025]?", header=["x"], rows=[]),
    ]
    book = load_workbook(io.BytesIO(exports.xlsx_bytes(tables)))
    assert book.sheetnames == ["Tỷ lệ  theo xã phường  2025", "Tỷ lệ  theo xã phường  2025 (2)"]
    ws = book.worksheets[0]
    assert ws["A2"].value == "=cmd|' /C calc'!A0" and ws["A2"].data_type == "s"
    assert ws["B2"].value == pytest.approx(12.34) and ws["B2"].number_format == "0.00"
    assert ws["C2"].value.date() == dt.date(2025, 3, 4)
    assert ws["A3"].value == "ab"  # control characters dropped, not a crash
    assert ws["A1"].font.bold


def test_safe_filename() -> None:
    assert exports.safe_filename("chỉ tiêu/../x y") == "ch-ti-u-..-x-y"
    assert exports.safe_filename("///") == "bang"

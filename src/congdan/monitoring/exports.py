"""CSV and Excel exports of the dashboards' tables: the same rows as the page.

A :class:`Table` is a title, a header and rows of plain values (str, int, Decimal,
date, None). ``csv_response`` writes one table as UTF-8 with a BOM (so Excel opens the
Vietnamese text with the right encoding); ``xlsx_response`` writes one sheet per table
with openpyxl. In both, text a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is neutralised: prefixed with ``'`` in
CSV, stored as an explicit string cell in Excel. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = [
    "CSV_TYPE",
    "XLSX_TYPE",
    "Table",
    "csv_bytes",
    "csv_response",
    "safe_filename",
    "safe_text",
    "xlsx_bytes",
    "xlsx_response",
]

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Table:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)
    # Columns (0-based) holding percentages: shown with two decimals in Excel.
    percent_columns: frozenset[int] = frozenset()


def safe_text(value: Any) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | Decimal | float):
        return str(value)  # plain, never localised: "42.5", not "42,5"
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_text(value)


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in table.header])
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _put(ws: Any, row: int, column: int, value: Any, percent: bool) -> None:
    cell = ws.cell(row=row, column=column)
    if value is None:
        return
    if isinstance(value, bool):
        cell.value = int(value)
    elif isinstance(value, int | Decimal | float):
        cell.value = value
        if percent:
            cell.number_format = "0.00"
    elif isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = "dd/mm/yyyy hh:mm"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "dd/mm/yyyy"
    else:
        # Set as text explicitly: openpyxl would store "=..." as a formula.
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.data_type = "s"


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]  # the default empty sheet
    used: set[str] = set()
    for table in tables or [Table(title="Sheet", header=[])]:
        ws = workbook.create_sheet(_sheet_title(table.title, used))
        for column, heading in enumerate(table.header, start=1):
            _put(ws, 1, column, str(heading), False)
            ws.cell(row=1, column=column).font = Font(bold=True)
        for r, row in enumerate(table.rows, start=2):
            for c, value in enumerate(row, start=1):
                _put(ws, r, c, value, (c - 1) in table.percent_columns)
        ws.freeze_panes = "A2"
        for column, heading in enumerate(table.header, start=1):
            width = max(
                [len(str(heading))]
                + [len(str(row[column - 1])) for row in table.rows if len(row) >= column]
            )
            ws.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def safe_filename(stem: str) -> str:
    """An ASCII file name stem (the Content-Disposition header stays plain)."""
    return _FILENAME_UNSAFE.sub("-", stem).strip("-")[:120] or "bang"


def _attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(table: Table, stem: str) -> HttpResponse:
    return _attachment(csv_bytes(table), CSV_TYPE, f"{safe_filename(stem)}.csv")


def xlsx_response(tables: Sequence[Table], stem: str) -> HttpResponse:
    return _attachment(xlsx_bytes(tables), XLSX_TYPE, f"{safe_filename(stem)}.xlsx")

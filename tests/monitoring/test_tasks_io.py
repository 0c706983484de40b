"""Excel export, template and all-or-nothing import of the task list."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from congdan.audit.models import ChangeRecord
from congdan.core.errors import PermissionDenied
from congdan.monitoring import tasks_io
from congdan.monitoring.models import ProgrammeTask
from congdan.monitoring.services.tasks import tasks_for
from tests.monitoring.helpers_g import TaskWorld, build_world, make_task

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def tw(db: None) -> TaskWorld:
    return build_world()


HEADER = [
    "Mã nhiệm vụ",
    "Nhiệm vụ",
    "Văn bản giao",
    "Mã cơ quan chủ trì",
    "Cấp",
    "Mã địa bàn",
    "Thời hạn",
    "Tình trạng",
    "Tiến độ (%)",
]


def xlsx(rows: list[list[Any]], header: list[str] | None = None) -> io.BytesIO:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def row(tw: TaskWorld, code: str = "IM-1", **over: Any) -> list[Any]:
    values = {
        "code": code,
        "title": "Nhập từ Excel",
        "legal": "KH 01/KH-UBND",
        "agency": tw.police.code,
        "level": "Cấp xã",
        "unit": tw.commune.code,
        "deadline": dt.date(2026, 9, 30),
        "status": "Đang triển khai",
        "progress": 20,
    }
    values.update(over)
    return list(values.values())


def test_export_has_vietnamese_header_and_real_dates(tw: TaskWorld) -> None:
    make_task(tw.police, tw.commune, code="EX-1", deadline=dt.date(2026, 3, 5), progress=35)
    content = tasks_io.export_tasks(tasks_for(tw.commune_leader))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:9]) == HEADER
    assert rows[1][0] == "EX-1"
    assert rows[1][3] == "CA-XA-G"
    assert isinstance(rows[1][6], dt.datetime)  # a date cell, read back as a datetime
    assert rows[1][6].date() == dt.date(2026, 3, 5)
    assert rows[1][8] == 35
    assert sheet.cell(row=2, column=7).number_format == tasks_io.DATE_FORMAT


def test_export_round_trips_through_import(tw: TaskWorld) -> None:
    make_task(tw.police, tw.commune, code="RT-1", deadline=dt.date(2026, 3, 5), status="waiting")
    content = tasks_io.export_tasks(tasks_for(tw.commune_leader))
    result = tasks_io.import_tasks(tw.commune_leader, io.BytesIO(content))
    assert (result.created, result.updated) == (0, 1)
    task = ProgrammeTask.objects.get(code="RT-1")
    assert (task.status, task.deadline) == ("waiting", dt.date(2026, 3, 5))


def test_template_is_importable_header(tw: TaskWorld) -> None:
    sheet = load_workbook(io.BytesIO(tasks_io.template())).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER


def test_import_creates_and_updates(tw: TaskWorld) -> None:
    existing = make_task(tw.police, tw.commune, code="IM-2", title="Cũ")
    result = tasks_io.import_tasks(
        tw.commune_leader,
        xlsx(
            [row(tw), row(tw, "IM-2", title="Mới", deadline="15/10/2026", status="", progress="")]
        ),
    )
    assert (result.created, result.updated) == (1, 1)
    new = ProgrammeTask.objects.get(code="IM-1")
    assert (new.status, new.progress, new.deadline) == ("in_progress", 20, dt.date(2026, 9, 30))
    existing.refresh_from_db()
    assert existing.title == "Mới"
    assert existing.deadline == dt.date(2026, 10, 15)
    assert existing.status == "not_started"
    assert ChangeRecord.objects.filter(action="create_task").count() == 1
    assert ChangeRecord.objects.filter(action="update_task", object_id=existing.pk).count() == 1


def test_import_columns_in_any_order_and_english_keys(tw: TaskWorld) -> None:
    header = ["unit", "level", "owner_agency", "title", "code", "Ghi chú"]
    data = [[tw.commune.code, "commune", tw.police.code, "Đảo cột", "IM-9", "bỏ qua"]]
    result = tasks_io.import_tasks(tw.commune_leader, xlsx(data, header))
    assert result.created == 1
    assert ProgrammeTask.objects.get(code="IM-9").title == "Đảo cột"


def test_import_all_or_nothing_with_row_and_column(tw: TaskWorld) -> None:
    bad_rows = [
        row(tw, "OK-1"),
        row(tw, "BAD-1", level="Cấp huyện"),
        row(tw, "BAD-2", deadline="31/02/2026", progress=150),
        row(tw, "BAD-3", agency="KHONG-CO"),
        row(tw, "OK-1"),  # a duplicate of row 2
        row(tw, "BAD-4", unit=tw.other_commune.code),  # outside the commune leader's area
    ]
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, xlsx(bad_rows))
    found = {(p.row, p.column) for p in exc.value.problems}
    assert found == {
        (3, "Cấp"),
        (4, "Thời hạn"),
        (5, "Mã cơ quan chủ trì"),
        (6, "Mã nhiệm vụ"),
        (7, "Mã địa bàn"),
    }
    assert not ProgrammeTask.objects.exists()
    # Progress is checked once the row's other columns are right.
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, xlsx([row(tw, "P-1", progress=150)]))
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "Tiến độ (%)")]
    assert not ProgrammeTask.objects.exists()


def test_import_missing_column_and_bad_files(tw: TaskWorld) -> None:
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, xlsx([["X"]], ["Mã nhiệm vụ"]))
    missing = {p.column for p in exc.value.problems}
    assert missing == {"Nhiệm vụ", "Mã cơ quan chủ trì", "Cấp", "Mã địa bàn"}
    for content in (b"not excel", b"PK\x03\x04broken zip", b""):
        with pytest.raises(tasks_io.ImportFailed):
            tasks_io.import_tasks(tw.commune_leader, io.BytesIO(content))
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, xlsx([]))
    assert exc.value.problems[0].row == 0


def test_import_refuses_zip_bomb_before_unpacking(tw: TaskWorld) -> None:
    """A tiny upload whose members unpack beyond the limit is refused unread."""
    packed = xlsx([row(tw)]).getvalue()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(packed)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        # 60 MB of zeros compresses to ~60 KB: well under the upload limit.
        dst.writestr("xl/padding.bin", b"\0" * (tasks_io.MAX_UNPACKED_BYTES + 10 * 1024 * 1024))
    assert len(out.getvalue()) < tasks_io.MAX_BYTES
    out.seek(0)
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, out)
    assert "giải nén" in exc.value.problems[0].message
    assert not ProgrammeTask.objects.exists()


def test_import_counts_blank_rows_towards_the_scan_limit(
    tw: TaskWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_io, "MAX_SCANNED_ROWS", 10)
    blanks: list[list[Any]] = [[None, None, "", " "] for _ in range(12)]
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, xlsx([*blanks, row(tw)]))
    assert "nhiều dòng" in exc.value.problems[0].message
    # Just under the limit the same rows import.
    monkeypatch.setattr(tasks_io, "MAX_SCANNED_ROWS", 20)
    assert tasks_io.import_tasks(tw.commune_leader, xlsx([*blanks, row(tw)])).created == 1


def test_import_cannot_take_over_task_outside_area(tw: TaskWorld) -> None:
    make_task(tw.other_agency, tw.other_commune, code="FOREIGN")
    with pytest.raises(tasks_io.ImportFailed) as exc:
        tasks_io.import_tasks(tw.commune_leader, xlsx([row(tw, "FOREIGN")]))
    assert exc.value.problems[0].column == "Mã nhiệm vụ"
    assert ProgrammeTask.objects.get(code="FOREIGN").unit_id == tw.other_commune.pk


def test_import_denied_to_officer(tw: TaskWorld) -> None:
    with pytest.raises(PermissionDenied):
        tasks_io.import_tasks(tw.officer, xlsx([row(tw)]))


def test_import_page(tw: TaskWorld) -> None:
    client = Client()
    client.force_login(tw.commune_leader)
    assert client.get(reverse("monitoring:task_import")).status_code == 200
    template = client.get(reverse("monitoring:task_import_template"))
    assert template.status_code == 200
    bad = client.post(
        reverse("monitoring:task_import"),
        {"file": SimpleUploadedFile("t.xlsx", xlsx([row(tw, level="?")]).getvalue())},
    )
    assert bad.status_code == 400
    assert "Cấp không hợp lệ" in bad.content.decode()
    good = client.post(
        reverse("monitoring:task_import"),
        {"file": SimpleUploadedFile("t.xlsx", xlsx([row(tw)]).getvalue())},
    )
    assert good.status_code == 302
    assert ProgrammeTask.objects.filter(code="IM-1").exists()
    officer = Client()
    officer.force_login(tw.officer)
    assert officer.get(reverse("monitoring:task_import")).status_code == 403

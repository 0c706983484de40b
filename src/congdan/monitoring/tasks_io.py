"""The task list to and from Excel (.xlsx, openpyxl).

* ``export_tasks(tasks)``: one sheet, a header row in Vietnamese, dates as dates.
* ``template()``: the header row, an example row and a sheet of the allowed values.
* ``import_tasks(actor, file)``: columns are matched by their header (Vietnamese or the
  English key, case and diacritics ignored, in any order); every row is validated and
  each problem reported as (row, column, message in Vietnamese); nothing is written if
  any row is bad (all-or-nothing); a task is matched by its code (created or updated).
  The workbook is streamed (``read_only=True``); at most ``MAX_ROWS`` rows,
  ``MAX_BYTES`` bytes packed and ``MAX_UNPACKED_BYTES`` unpacked.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException

from congdan.core.errors import DomainError, ValidationFailed
from congdan.core.models import Agency
from congdan.core.permissions import Perm, requires
from congdan.core.text import fold
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring.models import Level, ProgrammeTask, TaskStatus
from congdan.monitoring.services.tasks import (
    TaskData,
    is_overdue,
    save_task,
    scope_of,
    validate_task,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

    Actor = User | AnonymousUser

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
# A small .xlsx can unpack to gigabytes (a zip bomb): the members' declared sizes are
# checked before openpyxl reads anything, and blank rows count towards a scan limit.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_SCANNED_ROWS = 4 * MAX_ROWS
MAX_COLUMNS = 64
MAX_PROBLEMS = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD/MM/YYYY"

# (key, Vietnamese header, required on import)
COLUMNS: tuple[tuple[str, Any, bool], ...] = (
    ("code", gettext_lazy("Mã nhiệm vụ"), True),
    ("title", gettext_lazy("Nhiệm vụ"), True),
    ("legal_source", gettext_lazy("Văn bản giao"), False),
    ("owner_agency", gettext_lazy("Mã cơ quan chủ trì"), True),
    ("level", gettext_lazy("Cấp"), True),
    ("unit", gettext_lazy("Mã địa bàn"), True),
    ("deadline", gettext_lazy("Thời hạn"), False),
    ("status", gettext_lazy("Tình trạng"), False),
    ("progress", gettext_lazy("Tiến độ (%)"), False),
)
# Export only: names and flags a reader wants next to the codes.
EXPORT_EXTRA: tuple[tuple[str, Any], ...] = (
    ("owner_agency_name", gettext_lazy("Cơ quan chủ trì")),
    ("unit_name", gettext_lazy("Địa bàn")),
    ("group", gettext_lazy("Tổ công tác")),
    ("overdue", gettext_lazy("Quá hạn")),
)
# Other spellings accepted for headers (folded).
ALIASES = {
    "ma": "code",
    "ten nhiem vu": "title",
    "noi dung": "title",
    "can cu": "legal_source",
    "ma co quan": "owner_agency",
    "owner agency code": "owner_agency",
    "agency": "owner_agency",
    "ma don vi": "unit",
    "unit code": "unit",
    "han": "deadline",
    "tien do": "progress",
    "trang thai": "status",
    "legal source": "legal_source",
}


def _header_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for key, label, _required in COLUMNS:
        keys[fold(str(label))] = key
        keys[fold(key.replace("_", " "))] = key
        keys[fold(key)] = key
    # Both languages' headers, whatever the active one.
    for lang in ("vi", "en"):
        with translation.override(lang):
            for key, label, _required in COLUMNS:
                keys[fold(str(label))] = key
    keys.update(ALIASES)
    return keys


def _choice_keys(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for value, label in choices:
        keys[fold(value)] = value
        keys[fold(value.replace("_", " "))] = value
        for lang in ("vi", "en"):
            with translation.override(lang):
                keys[fold(str(label))] = value
    return keys


# --- export -----------------------------------------------------------------------------


def _xlsx(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _safe(value: Any) -> Any:
    """A text cell never starts a formula when opened in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_tasks(tasks: Iterable[ProgrammeTask], today: dt.date | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Nhiệm vụ"))
    sheet.append([str(label) for _k, label, _r in COLUMNS] + [str(h) for _k, h in EXPORT_EXTRA])
    for task in tasks:
        deadline: Any = task.deadline
        if deadline is not None:
            cell = WriteOnlyCell(sheet, value=deadline)
            cell.number_format = DATE_FORMAT
            deadline = cell
        sheet.append(
            [
                _safe(task.code),
                _safe(task.title),
                _safe(task.legal_source),
                _safe(task.owner_agency.code),
                str(task.get_level_display()),
                task.unit.code,
                deadline,
                str(task.get_status_display()),
                task.progress,
                _safe(task.owner_agency.name),
                task.unit.name,
                _safe(task.group.name) if task.group is not None else "",
                _("Có") if is_overdue(task, today) else "",
            ]
        )
    return _xlsx(workbook)


def template() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101 -- a new workbook has one sheet
    sheet.title = _("Nhiệm vụ")
    sheet.append([str(label) for _k, label, _r in COLUMNS])
    sheet.append(
        [
            "DA06-001",
            _("Triển khai thu thập, cập nhật dữ liệu dân cư"),
            "Quyết định 06/QĐ-TTg",
            "CA-XA-001",
            str(Level.COMMUNE.label),
            "00004",
            timezone.localdate().replace(month=12, day=31),
            str(TaskStatus.NOT_STARTED.label),
            0,
        ]
    )
    sheet.cell(row=2, column=7).number_format = DATE_FORMAT
    for index, width in enumerate((14, 50, 28, 20, 18, 12, 14, 28, 12), start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    guide = workbook.create_sheet(_("Hướng dẫn"))
    guide.append([_("Cột"), _("Bắt buộc"), _("Giá trị")])
    for key, label, required in COLUMNS:
        if key == "level":
            values = "; ".join(str(lbl) for _v, lbl in Level.choices)
        elif key == "status":
            values = "; ".join(str(lbl) for _v, lbl in TaskStatus.choices)
        elif key == "deadline":
            values = _("Ngày (dd/mm/yyyy)")
        elif key == "progress":
            values = _("Số nguyên 0–100")
        elif key == "unit":
            values = _("Mã tỉnh (cấp tỉnh) hoặc mã xã (cấp xã, thôn)")
        else:
            values = ""
        guide.append([str(label), _("Có") if required else _("Không"), values])
    return _xlsx(workbook)


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str


class ImportFailed(ValidationFailed):
    """The file or some rows are bad; nothing was written."""

    code = "import_failed"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            _("Tệp có %(n)d lỗi: chưa nhập nhiệm vụ nào.") % {"n": len(problems)}, field="file"
        )
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _file_problem(message: str) -> ImportFailed:
    return ImportFailed([Problem(0, "", message)])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            # A calendar date, not an instant: no time zone applies.
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 -- a date only
        except ValueError:
            continue
    raise ValueError(text)


def _open(upload: IO[bytes]) -> Any:
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise _file_problem(_("Tệp quá lớn: tối đa %(mb)d MB.") % {"mb": MAX_BYTES // 1048576})
    if not content.startswith(b"PK\x03\x04"):
        raise _file_problem(_("Tệp không phải Excel (.xlsx)."))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _file_problem(_("Tệp Excel bị hỏng hoặc không đọc được.")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _file_problem(
            _("Tệp quá lớn khi giải nén: tối đa %(mb)d MB.") % {"mb": MAX_UNPACKED_BYTES // 1048576}
        )
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise _file_problem(_("Tệp Excel bị hỏng hoặc không đọc được.")) from None


def _columns(header: tuple[Any, ...]) -> dict[str, int]:
    """Column index by key, from the header row; ImportFailed when one is missing."""
    known = _header_keys()
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, cell in enumerate(header):
        key = known.get(fold(_text(cell)))
        if key is None:
            continue  # an extra column (a note, the agency's name): ignored
        if key in columns:
            problems.append(Problem(1, _text(cell), _("Cột bị lặp lại.")))
        columns[key] = index
    for key, label, required in COLUMNS:
        if required and key not in columns:
            problems.append(Problem(1, str(label), _("Thiếu cột bắt buộc.")))
    if problems:
        raise ImportFailed(problems)
    return columns


def _read_rows(upload: IO[bytes]) -> tuple[dict[str, int], list[tuple[int, tuple[Any, ...]]]]:
    workbook = _open(upload)
    damaged = _file_problem(_("Tệp Excel bị hỏng hoặc không đọc được."))
    try:
        if not workbook.worksheets:
            raise _file_problem(_("Tệp không có trang tính nào."))
        rows = workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = next(rows, None)
        if header is None:
            raise _file_problem(_("Tệp trống: thiếu dòng tiêu đề."))
        columns = _columns(tuple(header))
        data: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(rows, start=2):
            if number > MAX_SCANNED_ROWS:
                raise _file_problem(_("Tệp quá nhiều dòng: tối đa %(n)d.") % {"n": MAX_ROWS})
            if all(_text(v) == "" for v in values):
                continue
            if len(data) >= MAX_ROWS:
                raise _file_problem(_("Tệp quá nhiều dòng: tối đa %(n)d.") % {"n": MAX_ROWS})
            data.append((number, tuple(values)))
    except DomainError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise damaged from None
    finally:
        workbook.close()
    return columns, data


def _label_of(key: str) -> str:
    return next(str(label) for k, label, _r in COLUMNS if k == key)


# The import column a service error's field belongs to.
FIELD_COLUMNS = {
    "code": "code",
    "title": "title",
    "legal_source": "legal_source",
    "owner_agency": "owner_agency",
    "level": "level",
    "unit": "unit",
    "deadline": "deadline",
    "status": "status",
    "progress": "progress",
    "group": "code",
}


class _RowChecker:
    """Validates one row at a time against the actor's jurisdiction."""

    def __init__(self, actor: Actor, columns: dict[str, int]) -> None:
        self.j = scope_of(actor)
        self.columns = columns
        self.levels = _choice_keys(Level.choices)
        self.statuses = _choice_keys(TaskStatus.choices)
        self.agencies = dict(Agency.objects.filter(active=True).values_list("code", "pk"))
        self.seen: dict[str, int] = {}

    def cell(self, values: tuple[Any, ...], key: str) -> Any:
        index = self.columns.get(key)
        return values[index] if index is not None and index < len(values) else None

    def _unit(self, level: str | None, code: str) -> AdministrativeUnit | None:
        if not code or level is None:
            return None
        wanted = "province" if level == Level.PROVINCE else "commune"
        return AdministrativeUnit.objects.current().filter(level=wanted, code=code).first()

    def check(self, number: int, values: tuple[Any, ...]) -> tuple[TaskData | None, list[Problem]]:
        problems: list[Problem] = []

        def bad(key: str, message: str) -> None:
            problems.append(Problem(number, _label_of(key), message))

        code = _text(self.cell(values, "code"))
        if code in self.seen:
            bad("code", _("Mã nhiệm vụ trùng với dòng %(n)d.") % {"n": self.seen[code]})
        elif code:
            self.seen[code] = number
        level = self.levels.get(fold(_text(self.cell(values, "level"))))
        if level is None:
            bad(
                "level",
                _("Cấp không hợp lệ: dùng “Cấp tỉnh”, “Cấp xã” hoặc “Cấp thôn, tổ dân phố”."),
            )
        status_text = fold(_text(self.cell(values, "status")))
        status = self.statuses.get(status_text) if status_text else TaskStatus.NOT_STARTED
        if status is None:
            bad("status", _("Tình trạng không hợp lệ."))
        try:
            deadline = _parse_date(self.cell(values, "deadline"))
        except ValueError:
            deadline = None
            bad("deadline", _("Thời hạn không phải ngày (dd/mm/yyyy)."))
        unit_code = _text(self.cell(values, "unit"))
        unit = self._unit(level, unit_code)
        if level is not None and unit is None:
            bad(
                "unit", _("Không tìm thấy địa bàn “%(code)s” ở cấp này.") % {"code": unit_code[:20]}
            )
        agency_code = _text(self.cell(values, "owner_agency"))
        agency_id = self.agencies.get(agency_code)
        if agency_id is None:
            bad(
                "owner_agency", _("Không tìm thấy cơ quan “%(code)s”.") % {"code": agency_code[:40]}
            )
        existing = ProgrammeTask.objects.filter(code=code).select_related("unit").first()
        if existing is not None and not self.j.covers(existing.unit):
            bad("code", _("Mã nhiệm vụ đã được dùng cho nhiệm vụ ngoài địa bàn quản lý."))
        if problems:
            return None, problems
        progress = _text(self.cell(values, "progress")) or 0
        try:
            data = validate_task(
                self.j,
                code=code,
                title=self.cell(values, "title"),
                legal_source=self.cell(values, "legal_source"),
                owner_agency_id=agency_id,
                level=level,
                unit_id=unit.pk if unit is not None else None,
                deadline=deadline,
                group_id=existing.group_id if existing is not None else None,
                status=status,
                progress=progress,
            )
        except DomainError as exc:
            bad(FIELD_COLUMNS.get(exc.field or "", "code"), str(exc.message))
            return None, problems
        return data, problems


@requires(Perm.TASK_MANAGE)
def import_tasks(actor: Actor, upload: IO[bytes]) -> ImportResult:
    """Validate every row, then create or update all tasks in one transaction; on any
    problem raise ImportFailed listing them and write nothing."""
    columns, rows = _read_rows(upload)
    checker = _RowChecker(actor, columns)
    problems: list[Problem] = []
    valid: list[TaskData] = []
    for number, values in rows:
        data, found = checker.check(number, values)
        problems += found
        if data is not None:
            valid.append(data)
        if len(problems) >= MAX_PROBLEMS:
            break
    if not rows:
        problems.append(Problem(0, "", _("Tệp không có dòng nhiệm vụ nào.")))
    if problems:
        raise ImportFailed(problems[:MAX_PROBLEMS])
    created = updated = 0
    with transaction.atomic():
        for data in valid:
            task = ProgrammeTask.objects.select_for_update().filter(code=data.code).first()
            save_task(actor, data, existing=task)
            if task is None:
                created += 1
            else:
                updated += 1
    return ImportResult(created=created, updated=updated)


__all__ = [
    "COLUMNS",
    "XLSX_TYPE",
    "ImportFailed",
    "ImportResult",
    "Problem",
    "export_tasks",
    "import_tasks",
    "template",
]

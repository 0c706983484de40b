"""The programme's task tracker: tasks, progress notes, evidence files (issue 7, part 4).

Who sees and changes what:

* reading (``Perm.TASK_READ``): tasks whose unit lies in the actor's jurisdiction (a
  provincial leader or officer: the province and its communes; a commune one: the
  commune), plus the tasks the actor's own agency owns; anything else is a NotFound;
* creating and editing (``Perm.TASK_MANAGE``): tasks of units in the actor's jurisdiction;
* progress notes and evidence (``Perm.TASK_UPDATE``): the owner agency's officers and
  anyone holding ``TASK_MANAGE`` who sees the task.

Every change is audited with ``record_change`` in the same transaction; status changes
carry their old and new value.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from congdan.audit.services import diff, record_change
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.jurisdiction import Jurisdiction, jurisdiction_of
from congdan.core.models import Agency, User
from congdan.core.permissions import Perm, Role, check_perm, has_perm, requires
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring.models import (
    Level,
    ProgrammeTask,
    TaskEvidence,
    TaskNote,
    TaskStatus,
    WorkingGroup,
)
from congdan.monitoring.services.ids import as_pk

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Actor = User | AnonymousUser

CLOSED = (TaskStatus.DONE, TaskStatus.CANCELLED)
MAX_CODE = 40
MAX_TITLE = 500
MAX_LEGAL_SOURCE = 300
MAX_NOTE = 4000
# Evidence: a report, minutes, a photo, a spreadsheet.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
# A docx/xlsx is a ZIP: refuse one whose members would unpack to more than this.
ZIP_MAX_UNPACKED = 100 * 1024 * 1024
MAX_PIXELS = 50_000_000
PDF_TAIL = 2048
EVIDENCE_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The part an Office Open XML file of each kind must hold.
OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
MAGIC = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
ZIP_MAGIC = b"PK\x03\x04"


# --- scope ------------------------------------------------------------------------------


def scope_of(actor: Actor | None) -> Jurisdiction:
    """The actor's jurisdiction for the task tracker."""
    return jurisdiction_of(actor)


def unit_filter(j: Jurisdiction, prefix: str = "unit") -> Q:
    """Rows whose ``prefix`` unit lies within ``j`` (nothing when ``j`` is none)."""
    if j.national:
        return Q()
    if j.unit is None:
        return Q(pk__in=[])
    if j.is_province:
        return Q(**{f"{prefix}_id": j.unit.pk}) | Q(**{f"{prefix}__parent_id": j.unit.pk})
    return Q(**{f"{prefix}_id": j.unit.pk})


def _agency_id(actor: Actor | None) -> int | None:
    """The actor's agency, when both are active (a closed agency's officers lose its
    tasks, as they lose its jurisdiction)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return None
    agency = getattr(actor, "agency", None)
    if agency is None or not agency.active:
        return None
    return int(agency.pk)


def tasks_for(actor: Actor | None) -> QuerySet[ProgrammeTask]:
    """Tasks the actor may read: deny by default."""
    qs = ProgrammeTask.objects.select_related("owner_agency", "unit", "group")
    if not has_perm(actor, Perm.TASK_READ):
        return qs.none()
    j = scope_of(actor)
    own = _agency_id(actor)
    cond = unit_filter(j)
    if own is not None and getattr(actor, "role", "") == Role.OFFICER:
        cond = cond | Q(owner_agency_id=own)
    if j.none and own is None:
        return qs.none()
    return qs.filter(cond)


def get_task(actor: Actor | None, task_id: int | str) -> ProgrammeTask:
    pk = as_pk(task_id)
    task = tasks_for(actor).filter(pk=pk).first()
    if task is None:
        raise NotFound(_("Không tìm thấy nhiệm vụ."), code="task_not_found")
    return task


def can_manage(actor: Actor | None, task: ProgrammeTask) -> bool:
    return has_perm(actor, Perm.TASK_MANAGE) and scope_of(actor).covers(task.unit)


def can_update(actor: Actor | None, task: ProgrammeTask) -> bool:
    if not has_perm(actor, Perm.TASK_UPDATE):
        return False
    if can_manage(actor, task):
        return True
    own = _agency_id(actor)
    return own is not None and own == task.owner_agency_id


def units_for(actor: Actor | None) -> QuerySet[AdministrativeUnit]:
    """Current provinces and communes within the actor's jurisdiction."""
    j = scope_of(actor)
    qs = AdministrativeUnit.objects.current().filter(level__in=("province", "commune"))
    if j.national:
        return qs
    if j.unit is None:
        return qs.none()
    if j.is_province:
        return qs.filter(Q(pk=j.unit.pk) | Q(parent_id=j.unit.pk))
    return qs.filter(pk=j.unit.pk)


def agencies_for(actor: Actor | None) -> QuerySet[Agency]:
    """Active agencies a task in the actor's jurisdiction may be given to: those of its
    units, and (for a commune) of its province."""
    j = scope_of(actor)
    qs = Agency.objects.filter(active=True)
    if j.national:
        return qs
    if j.unit is None:
        return qs.none()
    cond = unit_filter(j, "jurisdiction")
    if not j.is_province and j.unit.parent_id is not None:
        cond = cond | Q(jurisdiction_id=j.unit.parent_id)
    return qs.filter(cond)


def groups_in(j: Jurisdiction) -> QuerySet[WorkingGroup]:
    return WorkingGroup.objects.select_related("unit", "parent").filter(unit_filter(j))


# --- filters and the per-agency view -----------------------------------------------------


@dataclass(frozen=True)
class TaskFilter:
    status: str = ""
    agency: int | None = None
    level: str = ""
    overdue: bool = False
    group: int | None = None


def overdue_q(today: dt.date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(deadline__lt=today) & ~Q(status__in=CLOSED)


def filter_tasks(
    qs: QuerySet[ProgrammeTask], flt: TaskFilter, today: dt.date | None = None
) -> QuerySet[ProgrammeTask]:
    if flt.status:
        qs = qs.filter(status=flt.status)
    if flt.agency is not None:
        qs = qs.filter(owner_agency_id=flt.agency)
    if flt.level:
        qs = qs.filter(level=flt.level)
    if flt.group is not None:
        qs = qs.filter(group_id=flt.group)
    if flt.overdue:
        qs = qs.filter(overdue_q(today))
    return qs.order_by("deadline", "code")


def is_overdue(task: ProgrammeTask, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return task.deadline is not None and task.deadline < today and task.status not in CLOSED


@dataclass
class AgencySummary:
    agency_id: int
    code: str
    name: str
    total: int = 0
    overdue: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def not_started(self) -> int:
        return self.count(TaskStatus.NOT_STARTED)

    @property
    def waiting(self) -> int:
        return self.count(TaskStatus.WAITING)

    @property
    def in_progress(self) -> int:
        return self.count(TaskStatus.IN_PROGRESS)

    @property
    def done(self) -> int:
        return self.count(TaskStatus.DONE)

    @property
    def cancelled(self) -> int:
        return self.count(TaskStatus.CANCELLED)

    @property
    def sentence(self) -> str:
        """ "6 of 55 tasks not started, 3 waiting on central guidance" in Vietnamese."""
        return str(
            _(
                "%(not_started)d trên %(total)d nhiệm vụ chưa triển khai, %(waiting)d chờ "
                "hướng dẫn của trung ương, %(done)d hoàn thành, %(overdue)d quá hạn"
            )
            % {
                "not_started": self.not_started,
                "total": self.total,
                "waiting": self.waiting,
                "done": self.done,
                "overdue": self.overdue,
            }
        )


def agency_summary(
    qs: QuerySet[ProgrammeTask], today: dt.date | None = None
) -> list[AgencySummary]:
    """Per owner agency: counts by status and the overdue count, by agency code."""
    rows: dict[int, AgencySummary] = {}
    counted = (
        qs.order_by()
        .values("owner_agency_id", "owner_agency__code", "owner_agency__name", "status")
        .annotate(n=Count("id"), late=Count("id", filter=overdue_q(today)))
    )
    for row in counted:
        summary = rows.setdefault(
            row["owner_agency_id"],
            AgencySummary(
                agency_id=row["owner_agency_id"],
                code=row["owner_agency__code"],
                name=row["owner_agency__name"],
            ),
        )
        summary.by_status[row["status"]] = row["n"]
        summary.total += row["n"]
        summary.overdue += row["late"]
    return sorted(rows.values(), key=lambda s: s.code)


# --- validation -------------------------------------------------------------------------


def _refuse(message: Any, code: str, field_name: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, field=field_name)


def clean_text(value: Any, *, field_name: str, max_len: int, required: bool) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if required and not text:
        raise _refuse(_("Trường này là bắt buộc."), "required", field_name)
    if len(text) > max_len:
        raise _refuse(_("Quá dài (tối đa %(n)d ký tự).") % {"n": max_len}, "too_long", field_name)
    if not text.isprintable():
        raise _refuse(_("Có ký tự không được phép."), "invalid_characters", field_name)
    return text


def clean_code(value: Any) -> str:
    code = clean_text(value, field_name="code", max_len=MAX_CODE, required=True)
    if any(ch.isspace() for ch in code):
        raise _refuse(_("Mã nhiệm vụ không được chứa dấu cách."), "invalid_code", "code")
    return code


def clean_status(value: Any) -> TaskStatus:
    try:
        return TaskStatus(str(value))
    except ValueError:
        raise _refuse(_("Tình trạng không hợp lệ."), "invalid_status", "status") from None


def clean_level(value: Any) -> Level:
    try:
        return Level(str(value))
    except ValueError:
        raise _refuse(_("Cấp không hợp lệ."), "invalid_level", "level") from None


def clean_progress(value: Any) -> int:
    try:
        progress = int(value)
    except (TypeError, ValueError):
        raise _refuse(
            _("Tiến độ phải là số nguyên từ 0 đến 100."), "invalid_progress", "progress"
        ) from None
    if not 0 <= progress <= 100:
        raise _refuse(_("Tiến độ phải là số nguyên từ 0 đến 100."), "invalid_progress", "progress")
    return progress


def unit_for_level(j: Jurisdiction, level: Level, unit_id: Any) -> AdministrativeUnit:
    """The current unit ``unit_id`` for a task or group of ``level`` (a province for the
    province level, a commune otherwise), within ``j``."""
    pk = as_pk(unit_id)
    unit = AdministrativeUnit.objects.current().filter(pk=pk).select_related("parent").first()
    if unit is None or not j.covers(unit):
        raise NotFound(
            _("Không tìm thấy địa bàn trong phạm vi quản lý."), code="unit", field="unit"
        )
    wanted = "province" if level == Level.PROVINCE else "commune"
    if unit.level != wanted:
        raise _refuse(
            _("Nhiệm vụ, tổ công tác cấp tỉnh gắn với một tỉnh; cấp xã, thôn gắn với một xã."),
            "unit_level",
            "unit",
        )
    return unit


def owner_agency(j: Jurisdiction, unit: AdministrativeUnit, agency_id: Any) -> Agency:
    """An active agency of the task's unit or of its province."""
    pk = as_pk(agency_id)
    agency = Agency.objects.filter(pk=pk, active=True).first()
    allowed = {unit.pk, unit.parent_id} - {None}
    # The unit's own agencies or its province's; a ministry (no jurisdiction) only when a
    # national user assigns it. Never another province's agency, whoever asks.
    if agency is None or not (
        agency.jurisdiction_id in allowed or (agency.jurisdiction_id is None and j.national)
    ):
        raise NotFound(
            _("Không tìm thấy cơ quan chủ trì của địa bàn này."),
            code="agency",
            field="owner_agency",
        )
    return agency


def group_for_task(j: Jurisdiction, unit: AdministrativeUnit, group_id: Any) -> WorkingGroup | None:
    if group_id in (None, ""):
        return None
    pk = as_pk(group_id)
    group = groups_in(j).filter(pk=pk).first()
    if group is None:
        raise NotFound(_("Không tìm thấy tổ công tác."), code="group", field="group")
    # The task's own unit or its province: a commune's group does not carry a province's
    # task (its members would not see it).
    related = {unit.pk, unit.parent_id} - {None}
    if group.unit_id not in related:
        raise _refuse(
            _("Tổ công tác không thuộc địa bàn của nhiệm vụ."), "group_elsewhere", "group"
        )
    return group


@dataclass(frozen=True)
class TaskData:
    """Validated values of a task."""

    code: str
    title: str
    legal_source: str
    owner_agency: Agency
    level: Level
    unit: AdministrativeUnit
    group: WorkingGroup | None
    deadline: dt.date | None
    status: TaskStatus
    progress: int


def validate_task(
    j: Jurisdiction,
    *,
    code: Any,
    title: Any,
    legal_source: Any = "",
    owner_agency_id: Any,
    level: Any,
    unit_id: Any,
    deadline: dt.date | None = None,
    group_id: Any = None,
    status: Any = TaskStatus.NOT_STARTED,
    progress: Any = 0,
) -> TaskData:
    code_ = clean_code(code)
    title_ = clean_text(title, field_name="title", max_len=MAX_TITLE, required=True)
    legal = clean_text(
        legal_source, field_name="legal_source", max_len=MAX_LEGAL_SOURCE, required=False
    )
    level_ = clean_level(level)
    unit = unit_for_level(j, level_, unit_id)
    agency = owner_agency(j, unit, owner_agency_id)
    group = group_for_task(j, unit, group_id)
    status_ = clean_status(status)
    progress_ = clean_progress(progress)
    if status_ == TaskStatus.DONE:
        progress_ = 100
    if deadline is not None and not dt.date(2000, 1, 1) <= deadline <= dt.date(2100, 12, 31):
        raise _refuse(_("Thời hạn không hợp lệ."), "invalid_deadline", "deadline")
    return TaskData(code_, title_, legal, agency, level_, unit, group, deadline, status_, progress_)


def _snapshot(task: ProgrammeTask) -> dict[str, Any]:
    return {
        "code": task.code,
        "title": task.title,
        "legal_source": task.legal_source,
        "owner_agency": task.owner_agency_id,
        "level": task.level,
        "unit": task.unit_id,
        "group": task.group_id,
        "deadline": task.deadline,
        "status": task.status,
        "progress": task.progress,
    }


def _apply(task: ProgrammeTask, data: TaskData) -> None:
    task.code = data.code
    task.title = data.title
    task.legal_source = data.legal_source
    task.owner_agency = data.owner_agency
    task.level = data.level
    task.unit = data.unit
    task.group = data.group
    task.deadline = data.deadline
    _set_status(task, data.status, data.progress)


def _set_status(task: ProgrammeTask, status: str, progress: int) -> None:
    now = timezone.now()
    if status == TaskStatus.DONE:
        progress = 100
        if task.status != TaskStatus.DONE or task.completed_at is None:
            task.completed_at = now
    else:
        task.completed_at = None
    task.status = status
    task.progress = progress
    task.updated_at = now


def save_task(
    actor: Actor | None, data: TaskData, *, existing: ProgrammeTask | None
) -> ProgrammeTask:
    """Write validated data (inside the caller's transaction), audited. ``existing`` is
    locked by the caller; None creates (a taken code is a ValidationFailed)."""
    user = actor if isinstance(actor, User) else None
    if existing is None:
        if ProgrammeTask.objects.filter(code=data.code).exists():
            raise _refuse(_("Mã nhiệm vụ đã được dùng."), "code_taken", "code")
        task = ProgrammeTask()
        _apply(task, data)
        task.save()
        record_change(user, action="create_task", obj=task, changes=diff({}, _snapshot(task)))
        return task
    before = _snapshot(existing)
    _apply(existing, data)
    existing.save()
    changes = diff(before, _snapshot(existing))
    if changes:
        record_change(user, action="update_task", obj=existing, changes=changes)
    return existing


@requires(Perm.TASK_MANAGE)
def create_task(actor: Actor, **values: Any) -> ProgrammeTask:
    """Create a task in the actor's jurisdiction (keyword arguments of ``validate_task``)."""
    data = validate_task(scope_of(actor), **values)
    with transaction.atomic():
        return save_task(actor, data, existing=None)


def _locked(actor: Actor, task_id: int | str) -> ProgrammeTask:
    task = get_task(actor, task_id)
    return ProgrammeTask.objects.select_for_update().select_related("unit").get(pk=task.pk)


@requires(Perm.TASK_MANAGE)
def update_task(actor: Actor, task_id: int | str, **values: Any) -> ProgrammeTask:
    """Edit a task of the actor's jurisdiction; its code stays."""
    j = scope_of(actor)
    with transaction.atomic():
        task = _locked(actor, task_id)
        if not j.covers(task.unit):
            raise NotFound(_("Không tìm thấy nhiệm vụ."), code="task_not_found")
        values["code"] = task.code
        data = validate_task(j, **values)
        return save_task(actor, data, existing=task)


@requires(Perm.TASK_UPDATE)
def add_note(
    actor: Actor, task_id: int | str, *, text: Any, status: Any, progress: Any
) -> TaskNote:
    """A progress note; it sets the task's status and progress (done: 100 %)."""
    with transaction.atomic():
        task = _locked(actor, task_id)
        if not can_update(actor, task):
            raise PermissionDenied(
                _("Chỉ cơ quan chủ trì hoặc lãnh đạo địa bàn được cập nhật nhiệm vụ này."),
                code="not_task_owner",
            )
        body = clean_text(text, field_name="text", max_len=MAX_NOTE, required=True)
        status_ = clean_status(status)
        progress_ = 100 if status_ == TaskStatus.DONE else clean_progress(progress)
        before = {"status": task.status, "progress": task.progress}
        _set_status(task, status_, progress_)
        task.save(update_fields=["status", "progress", "completed_at", "updated_at"])
        user = actor if isinstance(actor, User) else None
        assert user is not None  # noqa: S101 -- TASK_UPDATE is held by users only
        note = TaskNote.objects.create(
            task=task, author=user, text=body, status=status_, progress=progress_
        )
        record_change(
            user,
            action="task_progress",
            obj=task,
            changes=diff(before, {"status": task.status, "progress": task.progress}),
            reason=body,
        )
    return note


# --- evidence ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedEvidence:
    content: bytes
    content_type: str
    extension: str


def _check_image(content: bytes, fmt: str) -> None:
    broken = _refuse(_("Tệp ảnh bị hỏng hoặc không đọc được."), "file_damaged", "file")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format != fmt:
                raise broken
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _refuse(_("Ảnh quá lớn (quá nhiều điểm ảnh)."), "image_too_big", "file")
            probe.verify()
    except ValidationFailed:
        raise
    except Image.DecompressionBombError:
        raise _refuse(_("Ảnh quá lớn (quá nhiều điểm ảnh)."), "image_too_big", "file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise broken from None


def _check_ooxml(content: bytes, extension: str) -> None:
    broken = _refuse(
        _("Tệp .%(ext)s bị hỏng hoặc không phải tài liệu Office.") % {"ext": extension},
        "file_damaged",
        "file",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > ZIP_MAX_UNPACKED:
                raise _refuse(_("Tệp nén quá lớn khi giải nén."), "file_too_large", "file")
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names or OOXML_MAIN_PART[extension] not in names:
                raise broken
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise _refuse(_("Không nhận tệp có macro (VBA)."), "file_has_macros", "file")
    except ValidationFailed:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise broken from None


def check_evidence(upload: IO[bytes], *, name: str, size: int | None = None) -> CheckedEvidence:
    """The file's bytes and type judged by content, or ValidationFailed (field ``file``).
    Reads at most ``EVIDENCE_MAX_BYTES + 1`` bytes."""
    too_large = _refuse(
        _("Tệp quá lớn: tối đa %(mb)d MB.") % {"mb": EVIDENCE_MAX_BYTES // (1024 * 1024)},
        "file_too_large",
        "file",
    )
    if size is not None and size > EVIDENCE_MAX_BYTES:
        raise too_large
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EVIDENCE_TYPES:
        raise _refuse(
            _("Chỉ nhận tệp PDF, JPEG, PNG, Word (.docx) hoặc Excel (.xlsx)."),
            "file_extension",
            "file",
        )
    content = upload.read(EVIDENCE_MAX_BYTES + 1)
    if len(content) > EVIDENCE_MAX_BYTES:
        raise too_large
    if not content:
        raise _refuse(_("Tệp rỗng: hãy chọn lại tệp."), "file_empty", "file")
    content_type = EVIDENCE_TYPES[extension]
    magic = MAGIC.get(content_type, ZIP_MAGIC)
    if not content.startswith(magic):
        raise _refuse(
            _("Nội dung tệp không đúng như phần mở rộng “.%(ext)s” của nó.") % {"ext": extension},
            "file_not_what_it_says",
            "file",
        )
    if content_type == "application/pdf":
        if b"%%EOF" not in content[-PDF_TAIL:]:
            raise _refuse(_("Tệp PDF bị cắt cụt hoặc bị hỏng."), "file_damaged", "file")
    elif content_type == "image/jpeg":
        _check_image(content, "JPEG")
    elif content_type == "image/png":
        _check_image(content, "PNG")
    else:
        _check_ooxml(content, extension)
    return CheckedEvidence(content, content_type, "jpg" if extension == "jpeg" else extension)


def _display_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[-200:] or "tep"


@requires(Perm.TASK_UPDATE)
def add_evidence(actor: Actor, task_id: int | str, *, file: IO[bytes]) -> TaskEvidence:
    """Attach a file proving progress; nothing is stored when a check fails."""
    name = str(getattr(file, "name", "") or "")
    stored: list[str] = []
    try:
        with transaction.atomic():
            task = _locked(actor, task_id)
            if not can_update(actor, task):
                raise PermissionDenied(
                    _("Chỉ cơ quan chủ trì hoặc lãnh đạo địa bàn được cập nhật nhiệm vụ này."),
                    code="not_task_owner",
                )
            checked = check_evidence(file, name=name, size=getattr(file, "size", None))
            user = actor if isinstance(actor, User) else None
            assert user is not None  # noqa: S101 -- TASK_UPDATE is held by users only
            evidence = TaskEvidence(
                task=task,
                name=_display_name(name),
                content_type=checked.content_type,
                size=len(checked.content),
                uploaded_by=user,
            )
            # Written last, after every check; removed below if the transaction fails.
            evidence.file.save(
                f"evidence.{checked.extension}", ContentFile(checked.content), save=False
            )
            stored.append(str(evidence.file.name))
            evidence.save()
            record_change(
                user, action="task_evidence", obj=task, changes={"evidence": [None, evidence.name]}
            )
    except BaseException:
        for path in stored:
            TaskEvidence.file.field.storage.delete(path)
        raise
    return evidence


def get_evidence(actor: Actor | None, task_id: int | str, evidence_id: int | str) -> TaskEvidence:
    check_perm(actor, Perm.TASK_READ)
    task = get_task(actor, task_id)
    pk = as_pk(evidence_id)
    evidence = TaskEvidence.objects.filter(task=task, pk=pk).first()
    if evidence is None:
        raise NotFound(_("Không tìm thấy tệp minh chứng."), code="evidence_not_found")
    return evidence


__all__ = [
    "AgencySummary",
    "TaskData",
    "TaskFilter",
    "add_evidence",
    "add_note",
    "agencies_for",
    "agency_summary",
    "can_manage",
    "can_update",
    "check_evidence",
    "create_task",
    "filter_tasks",
    "get_evidence",
    "get_task",
    "is_overdue",
    "save_task",
    "scope_of",
    "tasks_for",
    "units_for",
    "update_task",
    "validate_task",
]

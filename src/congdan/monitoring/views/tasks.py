"""The task tracker's pages (issue 7, part 4), under ``/monitoring/tasks/``:

* the list with filters (status, agency, level, group, overdue), overdue rows marked, and
  its export to Excel (``?format=xlsx``);
* the per-agency view: counts by status and overdue per owner agency;
* one task: progress notes (with status and progress), evidence files, edit link;
* create / edit (``Perm.TASK_MANAGE``), import from Excel and the import template.

Reads need ``Perm.TASK_READ``; a task outside the jurisdiction is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.core.errors import DomainError, PermissionDenied
from congdan.core.permissions import Perm, has_perm
from congdan.core.web import add_domain_error, permission_required_view, submit_form
from congdan.monitoring import tasks_io
from congdan.monitoring.models import Level, ProgrammeTask, TaskStatus
from congdan.monitoring.services import tasks as task_services
from congdan.monitoring.services.groups import groups_for

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
LIST_LIMIT = 500


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Tình trạng"),
        required=False,
        choices=[("", gettext_lazy("Tất cả")), *TaskStatus.choices],
    )
    agency = forms.TypedChoiceField(
        label=gettext_lazy("Cơ quan chủ trì"), required=False, coerce=int, empty_value=None
    )
    level = forms.ChoiceField(
        label=gettext_lazy("Cấp"),
        required=False,
        choices=[("", gettext_lazy("Tất cả")), *Level.choices],
    )
    group = forms.TypedChoiceField(
        label=gettext_lazy("Tổ công tác"), required=False, coerce=int, empty_value=None
    )
    overdue = forms.BooleanField(label=gettext_lazy("Chỉ nhiệm vụ quá hạn"), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible = task_services.tasks_for(actor)
        agency_rows = (
            visible.order_by("owner_agency__code")
            .values_list("owner_agency_id", "owner_agency__code", "owner_agency__name")
            .distinct()
        )
        agency_field = self.fields["agency"]
        assert isinstance(agency_field, forms.ChoiceField)  # noqa: S101 -- declared above
        agency_field.choices = [("", _("Tất cả"))] + [
            (str(pk), f"{code} – {name}") for pk, code, name in agency_rows
        ]
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ChoiceField)  # noqa: S101 -- declared above
        group_field.choices = [("", _("Tất cả"))] + [
            (str(g.pk), g.name) for g in groups_for(actor)[:300]
        ]

    def task_filter(self) -> task_services.TaskFilter:
        data = self.cleaned_data
        return task_services.TaskFilter(
            status=data.get("status") or "",
            agency=data.get("agency"),
            level=data.get("level") or "",
            overdue=bool(data.get("overdue")),
            group=data.get("group"),
        )


def _filtered(request: HttpRequest) -> tuple[FilterForm, Any]:
    form = FilterForm(request.GET or None, actor=request.user)
    qs = task_services.tasks_for(request.user)
    if request.GET and not form.is_valid():
        return form, None
    flt = form.task_filter() if request.GET else task_services.TaskFilter()
    return form, task_services.filter_tasks(qs, flt)


@require_GET
@permission_required_view(Perm.TASK_READ)
def task_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    if qs is None:
        return render(request, "monitoring/tasks/list.html", {"form": form}, status=400)
    if request.GET.get("format") == "xlsx":
        content = tasks_io.export_tasks(qs.iterator(chunk_size=500))
        response = HttpResponse(content, content_type=tasks_io.XLSX_TYPE)
        stamp = timezone.localdate().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="nhiem-vu-{stamp}.xlsx"'
        return response
    today = timezone.localdate()
    total = qs.count()
    tasks = list(qs[:LIST_LIMIT])
    rows = [{"task": t, "overdue": task_services.is_overdue(t, today)} for t in tasks]
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(
        request,
        "monitoring/tasks/list.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "truncated": total > len(tasks),
            "overdue_count": qs.filter(task_services.overdue_q(today)).count(),
            "export_query": query.urlencode(),
            "can_manage": has_perm(request.user, Perm.TASK_MANAGE),
        },
    )


@require_GET
@permission_required_view(Perm.TASK_READ)
def agency_view(request: HttpRequest) -> HttpResponse:
    qs = task_services.tasks_for(request.user)
    summaries = task_services.agency_summary(qs)
    totals = task_services.AgencySummary(agency_id=0, code="", name=_("Tổng cộng"))
    for s in summaries:
        totals.total += s.total
        totals.overdue += s.overdue
        for status, n in s.by_status.items():
            totals.by_status[status] = totals.by_status.get(status, 0) + n
    return render(
        request,
        "monitoring/tasks/agencies.html",
        {"summaries": summaries, "totals": totals, "statuses": TaskStatus.choices},
    )


class NoteForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Tình trạng"), choices=TaskStatus.choices)
    progress = forms.IntegerField(label=gettext_lazy("Tiến độ (%)"), min_value=0, max_value=100)
    text = forms.CharField(
        label=gettext_lazy("Nội dung cập nhật"),
        max_length=task_services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Tệp minh chứng"),
        help_text=gettext_lazy("PDF, JPEG, PNG, Word (.docx) hoặc Excel (.xlsx), tối đa 10 MB."),
    )


def _detail(request: HttpRequest, task: ProgrammeTask, **forms_: Any) -> dict[str, Any]:
    return {
        "task": task,
        "overdue": task_services.is_overdue(task),
        "notes": task.notes.select_related("author")[:100],
        "evidence": task.evidence.order_by("-uploaded_at", "-id"),
        "can_update": task_services.can_update(request.user, task),
        "can_manage": task_services.can_manage(request.user, task),
        "note_form": forms_.get("note_form")
        or NoteForm(initial={"status": task.status, "progress": task.progress}),
        "evidence_form": forms_.get("evidence_form") or EvidenceForm(),
    }


def _require_update(request: HttpRequest, task: ProgrammeTask) -> None:
    if not task_services.can_update(request.user, task):
        raise PermissionDenied(
            _("Chỉ cơ quan chủ trì hoặc lãnh đạo địa bàn được cập nhật nhiệm vụ này."),
            code="not_task_owner",
        )


@require_GET
@permission_required_view(Perm.TASK_READ)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_services.get_task(request.user, pk)
    return render(request, "monitoring/tasks/detail.html", _detail(request, task))


@require_POST
@permission_required_view(Perm.TASK_UPDATE)
def task_note(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_services.get_task(request.user, pk)
    _require_update(request, task)
    form = NoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: task_services.add_note(
                request.user,
                task.pk,
                text=data["text"],
                status=data["status"],
                progress=data["progress"],
            ),
        )
        if done is not None:
            messages.success(request, _("Đã cập nhật tiến độ."))
            return redirect("monitoring:task_detail", pk=task.pk)
    return render(
        request, "monitoring/tasks/detail.html", _detail(request, task, note_form=form), status=400
    )


@require_POST
@permission_required_view(Perm.TASK_UPDATE)
def task_evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_services.get_task(request.user, pk)
    _require_update(request, task)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        done = submit_form(
            form, lambda: task_services.add_evidence(request.user, task.pk, file=upload)
        )
        if done is not None:
            messages.success(request, _("Đã tải lên tệp minh chứng."))
            return redirect("monitoring:task_detail", pk=task.pk)
    return render(
        request,
        "monitoring/tasks/detail.html",
        _detail(request, task, evidence_form=form),
        status=400,
    )


@require_GET
@permission_required_view(Perm.TASK_READ)
def task_evidence_file(request: HttpRequest, pk: int, evidence_id: int) -> FileResponse:
    evidence = task_services.get_evidence(request.user, pk, evidence_id)
    try:
        handle = evidence.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=evidence.content_type)
    stored = str(evidence.file.name or "")
    suffix = stored.rsplit(".", 1)[-1] if "." in stored else "bin"
    response["Content-Disposition"] = f'attachment; filename="minh-chung-{evidence.pk}.{suffix}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class TaskForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Mã nhiệm vụ"), max_length=task_services.MAX_CODE)
    title = forms.CharField(
        label=gettext_lazy("Nhiệm vụ"),
        max_length=task_services.MAX_TITLE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    legal_source = forms.CharField(
        label=gettext_lazy("Văn bản giao"),
        max_length=task_services.MAX_LEGAL_SOURCE,
        required=False,
    )
    owner_agency = forms.TypedChoiceField(label=gettext_lazy("Cơ quan chủ trì"), coerce=int)
    level = forms.ChoiceField(label=gettext_lazy("Cấp"), choices=Level.choices)
    unit = forms.TypedChoiceField(label=gettext_lazy("Địa bàn"), coerce=int)
    group = forms.TypedChoiceField(
        label=gettext_lazy("Tổ công tác"), coerce=int, required=False, empty_value=None
    )
    deadline = forms.DateField(
        label=gettext_lazy("Thời hạn"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    status = forms.ChoiceField(label=gettext_lazy("Tình trạng"), choices=TaskStatus.choices)
    progress = forms.IntegerField(
        label=gettext_lazy("Tiến độ (%)"), min_value=0, max_value=100, initial=0
    )

    def __init__(self, *args: Any, actor: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = {
            "owner_agency": [
                (str(a.pk), f"{a.code} – {a.name}")
                for a in task_services.agencies_for(actor).order_by("code")[:1000]
            ],
            "unit": [
                (str(u.pk), f"{u.code} – {u.name}")
                for u in task_services.units_for(actor).order_by("level", "code")[:4000]
            ],
            "group": [("", "—")] + [(str(g.pk), g.name) for g in groups_for(actor)[:1000]],
        }
        for name, options in choices.items():
            f = self.fields[name]
            assert isinstance(f, forms.ChoiceField)  # noqa: S101 -- declared above
            f.choices = options
        if editing:
            self.fields["code"].disabled = True


def _task_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": data["title"],
        "legal_source": data.get("legal_source") or "",
        "owner_agency_id": data["owner_agency"],
        "level": data["level"],
        "unit_id": data["unit"],
        "deadline": data.get("deadline"),
        "group_id": data.get("group"),
        "status": data["status"],
        "progress": data["progress"],
    }


FIELD_MAP = {"owner_agency": "owner_agency", "unit": "unit", "group": "group"}


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.TASK_MANAGE)
def task_create(request: HttpRequest) -> HttpResponse:
    form = TaskForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        values = _task_values(form.cleaned_data)
        task = submit_form(
            form,
            lambda: task_services.create_task(
                request.user, code=form.cleaned_data["code"], **values
            ),
            FIELD_MAP,
        )
        if task is not None:
            messages.success(request, _("Đã tạo nhiệm vụ."))
            return redirect("monitoring:task_detail", pk=task.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "monitoring/tasks/form.html", {"form": form, "task": None}, status=status
    )


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.TASK_MANAGE)
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_services.get_task(request.user, pk)
    if not task_services.can_manage(request.user, task):
        raise Http404
    initial = {
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
    form = TaskForm(request.POST or None, actor=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = _task_values(form.cleaned_data)
        done = submit_form(
            form, lambda: task_services.update_task(request.user, task.pk, **values), FIELD_MAP
        )
        if done is not None:
            messages.success(request, _("Đã lưu nhiệm vụ."))
            return redirect("monitoring:task_detail", pk=task.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "monitoring/tasks/form.html", {"form": form, "task": task}, status=status
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Tệp Excel (.xlsx)"),
        help_text=gettext_lazy("Dòng đầu là tiêu đề cột như trong tệp mẫu; tối đa 5 MB."),
    )


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.TASK_MANAGE)
def task_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[tasks_io.Problem] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = tasks_io.import_tasks(request.user, form.cleaned_data["file"])
        except tasks_io.ImportFailed as exc:
            problems = exc.problems
            form.add_error("file", str(exc.message))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Đã nhập %(created)d nhiệm vụ mới, cập nhật %(updated)d nhiệm vụ.")
                % {"created": result.created, "updated": result.updated},
            )
            return redirect("monitoring:task_list")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "monitoring/tasks/import.html",
        {"form": form, "problems": problems, "columns": tasks_io.COLUMNS},
        status=status,
    )


@require_GET
@permission_required_view(Perm.TASK_MANAGE)
def task_import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(tasks_io.template(), content_type=tasks_io.XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-nhiem-vu.xlsx"'
    return response

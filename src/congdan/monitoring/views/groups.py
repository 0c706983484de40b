"""Working groups (tổ công tác) and their members, under ``/monitoring/groups/``: read with
``Perm.TASK_READ``, changed with ``Perm.TASK_MANAGE`` within the jurisdiction (a group
outside it is a 404)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.core.errors import DomainError
from congdan.core.permissions import Perm, has_perm
from congdan.core.web import permission_required_view, submit_form
from congdan.monitoring.models import GroupRole, Level, WorkingGroup
from congdan.monitoring.services import groups as group_services
from congdan.monitoring.services.tasks import is_overdue, tasks_for, units_for


class GroupForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Tên tổ công tác"), max_length=group_services.MAX_NAME
    )
    level = forms.ChoiceField(label=gettext_lazy("Cấp"), choices=Level.choices)
    unit = forms.TypedChoiceField(label=gettext_lazy("Địa bàn"), coerce=int)
    village = forms.CharField(
        label=gettext_lazy("Thôn, tổ dân phố"),
        max_length=group_services.MAX_VILLAGE,
        required=False,
        help_text=gettext_lazy("Chỉ với tổ cấp thôn."),
    )
    parent = forms.TypedChoiceField(
        label=gettext_lazy("Tổ cấp trên"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, actor: Any, exclude: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        parent_field = self.fields["parent"]
        assert isinstance(unit_field, forms.ChoiceField)  # noqa: S101 -- declared above
        assert isinstance(parent_field, forms.ChoiceField)  # noqa: S101 -- declared above
        unit_field.choices = [
            (str(u.pk), f"{u.code} – {u.name}")
            for u in units_for(actor).order_by("level", "code")[:4000]
        ]
        parent_field.choices = [("", "—")] + [
            (str(g.pk), g.name) for g in group_services.groups_for(actor)[:1000] if g.pk != exclude
        ]


class MemberForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Họ tên"), max_length=group_services.MAX_PERSON)
    position = forms.CharField(
        label=gettext_lazy("Chức vụ, đơn vị"),
        max_length=group_services.MAX_POSITION,
        required=False,
    )
    role = forms.ChoiceField(label=gettext_lazy("Vai trò"), choices=GroupRole.choices)
    phone = forms.CharField(label=gettext_lazy("Điện thoại"), max_length=20, required=False)


def _group_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "level": data["level"],
        "unit_id": data["unit"],
        "village": data.get("village") or "",
        "parent_id": data.get("parent"),
    }


@require_GET
@permission_required_view(Perm.TASK_READ)
def group_list(request: HttpRequest) -> HttpResponse:
    groups = group_services.groups_for(request.user)
    return render(
        request,
        "monitoring/tasks/groups.html",
        {"groups": groups[:1000], "can_manage": has_perm(request.user, Perm.TASK_MANAGE)},
    )


def _detail_context(request: HttpRequest, group: WorkingGroup, **extra: Any) -> dict[str, Any]:
    # Only the group's tasks this user may read (a province group's tasks of other
    # communes stay hidden from a commune leader).
    tasks = list(tasks_for(request.user).filter(group=group).order_by("deadline", "code")[:500])
    return {
        "group": group,
        "members": group.members.order_by("role", "name"),
        "rows": [{"task": t, "overdue": is_overdue(t)} for t in tasks],
        "can_manage": has_perm(request.user, Perm.TASK_MANAGE),
        "member_form": extra.get("member_form") or MemberForm(initial={"role": GroupRole.MEMBER}),
    }


@require_GET
@permission_required_view(Perm.TASK_READ)
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_services.get_group(request.user, pk)
    return render(request, "monitoring/tasks/group_detail.html", _detail_context(request, group))


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.TASK_MANAGE)
def group_create(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        values = _group_values(form.cleaned_data)
        group = submit_form(form, lambda: group_services.create_group(request.user, **values))
        if group is not None:
            messages.success(request, _("Đã tạo tổ công tác."))
            return redirect("monitoring:group_detail", pk=group.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "monitoring/tasks/group_form.html", {"form": form, "group": None}, status=status
    )


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.TASK_MANAGE)
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_services.get_group(request.user, pk)
    initial = {
        "name": group.name,
        "level": group.level,
        "unit": group.unit_id,
        "village": group.village,
        "parent": group.parent_id,
    }
    form = GroupForm(request.POST or None, actor=request.user, exclude=group.pk, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = _group_values(form.cleaned_data)
        done = submit_form(
            form, lambda: group_services.update_group(request.user, group.pk, **values)
        )
        if done is not None:
            messages.success(request, _("Đã lưu tổ công tác."))
            return redirect("monitoring:group_detail", pk=group.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "monitoring/tasks/group_form.html", {"form": form, "group": group}, status=status
    )


@require_POST
@permission_required_view(Perm.TASK_MANAGE)
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_services.get_group(request.user, pk)
    try:
        group_services.delete_group(request.user, group.pk)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, str(exc.message))
        return redirect("monitoring:group_detail", pk=group.pk)
    messages.success(request, _("Đã xóa tổ công tác."))
    return redirect("monitoring:group_list")


@require_POST
@permission_required_view(Perm.TASK_MANAGE)
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    group = group_services.get_group(request.user, pk)
    form = MemberForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: group_services.add_member(
                request.user,
                group.pk,
                name=data["name"],
                position=data.get("position") or "",
                role=data["role"],
                phone=data.get("phone") or "",
            ),
        )
        if done is not None:
            messages.success(request, _("Đã thêm thành viên."))
            return redirect("monitoring:group_detail", pk=group.pk)
    return render(
        request,
        "monitoring/tasks/group_detail.html",
        _detail_context(request, group, member_form=form),
        status=400,
    )


@require_POST
@permission_required_view(Perm.TASK_MANAGE)
def member_remove(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    group = group_services.get_group(request.user, pk)
    group_services.remove_member(request.user, group.pk, member_id)
    messages.success(request, _("Đã xóa thành viên khỏi tổ."))
    return redirect("monitoring:group_detail", pk=group.pk)

"""Working groups of Đề án 06 (tổ công tác) at province, commune and village level, and
their members. Managed with ``Perm.TASK_MANAGE`` within the actor's jurisdiction; read
with ``Perm.TASK_READ`` (a group outside the jurisdiction is a NotFound). Audited.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import diff, record_change
from congdan.core.errors import Conflict, NotFound, ValidationFailed
from congdan.core.models import User
from congdan.core.permissions import Perm, has_perm, requires
from congdan.monitoring.models import GroupMember, GroupRole, Level, WorkingGroup
from congdan.monitoring.services.ids import as_pk
from congdan.monitoring.services.tasks import (
    clean_level,
    clean_text,
    groups_in,
    scope_of,
    unit_for_level,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Actor = User | AnonymousUser

PHONE = re.compile(r"\+?[0-9]{9,15}")
MAX_NAME = 200
MAX_VILLAGE = 120
MAX_PERSON = 150
MAX_POSITION = 200


def groups_for(actor: Actor | None) -> QuerySet[WorkingGroup]:
    if not has_perm(actor, Perm.TASK_READ):
        return WorkingGroup.objects.none()
    return groups_in(scope_of(actor)).order_by("unit__code", "level", "name")


def get_group(actor: Actor | None, group_id: int | str) -> WorkingGroup:
    pk = as_pk(group_id)
    group = groups_for(actor).filter(pk=pk).first()
    if group is None:
        raise NotFound(_("Không tìm thấy tổ công tác."), code="group_not_found")
    return group


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _validate(
    actor: Actor, *, name: Any, level: Any, unit_id: Any, village: Any, parent_id: Any
) -> dict[str, Any]:
    j = scope_of(actor)
    name_ = clean_text(name, field_name="name", max_len=MAX_NAME, required=True)
    level_ = clean_level(level)
    unit = unit_for_level(j, level_, unit_id)
    village_ = clean_text(
        village, field_name="village", max_len=MAX_VILLAGE, required=level_ == Level.VILLAGE
    )
    if level_ != Level.VILLAGE:
        village_ = ""
    parent = None
    if parent_id not in (None, ""):
        pk = as_pk(parent_id)
        parent = groups_in(j).filter(pk=pk).first()
        if parent is None:
            raise NotFound(_("Không tìm thấy tổ cấp trên."), code="parent", field="parent")
        order = [Level.PROVINCE, Level.COMMUNE, Level.VILLAGE]
        if order.index(Level(parent.level)) >= order.index(level_) or parent.unit_id not in (
            unit.pk,
            unit.parent_id,
        ):
            raise ValidationFailed(
                _("Tổ cấp trên phải ở cấp cao hơn, cùng địa bàn hoặc địa bàn cấp trên."),
                code="bad_parent",
                field="parent",
            )
    return {"name": name_, "level": level_, "unit": unit, "village": village_, "parent": parent}


def _snapshot(group: WorkingGroup) -> dict[str, Any]:
    return {
        "name": group.name,
        "level": group.level,
        "unit": group.unit_id,
        "village": group.village,
        "parent": group.parent_id,
    }


@requires(Perm.TASK_MANAGE)
def create_group(
    actor: Actor, *, name: Any, level: Any, unit_id: Any, village: Any = "", parent_id: Any = None
) -> WorkingGroup:
    values = _validate(
        actor, name=name, level=level, unit_id=unit_id, village=village, parent_id=parent_id
    )
    with transaction.atomic():
        group = WorkingGroup.objects.create(**values)
        record_change(
            _user(actor), action="create_group", obj=group, changes=diff({}, _snapshot(group))
        )
    return group


@requires(Perm.TASK_MANAGE)
def update_group(
    actor: Actor,
    group_id: int | str,
    *,
    name: Any,
    level: Any,
    unit_id: Any,
    village: Any = "",
    parent_id: Any = None,
) -> WorkingGroup:
    values = _validate(
        actor, name=name, level=level, unit_id=unit_id, village=village, parent_id=parent_id
    )
    with transaction.atomic():
        group = WorkingGroup.objects.select_for_update().get(pk=get_group(actor, group_id).pk)
        if values["parent"] is not None and values["parent"].pk == group.pk:
            raise ValidationFailed(
                _("Tổ không thể là tổ cấp trên của chính nó."), code="bad_parent", field="parent"
            )
        before = _snapshot(group)
        for key, value in values.items():
            setattr(group, key, value)
        group.save()
        changes = diff(before, _snapshot(group))
        if changes:
            record_change(_user(actor), action="update_group", obj=group, changes=changes)
    return group


@requires(Perm.TASK_MANAGE)
def delete_group(actor: Actor, group_id: int | str) -> None:
    """Remove a group that has no tasks and no subordinate groups."""
    with transaction.atomic():
        group = WorkingGroup.objects.select_for_update().get(pk=get_group(actor, group_id).pk)
        if group.tasks.exists() or group.children.exists():
            raise Conflict(
                _("Tổ công tác còn nhiệm vụ hoặc tổ cấp dưới: không xóa được."),
                code="group_in_use",
            )
        record_change(
            _user(actor), action="delete_group", obj=group, changes=diff(_snapshot(group), {})
        )
        group.members.all().delete()
        group.delete()


def _member_values(*, name: Any, position: Any, role: Any, phone: Any) -> dict[str, Any]:
    name_ = clean_text(name, field_name="name", max_len=MAX_PERSON, required=True)
    position_ = clean_text(position, field_name="position", max_len=MAX_POSITION, required=False)
    try:
        role_ = GroupRole(str(role))
    except ValueError:
        raise ValidationFailed(
            _("Vai trò không hợp lệ."), code="invalid_role", field="role"
        ) from None
    phone_ = re.sub(r"[\s.\-()]", "", str(phone or ""))
    if phone_ and not PHONE.fullmatch(phone_):
        raise ValidationFailed(
            _("Số điện thoại không hợp lệ (9 đến 15 chữ số)."), code="invalid_phone", field="phone"
        )
    return {"name": name_, "position": position_, "role": role_, "phone": phone_}


def _one_head(group: WorkingGroup, role: str, member_id: int | None = None) -> None:
    if role != GroupRole.HEAD:
        return
    heads = group.members.filter(role=GroupRole.HEAD)
    if member_id is not None:
        heads = heads.exclude(pk=member_id)
    if heads.exists():
        raise ValidationFailed(_("Tổ đã có tổ trưởng."), code="head_exists", field="role")


def _member_snapshot(member: GroupMember) -> dict[str, Any]:
    return {
        "name": member.name,
        "position": member.position,
        "role": member.role,
        "phone": member.phone,
    }


@requires(Perm.TASK_MANAGE)
def add_member(
    actor: Actor,
    group_id: int | str,
    *,
    name: Any,
    position: Any = "",
    role: Any = GroupRole.MEMBER,
    phone: Any = "",
) -> GroupMember:
    values = _member_values(name=name, position=position, role=role, phone=phone)
    with transaction.atomic():
        group = WorkingGroup.objects.select_for_update().get(pk=get_group(actor, group_id).pk)
        _one_head(group, values["role"])
        member = GroupMember.objects.create(group=group, **values)
        record_change(
            _user(actor),
            action="add_group_member",
            obj=group,
            changes={"member": [None, f"{member.name} ({member.role})"]},
        )
    return member


@requires(Perm.TASK_MANAGE)
def update_member(
    actor: Actor,
    group_id: int | str,
    member_id: int | str,
    *,
    name: Any,
    position: Any = "",
    role: Any = GroupRole.MEMBER,
    phone: Any = "",
) -> GroupMember:
    values = _member_values(name=name, position=position, role=role, phone=phone)
    with transaction.atomic():
        group = WorkingGroup.objects.select_for_update().get(pk=get_group(actor, group_id).pk)
        member = _member(group, member_id)
        _one_head(group, values["role"], member.pk)
        before = _member_snapshot(member)
        for key, value in values.items():
            setattr(member, key, value)
        member.save()
        changes = diff(before, _member_snapshot(member))
        if changes:
            record_change(
                _user(actor),
                action="update_group_member",
                obj=group,
                changes={f"member.{member.pk}.{k}": v for k, v in changes.items()},
            )
    return member


def _member(group: WorkingGroup, member_id: int | str) -> GroupMember:
    pk = as_pk(member_id)
    member = group.members.filter(pk=pk).first()
    if member is None:
        raise NotFound(_("Không tìm thấy thành viên."), code="member_not_found")
    return member


@requires(Perm.TASK_MANAGE)
def remove_member(actor: Actor, group_id: int | str, member_id: int | str) -> None:
    with transaction.atomic():
        group = WorkingGroup.objects.select_for_update().get(pk=get_group(actor, group_id).pk)
        member = _member(group, member_id)
        record_change(
            _user(actor),
            action="remove_group_member",
            obj=group,
            changes={"member": [f"{member.name} ({member.role})", None]},
        )
        member.delete()


__all__ = [
    "add_member",
    "create_group",
    "delete_group",
    "get_group",
    "groups_for",
    "remove_member",
    "update_group",
    "update_member",
]

"""Member organisations and their subsystems.

A subsystem's machine credentials are a client-credentials application of our OAuth2
provider with the ``exchange:query`` scope; the secret is returned once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import record_change
from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.permissions import Perm, check_perm
from congdan.exchange import policy
from congdan.exchange.models import Member, MemberClass, MemberKind, MemberStatus, Subsystem
from congdan.identity.services import clients

if TYPE_CHECKING:
    from congdan.core.models import Agency, User

    Actor = User | None


def _check(actor: Actor) -> None:
    """``None`` is the system (a management command, the demo seed)."""
    if actor is not None:
        check_perm(actor, Perm.EXCHANGE_MANAGE)


def register_member(
    actor: Actor,
    *,
    code: str,
    name: str,
    kind: str,
    member_class: str = MemberClass.GOV,
    agency: Agency | None = None,
) -> Member:
    _check(actor)
    code = code.strip()
    if kind not in MemberKind.values or member_class not in MemberClass.values:
        raise ValidationFailed(_("Loại hoặc nhóm thành viên không hợp lệ."), code="invalid_kind")
    if not code or not name.strip():
        raise ValidationFailed(_("Cần mã và tên tổ chức."), code="required", field="code")
    with transaction.atomic():
        if Member.objects.filter(code=code).exists():
            raise ValidationFailed(
                _("Mã thành viên đã tồn tại."), code="member_exists", field="code"
            )
        member = Member.objects.create(
            code=code, name=name.strip(), kind=kind, member_class=member_class, agency=agency
        )
        record_change(
            actor,
            action="exchange_member_register",
            obj=member,
            changes={"code": [None, code], "name": [None, member.name], "kind": [None, kind]},
        )
    return member


@dataclass
class NewSubsystem:
    subsystem: Subsystem
    client_id: str
    client_secret: str  # plain, shown once


def add_subsystem(
    actor: Actor,
    *,
    member: Member,
    code: str,
    name: str,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> NewSubsystem:
    """A subsystem with its own client-credentials credentials (``exchange:query``)."""
    _check(actor)
    code = code.strip()
    if not code:
        raise ValidationFailed(_("Cần mã hệ thống."), code="required", field="code")
    with transaction.atomic():
        if Subsystem.objects.filter(member=member, code=code).exists():
            raise ValidationFailed(
                _("Mã hệ thống đã tồn tại."), code="subsystem_exists", field="code"
            )
        # exchange:grant:manage was checked above; the application is created by the
        # system on the actor's behalf (the subsystem's change record names the actor).
        registered = clients.create_client(
            None,
            name=f"{member.name} – {name}",
            scopes=[policy.SCOPE],
            client_credentials=True,
            organisation=member.name,
            client_id=client_id or f"{member.code}-{code}",
            client_secret=client_secret,
        )
        subsystem = Subsystem.objects.create(
            member=member, code=code, name=name.strip(), application=registered.application
        )
        record_change(
            actor,
            action="exchange_subsystem_add",
            obj=subsystem,
            changes={"identifier": [None, subsystem.identifier]},
        )
    return NewSubsystem(
        subsystem=subsystem,
        client_id=str(registered.application.client_id),
        client_secret=registered.client_secret,
    )


def set_member_status(actor: Actor, *, member_id: int, status: str, reason: str) -> Member:
    """Suspend, reactivate or terminate a member: its systems' calls stop (or resume)."""
    _check(actor)
    if status not in MemberStatus.values:
        raise ValidationFailed(_("Trạng thái không hợp lệ."), code="invalid_status")
    if not reason.strip():
        raise ValidationFailed(_("Cần ghi lý do."), code="required", field="reason")
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(pk=member_id).first()
        if member is None:
            raise NotFound(_("Không tìm thấy tổ chức thành viên."), code="member_not_found")
        old = member.status
        if old == MemberStatus.TERMINATED:
            raise ValidationFailed(
                _("Thành viên đã chấm dứt không thể kích hoạt lại."), code="member_terminated"
            )
        member.status = status
        member.save(update_fields=["status"])
        record_change(
            actor,
            action="exchange_member_status",
            obj=member,
            changes={"status": [old, status]},
            reason=reason,
        )
        policy.clear_caches()
        transaction.on_commit(policy.clear_caches)
    return member


def describe(member: Member) -> dict[str, Any]:
    return {"identifier": member.identifier, "name": member.name, "status": member.status}

"""Granting and revoking access: organisation × service × purpose × fields, with
validity dates. Every change is a change record (who, when, why, legal basis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import record_change
from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.permissions import Perm, check_perm
from congdan.exchange import policy
from congdan.exchange.models import (
    AccessGrant,
    DataService,
    Member,
    ServicePurpose,
    Subsystem,
)

if TYPE_CHECKING:
    from congdan.core.models import User

    Actor = User | None


def _check(actor: Actor) -> None:
    """``None`` is the system (a management command, the demo seed)."""
    if actor is not None:
        check_perm(actor, Perm.EXCHANGE_MANAGE)


def grant_access(
    actor: Actor,
    *,
    member: Member,
    service: DataService,
    purpose: ServicePurpose,
    fields: Sequence[str],
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    subsystem: Subsystem | None = None,
    note: str = "",
) -> AccessGrant:
    _check(actor)
    chosen = list(dict.fromkeys(f for f in fields if f))
    if purpose.service_id != service.pk:
        raise ValidationFailed(
            _("Mục đích không thuộc dịch vụ này."), code="purpose_not_of_service", field="purpose"
        )
    if not chosen:
        raise ValidationFailed(
            _("Chọn ít nhất một trường dữ liệu."), code="fields_required", field="fields"
        )
    outside = [f for f in chosen if f not in service.fields]
    if outside:
        raise ValidationFailed(
            _("Dịch vụ %(service)s không có các trường: %(fields)s.")
            % {"service": service.code, "fields": ", ".join(outside)},
            code="unknown_field",
            field="fields",
        )
    start = valid_from or timezone.localdate()
    if valid_until is not None and valid_until < start:
        raise ValidationFailed(
            _("Ngày hết hiệu lực phải sau ngày bắt đầu."), code="bad_period", field="valid_until"
        )
    if subsystem is not None and subsystem.member_id != member.pk:
        raise ValidationFailed(
            _("Hệ thống không thuộc tổ chức này."), code="subsystem_not_of_member"
        )
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            member=member,
            subsystem=subsystem,
            service=service,
            purpose=purpose,
            fields=chosen,
            valid_from=start,
            valid_until=valid_until,
            note=note[:300],
            granted_by=actor,
        )
        record_change(
            actor,
            action="exchange_grant",
            obj=grant,
            changes={
                "member": [None, member.code],
                "subsystem": [None, subsystem.code if subsystem else None],
                "service": [None, service.code],
                "purpose": [None, purpose.code],
                "fields": [None, chosen],
                "valid_from": [None, start.isoformat()],
                "valid_until": [None, valid_until.isoformat() if valid_until else None],
            },
            reason=note,
            legal_basis=purpose.legal_basis,
        )
        policy.clear_caches()
        transaction.on_commit(policy.clear_caches)
    return grant


def revoke_grant(actor: Actor, *, grant_id: int, reason: str) -> AccessGrant:
    _check(actor)
    if not reason.strip():
        raise ValidationFailed(_("Cần ghi lý do thu hồi."), code="required", field="reason")
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is None:
            raise NotFound(_("Không tìm thấy quyền này."), code="grant_not_found")
        if grant.revoked_at is not None:
            raise ValidationFailed(_("Quyền này đã bị thu hồi."), code="already_revoked")
        now = timezone.now()
        grant.revoked_at = now
        grant.revoked_by = actor
        grant.revoke_reason = reason.strip()[:300]
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record_change(
            actor,
            action="exchange_grant_revoke",
            obj=grant,
            changes={"revoked_at": [None, now.isoformat()]},
            reason=reason,
        )
        policy.clear_caches()
        transaction.on_commit(policy.clear_caches)
    return grant


def change_validity(
    actor: Actor, *, grant_id: int, valid_until: dt.date | None, reason: str
) -> AccessGrant:
    """Shorten or extend a grant's end date."""
    _check(actor)
    if not reason.strip():
        raise ValidationFailed(_("Cần ghi lý do."), code="required", field="reason")
    with transaction.atomic():
        grant = AccessGrant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is None:
            raise NotFound(_("Không tìm thấy quyền này."), code="grant_not_found")
        if valid_until is not None and valid_until < grant.valid_from:
            raise ValidationFailed(
                _("Ngày hết hiệu lực phải sau ngày bắt đầu."),
                code="bad_period",
                field="valid_until",
            )
        old = grant.valid_until
        grant.valid_until = valid_until
        grant.save(update_fields=["valid_until"])
        record_change(
            actor,
            action="exchange_grant_validity",
            obj=grant,
            changes={
                "valid_until": [
                    old.isoformat() if old else None,
                    valid_until.isoformat() if valid_until else None,
                ]
            },
            reason=reason,
        )
        policy.clear_caches()
        transaction.on_commit(policy.clear_caches)
    return grant

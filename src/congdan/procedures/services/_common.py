"""Helpers of the dossier services (no transactions of their own)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import record_change
from congdan.core import notify
from congdan.core.calendar import add_working_days
from congdan.core.errors import Conflict, NotFound
from congdan.geo.models import AdministrativeUnit
from congdan.procedures.models import Bundle, Dossier, DossierEvent, DossierStatus
from congdan.procedures.scoping import dossiers_for
from congdan.procedures.specs import ProcedureSpec, catalogue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

    Actor = User | AnonymousUser

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def official(message: Any, **params: Any) -> str:
    """A note stored with the dossier, in the official language whatever the reader's
    (the timeline and the change history are records, not UI text)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(message)
        return text % {k: str(v) for k, v in params.items()} if params else text


def new_code(prefix: str) -> str:
    """``HS2611210001XY``-like: prefix, date, six random characters (unique by retry)."""
    model: Any = Bundle if prefix == "LT" else Dossier
    for _attempt in range(10):
        tail = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        code = f"{prefix}{timezone.localdate():%y%m%d}{tail}"
        if not model.objects.filter(code=code).exists():
            return code
    raise Conflict(_("Không tạo được mã hồ sơ; vui lòng thử lại."), code="code_exhausted")


def spec_of(dossier: Dossier) -> ProcedureSpec:
    spec = catalogue().procedure(dossier.procedure_code)
    if spec is None:
        raise Conflict(
            _("Thủ tục của hồ sơ này không còn trong danh mục."), code="procedure_withdrawn"
        )
    return spec


def lock_for_officer(actor: Actor, code: str) -> Dossier:
    """The dossier, locked, if the officer may act on it; 404 otherwise."""
    dossier = (
        dossiers_for(actor)
        # Lock the dossier row only: PostgreSQL cannot lock the nullable side of the
        # outer joins select_related makes.
        .select_for_update(of=("self",))
        .select_related("applicant", "subject", "unit", "bundle")
        .filter(code=code)
        .first()
    )
    if dossier is None:
        raise NotFound(_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    return dossier


def lock_for_citizen(user: Actor, code: str) -> Dossier:
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("applicant", "subject", "unit", "bundle")
        .filter(code=code, applicant_user=user)
        .first()
        if user.is_authenticated
        else None
    )
    if dossier is None:
        raise NotFound(_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    return dossier


def require_status(dossier: Dossier, *allowed: str) -> None:
    if dossier.status not in allowed:
        raise Conflict(
            _("Hồ sơ đang ở trạng thái “%(status)s”; không thể thực hiện thao tác này.")
            % {"status": dossier.get_status_display()},
            code="wrong_status",
        )


def _agency_name(actor: Actor | None) -> str:
    agency = getattr(actor, "agency", None)
    return agency.name if agency is not None else ""


def transition(
    actor: Actor | None,
    dossier: Dossier,
    to_status: str,
    *,
    action: str,
    note: str = "",
    step: str = "",
    notify_citizen: bool = True,
) -> DossierEvent:
    """Move ``dossier`` to ``to_status``: save, timeline event, change record, and the
    citizen's SMS on commit."""
    from_status = dossier.status
    dossier.status = to_status
    dossier.updated_at = timezone.now()
    dossier.save()
    user = actor if actor is not None and actor.is_authenticated else None
    event = DossierEvent.objects.create(
        dossier=dossier,
        actor=user,
        actor_label=user.get_full_name() or user.get_username() if user else "",
        agency_name=_agency_name(user),
        from_status=from_status,
        to_status=to_status,
        step=step,
        note=note,
    )
    record_change(
        user,
        action=action,
        obj=dossier,
        person_id=dossier.applicant_id,
        changes={"status": [from_status, to_status]},
        reason=note,
    )
    if notify_citizen:
        notify_applicant(dossier, to_status)
    return event


# SMS texts stay unaccented (many handsets and gateways mangle diacritics).
_SMS = {
    DossierStatus.AWAITING_PAYMENT: "dang cho thanh toan le phi",
    DossierStatus.SUBMITTED: "da duoc nop",
    DossierStatus.RECEIVED: "da duoc tiep nhan",
    DossierStatus.IN_PROCESSING: "dang duoc xu ly",
    DossierStatus.SUPPLEMENT_REQUESTED: "can bo sung giay to; vui long xem chi tiet tren cong",
    DossierStatus.RESULT_ISSUED: "da co ket qua; giay to da vao kho giay to cua ban",
    DossierStatus.REJECTED: "bi tu choi; xem ly do tren cong",
    DossierStatus.CANCELLED: "da bi huy",
    DossierStatus.WITHDRAWN: "da duoc rut",
}


def notify_applicant(dossier: Dossier, status: str) -> None:
    text = _SMS.get(DossierStatus(status)) if status in DossierStatus.values else None
    if text is None:
        return
    from congdan.identity.models import EidAccount  # noqa: PLC0415 -- identity imports registry only

    phone = (
        EidAccount.objects.filter(person_id=dossier.applicant_id)
        .values_list("phone", flat=True)
        .first()
    )
    if phone:
        body = f"Ho so {dossier.code} {text}."
        transaction.on_commit(lambda: notify.send_sms(phone, body))


def due_from(start_date: Any, days: int) -> Any:
    return add_working_days(start_date, days)


def province_of(unit: AdministrativeUnit) -> AdministrativeUnit:
    return unit.parent if unit.level == "commune" and unit.parent is not None else unit


def audit(actor: Actor | None, obj: Any, action: str, person_id: int, **changes: Any) -> None:
    record_change(
        actor,
        action=action,
        obj=obj,
        person_id=person_id,
        changes={k: [None, v] for k, v in changes.items()},
    )

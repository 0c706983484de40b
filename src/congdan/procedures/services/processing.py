"""The officers' side of a dossier: receive, claim and assign, review steps, request a
supplement, approve (with its effect on the registry) or reject; and how a bundle moves
on when one of its parts is decided."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import Conflict, PermissionDenied, ValidationFailed
from congdan.core.models import Position, User
from congdan.core.permissions import Perm, has_perm, requires
from congdan.payments import services as payments
from congdan.procedures import effects
from congdan.procedures.models import (
    FINAL_STATUSES,
    Bundle,
    BundleStatus,
    Dossier,
    DossierStatus,
)
from congdan.procedures.scoping import can_act_on
from congdan.procedures.services._common import (
    lock_for_officer,
    official,
    province_of,
    require_status,
    spec_of,
    transition,
)
from congdan.procedures.specs import catalogue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.procedures.specs import StepSpec

    Actor = User | AnonymousUser


def _require_position(actor: Actor, step: StepSpec) -> None:
    position = getattr(actor, "position", "")
    if position and position != step.role:
        raise PermissionDenied(
            _("Bước “%(step)s” do %(role)s thực hiện.")
            % {"step": str(step.name), "role": Position(step.role).label},
            code="wrong_position",
        )


def _current_step(dossier: Dossier) -> StepSpec:
    steps = spec_of(dossier).steps
    return steps[min(dossier.step_index, len(steps) - 1)]


@requires(Perm.DOSSIER_PROCESS)
def receive_dossier(actor: Actor, *, code: str, note: str = "") -> Dossier:
    """The one-stop counter accepts a submitted dossier: the agency takes it on."""
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        require_status(dossier, DossierStatus.SUBMITTED)
        step = spec_of(dossier).steps[0]
        _require_position(actor, step)
        dossier.agency = getattr(actor, "agency", None)
        dossier.received_at = timezone.now()
        dossier.step_index = 1
        transition(
            actor,
            dossier,
            DossierStatus.RECEIVED,
            action="receive_dossier",
            note=note,
            step=step.code,
        )
    return dossier


@requires(Perm.DOSSIER_PROCESS)
def claim_dossier(actor: Actor, *, code: str) -> Dossier:
    """Take a received dossier into one's own work list."""
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        require_status(
            dossier, DossierStatus.RECEIVED, DossierStatus.SUPPLEMENTED, DossierStatus.IN_PROCESSING
        )
        if dossier.assigned_to_id not in (None, actor.pk):
            raise Conflict(
                _("Hồ sơ đã được %(name)s nhận xử lý.")
                % {"name": dossier.assigned_to.get_full_name() if dossier.assigned_to else ""},
                code="already_claimed",
            )
        dossier.assigned_to = actor  # type: ignore[assignment]  # an authenticated officer
        transition(
            actor,
            dossier,
            DossierStatus.IN_PROCESSING,
            action="claim_dossier",
            notify_citizen=dossier.status == DossierStatus.RECEIVED,
        )
    return dossier


@requires(Perm.DOSSIER_PROCESS)
def assign_dossier(actor: Actor, *, code: str, to_username: str) -> Dossier:
    """A leader (or a one-person office) gives the dossier to a colleague who may act on it."""
    if getattr(actor, "position", "") not in ("", Position.LEADER):
        raise PermissionDenied(_("Chỉ lãnh đạo mới phân công hồ sơ."), code="not_leader")
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        if dossier.status in FINAL_STATUSES:
            require_status(dossier, DossierStatus.IN_PROCESSING)
        target = (
            User.objects.select_related("agency")
            .filter(username=to_username, is_active=True)
            .first()
        )
        if (
            target is None
            or not has_perm(target, Perm.DOSSIER_PROCESS)
            or not can_act_on(target, dossier)
        ):
            raise ValidationFailed(
                _("Cán bộ được phân công không xử lý được hồ sơ này (khác cơ quan hoặc địa bàn)."),
                code="invalid_assignee",
                field="to_username",
            )
        dossier.assigned_to = target
        dossier.save(update_fields=["assigned_to"])
        transition(
            actor,
            dossier,
            dossier.status,
            action="assign_dossier",
            note=official(
                _("Phân công cho %(name)s"), name=target.get_full_name() or target.username
            ),
            notify_citizen=False,
        )
    return dossier


@requires(Perm.DOSSIER_PROCESS)
def complete_review(actor: Actor, *, code: str, note: str = "") -> Dossier:
    """Finish the current review step; the dossier moves to the next step."""
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        require_status(
            dossier, DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.SUPPLEMENTED
        )
        step = _current_step(dossier)
        if step.kind != "review":
            raise Conflict(
                _("Hồ sơ đang chờ phê duyệt, không còn bước thẩm định."), code="no_review_step"
            )
        _require_position(actor, step)
        dossier.step_index += 1
        if dossier.assigned_to_id is None:
            dossier.assigned_to = actor  # type: ignore[assignment]  # an authenticated officer
        transition(
            actor,
            dossier,
            DossierStatus.IN_PROCESSING,
            action="complete_review",
            note=note,
            step=step.code,
            notify_citizen=False,
        )
    return dossier


@requires(Perm.DOSSIER_PROCESS)
def request_supplement(actor: Actor, *, code: str, reason: str) -> Dossier:
    """Ask the citizen for more; a suspendable procedure's deadline pauses meanwhile."""
    if not reason.strip():
        raise ValidationFailed(
            _("Nêu rõ giấy tờ, thông tin cần bổ sung."), code="required", field="reason"
        )
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        require_status(
            dossier, DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.SUPPLEMENTED
        )
        dossier.supplement_request = reason.strip()
        if spec_of(dossier).suspendable:
            dossier.paused_at = timezone.now()
        transition(
            actor,
            dossier,
            DossierStatus.SUPPLEMENT_REQUESTED,
            action="request_supplement",
            note=reason.strip(),
        )
    return dossier


@requires(Perm.DOSSIER_PROCESS)
def approve_dossier(actor: Actor, *, code: str, note: str = "") -> Dossier:
    """Approve at the decision step: the effect changes the registry, the result document
    is issued, and a bundle's next parts go to their agencies — all in one transaction.
    Two officers approving at once: the row lock serialises them and the second finds
    the dossier decided (``Conflict``)."""
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        require_status(
            dossier, DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.SUPPLEMENTED
        )
        spec = spec_of(dossier)
        step = _current_step(dossier)
        if step.kind != "decide":
            raise Conflict(
                _("Hồ sơ chưa qua bước “%(step)s”.") % {"step": str(step.name)},
                code="steps_pending",
            )
        _require_position(actor, step)
        if dossier.agency_id is None:
            dossier.agency = getattr(actor, "agency", None)
        outcome = effects.apply(actor, dossier, spec)  # type: ignore[arg-type]  # an authenticated officer
        dossier.outputs = outcome.outputs
        dossier.result_document = outcome.document
        dossier.decided_at = timezone.now()
        transition(
            actor,
            dossier,
            DossierStatus.APPROVED,
            action="approve_dossier",
            note=note,
            step=step.code,
            notify_citizen=False,
        )
        transition(
            actor,
            dossier,
            DossierStatus.RESULT_ISSUED,
            action="issue_result",
            note=outcome.document.number,
        )
        if dossier.bundle_id is not None:
            _advance_bundle(actor, dossier)
    return dossier


@requires(Perm.DOSSIER_PROCESS)
def reject_dossier(actor: Actor, *, code: str, reason: str) -> Dossier:
    """Refuse with a reason the citizen reads; a paid fee is refunded; in a bundle, the
    parts that depend on this one are handled as the bundle's spec says."""
    if not reason.strip():
        raise ValidationFailed(_("Nêu rõ lý do từ chối."), code="required", field="reason")
    with transaction.atomic():
        dossier = lock_for_officer(actor, code)
        require_status(
            dossier,
            DossierStatus.SUBMITTED,
            DossierStatus.RECEIVED,
            DossierStatus.IN_PROCESSING,
            DossierStatus.SUPPLEMENT_REQUESTED,
            DossierStatus.SUPPLEMENTED,
        )
        dossier.decision_reason = reason.strip()
        dossier.decided_at = timezone.now()
        dossier.paused_at = None
        transition(
            actor, dossier, DossierStatus.REJECTED, action="reject_dossier", note=reason.strip()
        )
        if dossier.payment_reference and dossier.fee_amount and dossier.bundle_id is None:
            payments.refund_payment(
                actor, reference=dossier.payment_reference, reason=reason.strip()
            )
        if dossier.bundle_id is not None:
            _cancel_dependents(actor, dossier)
            _close_bundle_if_done(dossier.bundle)  # type: ignore[arg-type]  # bundle_id is set
    return dossier


# --- bundles -----------------------------------------------------------------------------


def _bundle_parts(bundle: Bundle) -> dict[str, Dossier]:
    return {
        d.procedure_code: d
        for d in Dossier.objects.select_for_update().filter(bundle=bundle).order_by("part_index")
    }


def _advance_bundle(actor: Actor, decided: Dossier) -> None:
    """Send the waiting parts whose dependencies all have results to their agencies."""
    bundle = decided.bundle
    assert bundle is not None  # noqa: S101 -- called for bundle parts only
    spec = catalogue().bundle(bundle.bundle_code)
    if spec is None:
        return
    parts = _bundle_parts(bundle)
    for part in spec.parts:
        dossier = parts.get(part.procedure)
        if dossier is None or dossier.status != DossierStatus.WAITING:
            continue
        needs = [*part.after, *([part.subject_from] if part.subject_from else [])]
        if any(parts[n].status != DossierStatus.RESULT_ISSUED for n in needs):
            continue
        if part.subject_from is not None:
            source = parts[part.subject_from]
            dossier.subject = source.subject or source.applicant
        proc = catalogue().procedure(part.procedure)
        dossier.unit = _part_unit(
            dossier,
            proc.agency.level if proc else "commune",
            proc.jurisdiction if proc else "applicant",
        )
        dossier.submitted_at = timezone.now()
        note = official(
            _("Chuyển liên thông sau khi có kết quả “%(what)s”"),
            what=catalogue().procedures[needs[0]].name if needs else "",
        )
        transition(
            actor,
            dossier,
            DossierStatus.SUBMITTED,
            action="bundle_forward",
            note=note,
            notify_citizen=False,
        )
    _close_bundle_if_done(bundle)


def _part_unit(dossier: Dossier, level: str, jurisdiction: str) -> Any:
    person = dossier.subject if jurisdiction == "subject" and dossier.subject else dossier.applicant
    commune = person.residence_commune or dossier.applicant.residence_commune
    if commune is None:
        last = person.residences.filter(kind="permanent").order_by("-start_date", "-id").first()
        commune = last.commune if last else None
    if commune is None:
        return None
    return province_of(commune) if level == "province" else commune


def _cancel_dependents(actor: Actor, rejected: Dossier) -> None:
    bundle = rejected.bundle
    assert bundle is not None  # noqa: S101 -- called for bundle parts only
    spec = catalogue().bundle(bundle.bundle_code)
    if spec is None:
        return
    parts = _bundle_parts(bundle)
    name = catalogue().procedures[rejected.procedure_code].name
    failed = {rejected.procedure_code}
    for part in spec.parts:
        dossier = parts.get(part.procedure)
        needs = {*part.after, *([part.subject_from] if part.subject_from else [])}
        if dossier is None or not needs & failed or dossier.status in FINAL_STATUSES:
            continue
        if part.on_dependency_rejected == "continue" and not part.subject_from:
            continue
        note = official(
            _("Hủy vì thủ tục “%(name)s” bị từ chối: %(reason)s"),
            name=name,
            reason=rejected.decision_reason,
        )
        dossier.decision_reason = note
        transition(
            actor,
            dossier,
            DossierStatus.CANCELLED,
            action="bundle_cancel",
            note=note,
            notify_citizen=False,
        )
        failed.add(part.procedure)


def _close_bundle_if_done(bundle: Bundle) -> None:
    statuses = list(Dossier.objects.filter(bundle=bundle).values_list("status", flat=True))
    if any(s not in FINAL_STATUSES for s in statuses):
        return
    issued = statuses.count(DossierStatus.RESULT_ISSUED)
    if issued == len(statuses):
        bundle.status = BundleStatus.COMPLETED
    elif issued:
        bundle.status = BundleStatus.PARTLY_REJECTED
    else:
        bundle.status = BundleStatus.REJECTED
    bundle.completed_at = timezone.now()
    bundle.save(update_fields=["status", "completed_at"])

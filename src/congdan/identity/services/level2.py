"""Level 2 (in-person verification), correction requests' officer side, deactivation on
death.

Level 2 (Decree 69/2024, Art. 12–13): the citizen asks for it in the portal (or walks in);
a police officer whose jurisdiction covers the citizen checks the chip card against the
registry's card record (number, issue date, valid status), captures a portrait and
attests that they verified the holder. Biometric matching devices are outside this
project, so the officer's attestation is the evidence and is recorded as such
(``evidence="officer_attestation"``) with the capture stored.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from congdan.audit.services import diff, record_change
from congdan.core.errors import Conflict, NotFound, ValidationFailed
from congdan.core.notify import send_sms
from congdan.core.permissions import Perm, requires
from congdan.identity.models import (
    AccountStatus,
    CorrectionRequest,
    EidAccount,
    EidLevel,
    Level2Verification,
    ReportStatus,
    UserSession,
    VerificationStatus,
)
from congdan.registry.models import CardStatus, IdentityCard
from congdan.registry.scoping import persons_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

    Actor = User | AnonymousUser

LEGAL_BASIS = "Nghị định 69/2024/NĐ-CP, Điều 13"
DEATH_REASON = gettext_noop("Công dân đã chết")


def end_all_sessions_and_tokens(user: User) -> None:
    """Log the user out everywhere and revoke every OAuth token they hold (no transaction
    of its own: the caller's)."""
    now = timezone.now()
    keys = list(
        UserSession.objects.filter(user=user, ended_at__isnull=True).values_list(
            "session_key", flat=True
        )
    )
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
    get_refresh_token_model().objects.filter(user=user, revoked__isnull=True).update(revoked=now)
    get_access_token_model().objects.filter(user=user).delete()


def deactivate_for_death(*, person_id: int, actor: Any = None) -> EidAccount | None:
    """Deactivate the e-ID of a person the registry recorded as dead (registry event)."""
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .select_related("user")
            .filter(person_id=person_id)
            .first()
        )
        if account is None or account.status == AccountStatus.DEACTIVATED:
            return account
        before = {"status": account.set_status(AccountStatus.DEACTIVATED, DEATH_REASON)}
        account.user.is_active = False
        account.user.save(update_fields=["is_active"])
        account.level2.filter(status=VerificationStatus.PENDING).update(
            status=VerificationStatus.CANCELLED, decided_at=timezone.now()
        )
        end_all_sessions_and_tokens(account.user)
        record_change(
            actor,
            action="eid_deactivate_death",
            obj=account,
            changes=diff(before, {"status": account.status}),
            person_id=person_id,
            reason="person_died",
            legal_basis="Nghị định 69/2024/NĐ-CP",
        )
    return account


# --- level 2 ---------------------------------------------------------------------------


def request_level2(account: EidAccount) -> Level2Verification:
    """The citizen asks for level 2; the request joins the queue of the police of their
    permanent-residence commune. One pending request at a time."""
    with transaction.atomic():
        locked = EidAccount.objects.select_for_update().select_related("person").get(pk=account.pk)
        if locked.status != AccountStatus.ACTIVE:
            raise Conflict(_("Tài khoản không ở trạng thái hoạt động."), code="account_not_active")
        if locked.level >= EidLevel.LEVEL2:
            raise Conflict(_("Tài khoản đã ở mức độ 2."), code="already_level2")
        commune = locked.person.residence_commune
        if commune is None:
            raise Conflict(
                _("Chưa có nơi thường trú trong Cơ sở dữ liệu; hãy liên hệ công an nơi cư trú."),
                code="no_residence",
            )
        if locked.level2.filter(status=VerificationStatus.PENDING).exists():
            raise Conflict(_("Bạn đã có một yêu cầu đang chờ xác thực."), code="already_requested")
        request = Level2Verification.objects.create(account=locked, commune=commune)
        record_change(
            locked.user,
            action="eid_level2_request",
            obj=request,
            changes={"status": [None, request.status]},
            person_id=locked.person_id,
            legal_basis=LEGAL_BASIS,
        )
    return request


def cancel_level2_request(account: EidAccount, *, request_id: int) -> Level2Verification:
    with transaction.atomic():
        request = (
            Level2Verification.objects.select_for_update()
            .filter(pk=request_id, account=account, status=VerificationStatus.PENDING)
            .first()
        )
        if request is None:
            raise NotFound(_("Không tìm thấy yêu cầu."), code="request_not_found")
        request.status = VerificationStatus.CANCELLED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        record_change(
            account.user,
            action="eid_level2_cancel",
            obj=request,
            changes={"status": [VerificationStatus.PENDING, request.status]},
            person_id=account.person_id,
        )
    return request


def _account_in_jurisdiction(actor: Actor, account_id: int) -> EidAccount:
    """Lock an account whose person the officer may see; 404 for missing or outside."""
    account = (
        EidAccount.objects.select_for_update()
        .select_related("person", "user")
        .filter(pk=account_id, person__in=persons_for(actor))
        .first()
    )
    if account is None:
        raise NotFound(_("Không tìm thấy tài khoản định danh."), code="account_not_found")
    return account


def _matching_card(account: EidAccount, number: str, issue_date: dt.date) -> IdentityCard:
    """The registry's card record the presented chip card must match."""
    number = number.strip()
    if not number.isdigit() or len(number) != 12:
        raise ValidationFailed(
            _("Số thẻ gồm đúng 12 chữ số."), code="card_number_format", field="card_number"
        )
    card = (
        IdentityCard.objects.filter(person_id=account.person_id, number=number)
        .order_by("-issue_date")
        .filter(issue_date=issue_date)
        .first()
    )
    if card is None:
        raise ValidationFailed(
            _("Số thẻ và ngày cấp không khớp với thẻ căn cước của công dân trong Cơ sở dữ liệu."),
            code="card_mismatch",
            field="card_number",
        )
    if card.status != CardStatus.VALID or (
        card.expiry_date is not None and card.expiry_date < timezone.localdate()
    ):
        raise ValidationFailed(
            _("Thẻ căn cước này không còn hiệu lực (%(status)s); công dân cần cấp đổi thẻ.")
            % {
                "status": card.get_status_display()
                if card.status != CardStatus.VALID
                else _("hết hạn")
            },
            code="card_not_valid",
            field="card_number",
        )
    return card


@requires(Perm.EID_LEVEL2_VERIFY)
def verify_level2(
    actor: Actor,
    *,
    account_id: int,
    card_number: str,
    card_issue_date: dt.date,
    portrait: bytes,
    attested: bool,
    request_id: int | None = None,
    note: str = "",
) -> Level2Verification:
    """Raise an account to level 2 after the officer's in-person check.

    ``portrait`` is the capture, already validated and re-encoded as JPEG by the form.
    With ``request_id`` the queued request is decided; without, a walk-in record is made.
    """
    if not attested:
        raise ValidationFailed(
            _("Cán bộ phải xác nhận đã đối chiếu trực tiếp người đến với thẻ căn cước."),
            code="attestation_required",
            field="attested",
        )
    if not portrait:
        raise ValidationFailed(
            _("Chụp ảnh chân dung của công dân tại chỗ."), code="required", field="portrait"
        )
    with transaction.atomic():
        account = _account_in_jurisdiction(actor, account_id)
        if account.status != AccountStatus.ACTIVE:
            raise Conflict(
                _("Tài khoản đang ở trạng thái “%(status)s”; không thể nâng mức độ.")
                % {"status": account.get_status_display()},
                code="account_not_active",
            )
        if account.level >= EidLevel.LEVEL2:
            raise Conflict(_("Tài khoản đã ở mức độ 2."), code="already_level2")
        card = _matching_card(account, card_number, card_issue_date)
        if request_id is not None:
            verification = (
                account.level2.select_for_update()
                .filter(pk=request_id, status=VerificationStatus.PENDING)
                .first()
            )
            if verification is None:
                raise NotFound(_("Yêu cầu đã được xử lý hoặc không tồn tại."), code="request_gone")
        else:
            verification = account.level2.select_for_update().filter(
                status=VerificationStatus.PENDING
            ).first() or Level2Verification(
                account=account, commune=account.person.residence_commune or _agency_unit(actor)
            )
        now = timezone.now()
        verification.status = VerificationStatus.APPROVED
        verification.decided_at = now
        verification.officer = actor  # type: ignore[assignment]  # an authenticated officer (requires)
        verification.agency = getattr(actor, "agency", None)
        verification.card = card
        verification.card_number = card.number
        verification.card_issue_date = card.issue_date
        verification.attestation = note.strip()[:2000]
        verification.captured_portrait.save("capture.jpg", ContentFile(portrait), save=False)
        try:
            with transaction.atomic():
                verification.save()
        except IntegrityError as exc:  # a concurrent pending request for the same account
            raise Conflict(_("Yêu cầu vừa được xử lý ở nơi khác."), code="conflict") from exc
        before = {"level": account.level}
        account.level = EidLevel.LEVEL2
        account.level2_at = now
        account.save(update_fields=["level", "level2_at"])
        record_change(
            actor,
            action="eid_level2_verify",
            obj=account,
            changes={
                **diff(before, {"level": account.level}),
                "verification": [None, verification.pk],
                "evidence": [None, verification.evidence],
            },
            person_id=account.person_id,
            reason=note,
            legal_basis=LEGAL_BASIS,
        )
        phone = account.phone
        transaction.on_commit(
            lambda: send_sms(
                phone,
                "Tai khoan dinh danh dien tu cua ban da duoc nang len muc do 2.",
            )
        )
    return verification


def _agency_unit(actor: Actor) -> Any:
    agency = getattr(actor, "agency", None)
    return agency.jurisdiction if agency is not None else None


@requires(Perm.EID_LEVEL2_VERIFY)
def reject_level2(actor: Actor, *, request_id: int, reason: str) -> Level2Verification:
    if not reason.strip():
        raise ValidationFailed(_("Nhập lý do từ chối."), code="required", field="reason")
    with transaction.atomic():
        verification = (
            Level2Verification.objects.select_for_update()
            .select_related("account")
            .filter(
                pk=request_id,
                status=VerificationStatus.PENDING,
                account__person__in=persons_for(actor),
            )
            .first()
        )
        if verification is None:
            raise NotFound(_("Không tìm thấy yêu cầu."), code="request_not_found")
        verification.status = VerificationStatus.REJECTED
        verification.decided_at = timezone.now()
        verification.officer = actor  # type: ignore[assignment]  # an authenticated officer (requires)
        verification.agency = getattr(actor, "agency", None)
        verification.reason = reason.strip()[:255]
        verification.save()
        record_change(
            actor,
            action="eid_level2_reject",
            obj=verification,
            changes={"status": [VerificationStatus.PENDING, verification.status]},
            person_id=verification.account.person_id,
            reason=verification.reason,
            legal_basis=LEGAL_BASIS,
        )
    return verification


# --- correction requests (officer side) -----------------------------------------------


@requires(Perm.PERSON_READ)
def resolve_correction_request(
    actor: Actor, *, report_id: int, accepted: bool, resolution: str
) -> CorrectionRequest:
    """Close a citizen's "report an error": corrected (the correction itself went through
    the registry's correction service) or not corrected, with the answer the citizen sees."""
    if not resolution.strip():
        raise ValidationFailed(
            _("Nhập nội dung trả lời cho công dân."), code="required", field="resolution"
        )
    with transaction.atomic():
        report = (
            CorrectionRequest.objects.select_for_update()
            .filter(pk=report_id, status=ReportStatus.OPEN, person__in=persons_for(actor))
            .first()
        )
        if report is None:
            raise NotFound(_("Không tìm thấy phản ánh."), code="report_not_found")
        report.status = ReportStatus.RESOLVED if accepted else ReportStatus.REJECTED
        report.resolved_at = timezone.now()
        report.resolved_by = actor  # type: ignore[assignment]  # an authenticated officer (requires)
        report.resolution = resolution.strip()[:4000]
        report.save()
        record_change(
            actor,
            action="eid_report_resolve",
            obj=report,
            changes={"status": [ReportStatus.OPEN, report.status]},
            person_id=report.person_id,
            reason=report.resolution,
        )
    return report

"""The citizen's side of a dossier: draft, submission (online or at the counter),
payment, supplement, withdrawal, rating."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core import notify
from congdan.core.calendar import add_working_days, working_days_between
from congdan.core.errors import Conflict, PermissionDenied, ValidationFailed
from congdan.core.models import User
from congdan.core.permissions import Perm, check_perm
from congdan.geo.selectors import commune_by_code
from congdan.identity import otp
from congdan.identity.models import AccountStatus, CodePurpose, EidAccount
from congdan.payments.fees import FeeContext, FeeQuote, compute_fee
from congdan.procedures import prefill, wallet_reuse
from congdan.procedures.application import (
    Application,
    Part,
    check_eid_level,
    resolve_id_number_subject,
)
from congdan.procedures.models import (
    Attachment,
    Bundle,
    BundleStatus,
    Channel,
    Dossier,
    DossierEvent,
    DossierStatus,
)
from congdan.procedures.services._common import (
    due_from,
    lock_for_citizen,
    new_code,
    official,
    province_of,
    require_status,
    spec_of,
    transition,
)
from congdan.procedures.specs import catalogue
from congdan.registry.models import Person, VitalStatus
from congdan.wallet.models import CredentialFormat, Document, DocumentEvent, EventKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.core.files.uploadedfile import UploadedFile

    from congdan.geo.models import AdministrativeUnit

    Actor = User | AnonymousUser

MAX_RATING = 5


@dataclass
class Submitted:
    """What a submission made: one dossier, or a bundle and its parts."""

    dossier: Dossier | None = None
    bundle: Bundle | None = None
    replayed: bool = False

    @property
    def code(self) -> str:
        return self.bundle.code if self.bundle else self.dossier.code  # type: ignore[union-attr]  # one is set


def _unit_for(part: Part, app: Application, data: dict[str, Any], subject: Person | None) -> Any:
    spec = part.spec
    where = spec.jurisdiction
    commune: AdministrativeUnit | None
    if where.startswith("field:"):
        commune = commune_by_code(str(data.get(where[6:]) or ""))
    else:
        person = subject if where == "subject" and subject is not None else app.applicant.person
        commune = person.residence_commune
        if commune is None:
            last = (
                person.residences.filter(kind="permanent")
                .select_related("commune")
                .order_by("-start_date", "-id")
                .first()
            )
            commune = last.commune if last else None
    if commune is None:
        raise ValidationFailed(
            _(
                "Cơ sở dữ liệu dân cư chưa có nơi thường trú của bạn, nên chưa xác định được cơ "
                "quan giải quyết. Vui lòng nộp hồ sơ tại bộ phận một cửa."
            ),
            code="no_residence",
        )
    return province_of(commune) if spec.agency.level == "province" else commune


def _subject_for(app: Application, part: Part, data: dict[str, Any]) -> Person | None:
    kind = part.spec.subject.kind
    if part.part is not None and part.part.subject_from is not None:
        return None  # set when the part it depends on has a result
    if kind == "linked":
        return app.subject
    if kind == "id_number_field":
        return resolve_id_number_subject(part.spec, data)
    return None


def _subject_age(app: Application, part: Part, subject: Person | None, today: Any) -> int | None:
    """The age of whom a part is about, for age-based exemptions: a newborn a bundle's
    birth registration will create is 0; a subject taken from an earlier part is that
    part's subject."""
    if subject is None and part.part is not None and part.part.subject_from is not None:
        source = catalogue().procedures[part.part.subject_from]
        if source.subject.kind == "new_person":
            return 0
        subject = app.subject
    if subject is None:
        return 0 if part.spec.subject.kind == "new_person" else None
    return prefill.years_between(subject.birth_date, today)


def _fee(
    app: Application, part: Part, data: dict[str, Any], channel: str, subject: Person | None
) -> FeeQuote:
    applicant = app.applicant.person
    today = timezone.localdate()
    unit = applicant.residence_province
    return compute_fee(
        part.spec.fee,
        FeeContext(
            channel=channel,
            province_code=unit.code if unit is not None else None,
            on=today,
            subject_age=_subject_age(app, part, subject, today),
            applicant_age=prefill.years_between(applicant.birth_date, today),
            form=data,
        ),
    )


def _store_attachments(
    dossier_for: dict[str, Dossier], uploads: dict[str, UploadedFile], app: Application, user: Any
) -> None:
    for code, upload in uploads.items():
        _save_attachment(dossier_for[app.part_of_document(code)], code, upload, user)


def _save_attachment(dossier: Dossier, code: str, upload: UploadedFile, user: Any) -> Attachment:
    """Store an upload through Django's storage under its SHA-256 (never its name)."""
    content = upload.read()
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        dossier=dossier,
        document_code=code,
        original_name=(upload.name or code)[:200],
        content_type=upload.content_type or "application/octet-stream",
        size=len(content),
        sha256=digest,
        uploaded_by=user if isinstance(user, User) else None,
    )
    attachment.file.save(digest, ContentFile(content), save=False)
    attachment.save()
    return attachment


# What an attachment that references a wallet document records as its content type.
_CREDENTIAL_TYPES: dict[str, str] = {
    CredentialFormat.SD_JWT_VC.value: "application/dc+sd-jwt",
    CredentialFormat.JWS.value: "application/jose",
}


def _attach_wallet_document(
    dossier: Dossier, code: str, document: Document, user: Any, used_by: str
) -> Attachment:
    """Attach ``document`` from the wallet instead of an upload (no file is copied: the
    attachment references it) and tell its holder's history."""
    if document.kind == "issued":
        content_type = _CREDENTIAL_TYPES.get(document.credential_format, "application/jose")
        digest = hashlib.sha256(document.credential.encode()).hexdigest()
        size = len(document.credential)
    else:
        content_type = document.content_type or "application/octet-stream"
        digest = document.sha256
        size = document.file_size or 0
    attachment = Attachment.objects.create(
        dossier=dossier,
        document_code=code,
        wallet_document=document,
        original_name=f"{document.title_vi} {document.number}"[:200],
        content_type=content_type[:60],
        size=size,
        sha256=digest,
        uploaded_by=user if isinstance(user, User) else None,
    )
    DocumentEvent.objects.create(
        document=document,
        kind=EventKind.ATTACHED,
        actor_label=used_by[:150],
        detail={"dossier": dossier.code},
    )
    return attachment


def _replay(user: Any, key: str) -> Submitted | None:
    if not key:
        return None
    existing = (
        Dossier.objects.filter(applicant_user=user, idempotency_key=key)
        .select_related("bundle")
        .first()
    )
    if existing is None:
        return None
    if existing.bundle is not None:
        return Submitted(bundle=existing.bundle, replayed=True)
    return Submitted(dossier=existing, replayed=True)


def _check_applicant(app: Application, account: EidAccount | None) -> None:
    person = app.applicant.person
    if person.vital_status == VitalStatus.DECEASED or person.status != "active":
        raise PermissionDenied(_("Không thể nộp hồ sơ cho công dân này."), code="applicant_invalid")
    check_eid_level(app, account)
    if app.needs_subject_choice:
        field = app.subject_field
        raise ValidationFailed(
            _("Chọn người mà hồ sơ này nói đến."),
            code="subject_required",
            field=field.name if field else None,
        )


def submit_application(
    actor: Actor,
    *,
    app: Application,
    data: dict[str, Any],
    uploads: dict[str, UploadedFile],
    idempotency_key: str,
    consent_code: str | None = None,
    draft_code: str | None = None,
    wallet_documents: dict[str, str] | None = None,
) -> Submitted:
    """File ``app`` with the cleaned form ``data``: one dossier, or a bundle whose parts go
    to their agencies in dependency order.

    Online, ``actor`` is the citizen (their own e-ID account). At the one-stop counter,
    ``actor`` is an officer with ``DOSSIER_FILE_FOR_CITIZEN`` and ``consent_code`` the
    code the citizen received by SMS. Submitting twice with the same idempotency key
    returns the first submission.

    ``wallet_documents`` maps a requirement code to the number of a wallet document that
    stands for it instead of an upload; each is checked (``wallet_reuse.check_chosen``) and
    a refusal is a ``ValidationFailed`` on ``wallet_<code>`` with nothing written.
    """
    account: EidAccount | None = getattr(app.applicant, "account", None)
    counter = consent_code is not None
    if counter:
        check_perm(actor, Perm.DOSSIER_FILE_FOR_CITIZEN)
        if wallet_documents:
            # The wallet is read as its holder; at the counter the officer is the reader.
            raise ValidationFailed(
                _("Tại bộ phận một cửa, giấy tờ được nộp bằng tệp tải lên."),
                code="wallet_not_at_counter",
            )
        if account is None:
            raise ValidationFailed(
                _("Công dân chưa có tài khoản định danh điện tử để xác nhận đồng ý."),
                code="no_account",
            )
    elif account is None or account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Chỉ chủ tài khoản mới nộp được hồ sơ này."), code="not_owner")
    applicant_user = account.user if account is not None else None
    replay = _replay(applicant_user, idempotency_key)
    if replay is not None:
        return replay
    _check_applicant(app, account)
    # Read-only prefilled values are the registry's, whatever the request carried; a
    # field the spec lets the citizen change keeps what they typed.
    editable = {f.name for f in app.fields if f.editable}
    data = {
        **data,
        **{
            name: value
            for name, (value, _src) in app.values.items()
            if name in data and name not in editable
        },
    }
    channel = Channel.COUNTER if counter else Channel.ONLINE
    if counter:
        assert account is not None  # noqa: S101 -- checked above
        # Its own transaction: a wrong guess is counted even though we then refuse.
        with transaction.atomic():
            consent = otp.check(account, CodePurpose.CONSENT, consent_code or "")
        if consent is not otp.CodeCheck.OK:
            raise ValidationFailed(
                _("Mã xác nhận của công dân không đúng hoặc đã hết hạn."),
                code="consent_code_invalid",
                field="consent_code",
            )
    try:
        with transaction.atomic():
            result = _create(
                actor,
                app,
                data=data,
                uploads=uploads,
                key=idempotency_key,
                channel=channel,
                applicant_user=applicant_user,
                wallet_documents=wallet_documents or {},
            )
            if draft_code and not counter:
                # The draft was the citizen's scratch copy; the submission replaces it.
                Dossier.objects.filter(
                    code=draft_code, applicant_user=applicant_user, status=DossierStatus.DRAFT
                ).delete()
    except IntegrityError:
        # The same key raced in twice: the other request's submission stands.
        replay = _replay(applicant_user, idempotency_key)
        if replay is None:
            raise
        return replay
    return result


def _create(
    actor: Actor,
    app: Application,
    *,
    data: dict[str, Any],
    uploads: dict[str, UploadedFile],
    key: str,
    channel: str,
    applicant_user: Any,
    wallet_documents: dict[str, str],
) -> Submitted:
    # First: a refused wallet document writes nothing.
    from_wallet = wallet_reuse.check_chosen(app, wallet_documents) if wallet_documents else {}
    uploads = {code: upload for code, upload in uploads.items() if code not in from_wallet}
    now = timezone.now()
    today = timezone.localdate()
    officer = actor if channel == Channel.COUNTER and isinstance(actor, User) else None
    bundle = None
    if app.bundle is not None:
        days = app.bundle.deadline_days
        bundle = Bundle.objects.create(
            code=new_code("LT"),
            bundle_code=app.bundle.code,
            applicant=app.applicant.person,
            applicant_user=applicant_user,
            filed_by=officer,
            channel=channel,
            data=data,
            submitted_at=now,
            due_date=due_from(today, days),
        )
    dossiers: dict[str, Dossier] = {}
    total_fee = 0
    for index, part in enumerate(app.parts):
        subject = _subject_for(app, part, data)
        quote = _fee(app, part, data, channel, subject)
        total_fee += quote.amount
        waiting = bundle is not None and bool(
            part.part and (part.part.after or part.part.subject_from)
        )
        unit = _unit_for(part, app, data, subject) if not waiting else None
        own = {f.name: data.get(f.name) for f in part.own_fields()}
        dossier = Dossier.objects.create(
            code=new_code("HS"),
            procedure_code=part.code,
            bundle=bundle,
            part_index=index,
            applicant=app.applicant.person,
            applicant_user=applicant_user,
            subject=subject,
            channel=channel,
            filed_by=officer,
            consent_confirmed_at=now if officer else None,
            status=DossierStatus.DRAFT,
            data=own if bundle is not None else data,
            prefilled={n: src for n, (_v, src) in app.values.items() if n in own},
            agency_kind=part.spec.agency.kind,
            unit=unit,
            fee_amount=quote.amount,
            fee_detail=_fee_detail(quote),
            idempotency_key=key if index == 0 else "",
            due_date=bundle.due_date if bundle else due_from(today, part.spec.deadline_days),
        )
        dossiers[part.code] = dossier
        if subject is not None and subject.pk != app.applicant.person.pk:
            prefill.log_prefill(actor, subject, part.code, [f.name for f in part.own_fields()])
    _store_attachments(dossiers, uploads, app, actor if actor.is_authenticated else None)
    for doc_code, document in from_wallet.items():
        _attach_wallet_document(
            dossiers[app.part_of_document(doc_code)],
            doc_code,
            document,
            actor if actor.is_authenticated else None,
            app.applicant.person.full_name,
        )
    for dossier in dossiers.values():
        part = app.parts[dossier.part_index]
        waits = bundle is not None and bool(
            part.part and (part.part.after or part.part.subject_from)
        )
        if waits:
            target = DossierStatus.WAITING
        elif total_fee > 0:
            target = DossierStatus.AWAITING_PAYMENT
        else:
            target = DossierStatus.SUBMITTED
            dossier.submitted_at = now
        note = (
            official(_("Nộp tại bộ phận một cửa, công dân đã xác nhận bằng mã SMS"))
            if officer
            else ""
        )
        transition(actor, dossier, target, action="submit_dossier", note=note)
    if bundle is not None:
        return Submitted(bundle=bundle)
    return Submitted(dossier=next(iter(dossiers.values())))


def _fee_detail(quote: FeeQuote) -> dict[str, Any]:
    detail: dict[str, Any] = {"base": quote.base, "amount": quote.amount}
    if quote.exemption is not None:
        detail["exemption"] = {
            "code": quote.exemption.code,
            "name_vi": quote.exemption.name_vi,
            "name_en": quote.exemption.name_en,
            "percent": quote.exemption.percent,
            "reduction": quote.exemption.reduction,
        }
    return detail


# --- counter mode: the citizen's consent ----------------------------------------------------


def send_consent_code(actor: Actor, *, id_number: str) -> EidAccount:
    """Text the citizen at the counter a code; they read it to the officer, who files
    the dossier on their behalf with it (``submit_application(consent_code=…)``)."""
    check_perm(actor, Perm.DOSSIER_FILE_FOR_CITIZEN)
    account = (
        EidAccount.objects.select_related("person", "user")
        .filter(person__id_number=id_number.strip(), status=AccountStatus.ACTIVE)
        .first()
    )
    if account is None:
        raise ValidationFailed(
            _("Không có tài khoản định danh điện tử đang hoạt động với số định danh này."),
            code="no_account",
            field="id_number",
        )
    with transaction.atomic():
        code = otp.issue(account, CodePurpose.CONSENT)
        body = (
            f"Ma xac nhan {code}: ban dong y de can bo mot cua nop ho so thay ban. "
            "Chi doc ma nay cho can bo khi ban dang co mat tai quay."
        )
        phone = account.phone
        transaction.on_commit(lambda: notify.send_sms(phone, body))
    return account


# --- payment ---------------------------------------------------------------------------------


def payable(target: Dossier | Bundle) -> tuple[str, int, list[Dossier]]:
    """(purpose_ref, amount, dossiers) of what the citizen must pay for ``target``."""
    if isinstance(target, Bundle):
        dossiers = list(target.dossiers.order_by("part_index"))
        return target.code, sum(d.fee_amount for d in dossiers), dossiers
    return target.code, target.fee_amount, [target]


def record_payment(*, purpose_ref: str, reference: str) -> list[Dossier]:
    """The payment for ``purpose_ref`` succeeded: its dossiers leave "awaiting payment".

    Called by the ``payment_paid`` receiver inside the payment's transaction, so the
    payment and the dossiers commit together."""
    now = timezone.now()
    today = timezone.localdate()
    if purpose_ref.startswith("LT"):
        dossiers = list(Dossier.objects.select_for_update().filter(bundle__code=purpose_ref))
    else:
        dossiers = list(Dossier.objects.select_for_update().filter(code=purpose_ref))
    bundle = Bundle.objects.filter(code=purpose_ref).first()
    if bundle is not None:
        bundle.due_date = due_from(today, _bundle_days(bundle))
        bundle.save(update_fields=["due_date"])
    moved = []
    for dossier in dossiers:
        dossier.payment_reference = reference
        if dossier.status != DossierStatus.AWAITING_PAYMENT:
            dossier.save(update_fields=["payment_reference"])
            continue
        dossier.submitted_at = now
        dossier.due_date = (
            bundle.due_date if bundle else due_from(today, spec_of(dossier).deadline_days)
        )
        transition(None, dossier, DossierStatus.SUBMITTED, action="dossier_paid", note=reference)
        moved.append(dossier)
    return moved


def _bundle_days(bundle: Bundle) -> int:
    spec = catalogue().bundle(bundle.bundle_code)
    return spec.deadline_days if spec else 3


# --- supplement, withdrawal, rating -------------------------------------------------------------


def supplement_dossier(
    actor: Actor, *, code: str, note: str, uploads: dict[str, UploadedFile]
) -> Dossier:
    """The citizen answers a request for supplement; the deadline resumes."""
    if not note.strip() and not uploads:
        raise ValidationFailed(
            _("Nhập nội dung bổ sung hoặc tải lên giấy tờ."), code="required", field="note"
        )
    with transaction.atomic():
        dossier = lock_for_citizen(actor, code)
        require_status(dossier, DossierStatus.SUPPLEMENT_REQUESTED)
        if dossier.paused_at is not None:
            paused = working_days_between(
                timezone.localtime(dossier.paused_at).date(), timezone.localdate()
            )
            dossier.paused_working_days += paused
            if dossier.due_date is not None:
                dossier.due_date = add_working_days(dossier.due_date, paused)
            dossier.paused_at = None
        for doc_code, upload in uploads.items():
            _save_attachment(dossier, doc_code, upload, actor)
        transition(
            actor,
            dossier,
            DossierStatus.SUPPLEMENTED,
            action="supplement_dossier",
            note=note.strip(),
        )
    return dossier


# Before the agency received it: reception starts the processing (and its deadline).
WITHDRAWABLE = (
    DossierStatus.DRAFT,
    DossierStatus.AWAITING_PAYMENT,
    DossierStatus.SUBMITTED,
    DossierStatus.WAITING,
)


def withdraw_dossier(actor: Actor, *, code: str, reason: str = "") -> Dossier:
    """The citizen withdraws a dossier before its processing started (a bundle part
    withdraws the whole bundle's parts that have not started)."""
    with transaction.atomic():
        dossier = lock_for_citizen(actor, code)
        require_status(dossier, *WITHDRAWABLE)
        siblings = [dossier]
        if dossier.bundle_id is not None:
            siblings = list(
                Dossier.objects.select_for_update()
                .filter(bundle_id=dossier.bundle_id)
                .order_by("part_index")
            )
            if any(d.status not in WITHDRAWABLE for d in siblings):
                raise Conflict(
                    _("Một phần của hồ sơ liên thông đã được xử lý; không thể rút cả bộ hồ sơ."),
                    code="bundle_started",
                )
        for item in siblings:
            transition(actor, item, DossierStatus.WITHDRAWN, action="withdraw_dossier", note=reason)
        if dossier.bundle is not None:
            dossier.bundle.status = BundleStatus.WITHDRAWN
            dossier.bundle.completed_at = timezone.now()
            dossier.bundle.save(update_fields=["status", "completed_at"])
    return dossier


def rate_dossier(actor: Actor, *, code: str, rating: int, comment: str = "") -> Dossier:
    if not 1 <= rating <= MAX_RATING:
        raise ValidationFailed(
            _("Chọn mức đánh giá từ 1 đến 5."), code="invalid_rating", field="rating"
        )
    with transaction.atomic():
        dossier = lock_for_citizen(actor, code)
        require_status(dossier, DossierStatus.RESULT_ISSUED, DossierStatus.REJECTED)
        if dossier.rating is not None:
            raise Conflict(_("Bạn đã đánh giá hồ sơ này."), code="already_rated")
        dossier.rating = rating
        dossier.rating_comment = comment.strip()[:500]
        dossier.save(update_fields=["rating", "rating_comment"])
        DossierEvent.objects.create(
            dossier=dossier,
            actor=actor if actor.is_authenticated else None,
            from_status=dossier.status,
            to_status=dossier.status,
            note=official(_("Công dân đánh giá %(n)s/5"), n=rating),
        )
    return dossier


def save_draft(
    actor: Actor, *, app: Application, data: dict[str, Any], code: str | None = None
) -> Dossier:
    """Keep what the citizen typed so far (no validation beyond the form's types)."""
    account = app.applicant.account
    if account is None or account.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Chỉ chủ tài khoản mới lưu được bản nháp."), code="not_owner")
    clean = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
    with transaction.atomic():
        if code:
            dossier = lock_for_citizen(actor, code)
            require_status(dossier, DossierStatus.DRAFT)
            dossier.data = clean
            dossier.updated_at = timezone.now()
            dossier.save(update_fields=["data", "updated_at"])
            return dossier
        first = app.first.spec
        return Dossier.objects.create(
            code=new_code("HS"),
            procedure_code=app.code,
            applicant=app.applicant.person,
            applicant_user=actor if isinstance(actor, User) else None,
            subject=app.subject,
            status=DossierStatus.DRAFT,
            data=clean,
            agency_kind=first.agency.kind,
        )

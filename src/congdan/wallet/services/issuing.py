"""Issuing documents and changing their status (DESIGN rule 1).

``issue_document`` is called by the procedures app inside the transaction that approves
a dossier: it joins that transaction (``atomic`` nests as a savepoint), raises every
error, and sends its SMS only once everything has committed. ``create_issued`` is the
shared core (no permission check) that the issuer API and the seed also use.

Status: valid ⇄ suspended, and either → revoked (final). Only officers of the issuing
agency change it; the status list shows the change to verifiers at their next fetch.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import record_change
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import Agency, User
from congdan.core.notify import send_sms
from congdan.core.permissions import Perm, requires
from congdan.identity.models import AccountStatus, EidAccount
from congdan.registry.models import Person
from congdan.wallet import credentials, doctypes, keys, statuslist
from congdan.wallet.models import Document, DocumentEvent, DocumentStatus, EventKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Actor = User | AnonymousUser

DOC_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
SERIAL_BYTES = 6  # 12 hex digits: collisions are rare, and the unique number decides
NUMBER_ATTEMPTS = 10
ADULT_AGE = 18  # Bộ luật Dân sự 2015, Điều 20: an adult is 18 or older
MAX_REASON = 300
# A document's fields, as JSON: a portrait data URI is about 5 kB.
MAX_DATA_BYTES = 64_000


def _new_number(issuer: Agency, doc_type: str) -> str:
    """``<issuer agency code>-<doc_type>-<serial>`` (DigiLocker's IssuerId-DocType-DocId)."""
    return f"{issuer.code}-{doc_type}-{secrets.token_hex(SERIAL_BYTES).upper()}"


def _json_data(data: Any) -> dict[str, Any]:
    """The fields as stored and signed: JSON values only (dates become ISO strings)."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            _("Nội dung giấy tờ phải là tập hợp các trường."), code="invalid_data", field="data"
        )
    try:
        text = json.dumps(data, cls=DjangoJSONEncoder, allow_nan=False, ensure_ascii=False)
        normalised = json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationFailed(
            _("Nội dung giấy tờ có giá trị không lưu được."), code="invalid_data", field="data"
        ) from exc
    if len(text.encode("utf-8")) > MAX_DATA_BYTES:
        # The credential must stay well under what a verifier accepts (jose.MAX_TOKEN).
        raise ValidationFailed(
            _("Nội dung giấy tờ quá lớn (tối đa %(kb)d kB).") % {"kb": MAX_DATA_BYTES // 1000},
            code="data_too_large",
            field="data",
        )
    if not isinstance(normalised, dict) or not all(isinstance(k, str) for k in normalised):
        raise ValidationFailed(
            _("Nội dung giấy tờ phải là tập hợp các trường."), code="invalid_data", field="data"
        )
    reserved = sorted(set(normalised) & credentials.RESERVED_FIELDS)
    if reserved:
        raise ValidationFailed(
            _("Tên trường %(names)s dành riêng cho chứng thư số; hãy đặt tên khác.")
            % {"names": ", ".join(reserved)},
            code="reserved_field",
            field="data",
        )
    return normalised


def _is_minor(person: Person, today: dt.date) -> bool:
    born = person.birth_date
    try:
        adult_on = born.replace(year=born.year + ADULT_AGE)
    except ValueError:  # born on 29 February
        adult_on = born.replace(year=born.year + ADULT_AGE, day=28) + dt.timedelta(days=1)
    return today < adult_on


def _phones_to_notify(holder: Person) -> list[str]:
    """The holder's phone when they have a usable e-ID account; for a minor without one,
    the phones of the parents who have one."""
    accounts = EidAccount.objects.filter(status=AccountStatus.ACTIVE).exclude(phone="")
    own = accounts.filter(person=holder).values_list("phone", flat=True).first()
    if own:
        return [own]
    if not _is_minor(holder, timezone.localdate()):
        return []
    parents = [pk for pk in (holder.father_id, holder.mother_id) if pk is not None]
    return list(
        dict.fromkeys(accounts.filter(person_id__in=parents).values_list("phone", flat=True))
    )


def _notify(document_id: int, *, change: str = "") -> None:
    document = Document.objects.select_related("holder").get(pk=document_id)
    # SMS go out in Vietnamese whatever the language of the officer's session.
    with translation.override("vi"):
        if change == "revoke":
            body = gettext(
                "Giấy tờ %(title)s số %(number)s đã bị thu hồi. Xem chi tiết trong mục "
                "Giấy tờ của tôi trên Cổng dịch vụ công."
            )
        elif change == "suspend":
            body = gettext(
                "Giấy tờ %(title)s số %(number)s đã bị tạm đình chỉ. Xem chi tiết trong mục "
                "Giấy tờ của tôi trên Cổng dịch vụ công."
            )
        elif change == "reinstate":
            body = gettext("Giấy tờ %(title)s số %(number)s đã được khôi phục hiệu lực.")
        else:
            body = gettext(
                "Giấy tờ %(title)s số %(number)s đã được cấp vào mục Giấy tờ của tôi "
                "trên Cổng dịch vụ công."
            )
        body %= {"title": document.title_vi, "number": document.number}
    for phone in _phones_to_notify(document.holder):
        send_sms(phone, body)


def _validate_issue(
    doc_type: str, title_vi: str, title_en: str, issuer: Agency, valid_until: dt.date | None
) -> None:
    if not DOC_TYPE.fullmatch(doc_type):
        raise ValidationFailed(
            _("Mã loại giấy tờ “%(code)s” không hợp lệ (chữ thường, chữ số, dấu gạch dưới).")
            % {"code": doc_type[:40]},
            code="invalid_doc_type",
            field="doc_type",
        )
    if not title_vi.strip():
        raise ValidationFailed(
            _("Nhập tên giấy tờ bằng tiếng Việt."), code="required", field="title_vi"
        )
    if not title_en.strip():
        raise ValidationFailed(
            _("Nhập tên giấy tờ bằng tiếng Anh."), code="required", field="title_en"
        )
    if not doctypes.competent(doc_type, issuer.kind):
        raise ValidationFailed(
            _("%(agency)s không có thẩm quyền cấp loại giấy tờ “%(code)s”.")
            % {"agency": issuer.name, "code": doc_type},
            code="issuer_not_competent",
            field="issuer",
        )
    if not issuer.active:
        raise ValidationFailed(
            _("Cơ quan %(name)s đã ngừng hoạt động.") % {"name": issuer.name},
            code="issuer_inactive",
            field="issuer",
        )
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationFailed(
            _("Ngày hết hiệu lực không được ở quá khứ."),
            code="date_in_past",
            field="valid_until",
        )


def insert_numbered(document: Document, draw: Callable[[], None]) -> None:
    """Insert ``document`` with a fresh random number (and, for an issued one, status
    index): ``draw`` sets them; a collision with an existing number or index draws again
    (inside a savepoint, so the caller's transaction goes on). Any other integrity error
    is raised."""
    for _attempt in range(NUMBER_ATTEMPTS):
        draw()
        try:
            with transaction.atomic(savepoint=True):
                document.save(force_insert=True)
        except IntegrityError:
            document.pk = None
            document._state.adding = True
            taken = Document.objects.filter(number=document.number).exists() or (
                document.status_list_id is not None
                and Document.objects.filter(
                    status_list_id=document.status_list_id, status_index=document.status_index
                ).exists()
            )
            if taken:
                continue  # drew a serial or a status index already used: draw again
            raise
        return
    raise Conflict(  # pragma: no cover -- ten collisions of 48-bit random serials
        _("Không cấp được số giấy tờ mới; vui lòng thử lại."),
        code="number_allocation_exhausted",
    )


def create_issued(
    *,
    actor: Actor | None,
    actor_label: str,
    holder: Person,
    doc_type: str,
    title_vi: str,
    title_en: str,
    issuer: Agency,
    data: dict[str, Any],
    source_ref: str,
    valid_until: dt.date | None = None,
    integrated: bool = False,
) -> Document:
    """Validate, number, sign and save an issued document, with its event, change record
    and SMS on commit. No permission check: the caller has done it (an officer's
    ``issue_document``, an issuer system's ``push_document``)."""
    _validate_issue(doc_type, title_vi, title_en, issuer, valid_until)
    content = _json_data(data)
    with transaction.atomic():
        document = Document(
            holder=holder,
            doc_type=doc_type,
            integrated=integrated,
            title_vi=" ".join(title_vi.split()),
            title_en=" ".join(title_en.split()),
            issuer=issuer,
            issued_by=actor if isinstance(actor, User) else None,
            # Whole seconds: the signed time reads back the same from any database.
            issued_at=timezone.now().replace(microsecond=0),
            valid_until=valid_until,
            data=content,
            source_ref=source_ref.strip()[:80],
            status=DocumentStatus.VALID,
        )

        def draw() -> None:
            document.number = _new_number(issuer, doc_type)
            ((status_list, index),) = statuslist.allocate(issuer)
            document.status_list, document.status_index = status_list, index
            document.credential, document.credential_format = credentials.build(
                document,
                holder_id_number=holder.id_number,
                status_list=status_list,
                status_index=index,
            )

        insert_numbered(document, draw)
        DocumentEvent.objects.create(
            document=document,
            kind=EventKind.ISSUED,
            actor_label=actor_label[:150],
            detail={"issuer": issuer.code, "source_ref": document.source_ref},
        )
        record_change(
            actor if isinstance(actor, User) else None,
            action="issue_document",
            obj=document,
            person_id=holder.pk,
            changes={
                "number": [None, document.number],
                "doc_type": [None, doc_type],
                "issuer": [None, issuer.code],
                "status": [None, DocumentStatus.VALID.value],
            },
            reason=document.source_ref or actor_label,
        )
        document_id = document.pk
        # robust: a failing SMS gateway is logged, never turns the committed issue into
        # an error for the caller (who would retry and issue twice).
        transaction.on_commit(lambda: _notify(document_id), robust=True)
    return document


@requires(Perm.DOSSIER_PROCESS)
def issue_document(
    actor: Actor,
    *,
    holder: Person,
    doc_type: str,
    title_vi: str,
    title_en: str,
    issuer: Agency | None,
    data: dict[str, Any],
    source_ref: str,
    valid_until: dt.date | None = None,
) -> Document:
    """Issue a signed document to ``holder``'s wallet; SMS on commit to the holder (or,
    for a minor without an e-ID account, to the parents who have one).

    ``issuer`` None (an actor without agency approving a dossier without one) is refused
    with a ``ValidationFailed`` on the field ``issuer``.
    """
    if issuer is None:
        raise ValidationFailed(
            _("Chưa xác định cơ quan cấp giấy tờ."), code="required", field="issuer"
        )
    return create_issued(
        actor=actor,
        actor_label=actor.get_username() if isinstance(actor, User) else "",
        holder=holder,
        doc_type=doc_type,
        title_vi=title_vi,
        title_en=title_en,
        issuer=issuer,
        data=data,
        source_ref=source_ref,
        valid_until=valid_until,
    )


def refresh_age_claims(document: Document) -> bool:
    """Re-sign a valid SD-JWT VC in place when its holder has crossed an age threshold
    since it was issued (an ID card issued at 14 gains ``age_over_18`` at 18): same
    number, issue time and status index, age claims as of today. True when re-signed.

    Runs in its own atomic block (joining the caller's) with the row locked, and records
    a ``refreshed`` event.
    """
    today = timezone.localdate()
    if (
        document.status != DocumentStatus.VALID
        or document.issuer is None
        or not credentials.missing_age_claims(document, today)
    ):
        return False
    with transaction.atomic():
        locked = (
            Document.objects.select_for_update(of=("self",))
            .select_related("issuer", "holder", "status_list")
            .get(pk=document.pk)
        )
        agency = locked.issuer
        if (
            agency is None
            or locked.status_list is None
            or locked.status_index is None
            or not credentials.missing_age_claims(locked, today)
        ):
            return False
        added = sorted(credentials.missing_age_claims(locked, today))
        credential, _format = credentials.sign(
            credentials.signer_for(agency),
            credentials.Claims(
                doc_type=locked.doc_type,
                number=locked.number,
                issued_at=locked.issued_at,
                valid_until=locked.valid_until,
                data=locked.data,
                holder_id_number=locked.holder.id_number,
                status_index=locked.status_index,
                status_uri=keys.status_list_uri(agency, locked.status_list.number),
                title_vi=locked.title_vi,
                title_en=locked.title_en,
                ages_on=today,
            ),
        )
        locked.credential = credential
        locked.save(update_fields=["credential"])
        DocumentEvent.objects.create(
            document=locked,
            kind=EventKind.REFRESHED,
            actor_label="system",
            detail={"age_claims": added},
        )
    document.credential = credential
    return True


def _clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationFailed(_("Nhập lý do."), code="required", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            _("Lý do quá dài (tối đa %(n)d ký tự).") % {"n": MAX_REASON},
            code="too_long",
            field="reason",
        )
    return reason


# (from statuses) → to, the event, and the SMS kind
_CHANGES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "revoke": (
        (DocumentStatus.VALID, DocumentStatus.SUSPENDED),
        DocumentStatus.REVOKED,
        EventKind.REVOKED,
    ),
    "suspend": ((DocumentStatus.VALID,), DocumentStatus.SUSPENDED, EventKind.SUSPENDED),
    "reinstate": ((DocumentStatus.SUSPENDED,), DocumentStatus.VALID, EventKind.REINSTATED),
}
_CONFLICTS = {
    "revoke": (_("Giấy tờ đã bị thu hồi trước đó."), "already_revoked"),
    "suspend": (_("Chỉ tạm đình chỉ được giấy tờ đang có hiệu lực."), "not_valid"),
    "reinstate": (_("Chỉ khôi phục được giấy tờ đang bị tạm đình chỉ."), "not_suspended"),
}


def change_status(
    *,
    actor: Actor | None,
    actor_label: str,
    agency_id: int | None,
    number: str,
    change: str,
    reason: str,
) -> Document:
    """Revoke, suspend or reinstate; ``agency_id`` is the acting officer's or system's
    agency, which must be the issuer. No permission check beyond that: callers check."""
    reason = _clean_reason(reason)
    allowed_from, target, event = _CHANGES[change]
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(number=number).first()
        if document is None:
            raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
        if agency_id is None or agency_id != document.issuer_id:
            raise PermissionDenied(
                _("Chỉ cơ quan đã cấp giấy tờ mới được thay đổi trạng thái."), code="not_issuer"
            )
        if document.status not in allowed_from:
            message, code = _CONFLICTS[change]
            raise Conflict(message, code=code)
        before = document.status
        now = timezone.now()
        user = actor if isinstance(actor, User) else None
        document.status = target
        if target == DocumentStatus.REVOKED:
            document.revoked_at, document.revoked_by = now, user
            document.revocation_reason = reason
        elif target == DocumentStatus.SUSPENDED:
            document.suspended_at, document.suspended_by = now, user
            document.suspension_reason = reason
        else:
            document.suspended_at, document.suspended_by = None, None
            document.suspension_reason = ""
        document.save()
        DocumentEvent.objects.create(
            document=document, kind=event, actor_label=actor_label[:150], detail={"reason": reason}
        )
        record_change(
            user,
            action=f"{change}_document",
            obj=document,
            person_id=document.holder_id,
            changes={"status": [before, target]},
            reason=reason,
        )
        document_id = document.pk
        transaction.on_commit(lambda: _notify(document_id, change=change), robust=True)
    return document


def _officer_change(actor: Actor, number: str, change: str, reason: str) -> Document:
    return change_status(
        actor=actor,
        actor_label=actor.get_username() if isinstance(actor, User) else "",
        agency_id=getattr(actor, "agency_id", None),
        number=number,
        change=change,
        reason=reason,
    )


@requires(Perm.DOSSIER_PROCESS)
def revoke_document(actor: Actor, *, number: str, reason: str) -> Document:
    """Revoke a document (final); only officers of the agency that issued it may."""
    return _officer_change(actor, number, "revoke", reason)


@requires(Perm.DOSSIER_PROCESS)
def suspend_document(actor: Actor, *, number: str, reason: str) -> Document:
    """Suspend a valid document (verifiers see "suspended") until reinstated."""
    return _officer_change(actor, number, "suspend", reason)


@requires(Perm.DOSSIER_PROCESS)
def reinstate_document(actor: Actor, *, number: str, reason: str) -> Document:
    """Make a suspended document valid again."""
    return _officer_change(actor, number, "reinstate", reason)


__all__ = [
    "change_status",
    "create_issued",
    "insert_numbered",
    "issue_document",
    "refresh_age_claims",
    "reinstate_document",
    "revoke_document",
    "suspend_document",
]

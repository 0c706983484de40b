"""Pull consents: a citizen lets a requester's system (a bank, an insurer …) fetch their
documents of chosen types, for one purpose, for a number of days (DigiLocker's consent).

Granting and revoking are the citizen's own acts: a change record each, no access-log
entry. A pull by the requester is a read of the citizen's data by someone else: one
access-log entry on the holder (channel WALLET) and a ``PULLED`` event on each document
returned. Without an active consent covering the client, the type and the purpose the
answer is PermissionDenied ``no_consent`` — the same for an ID number nobody holds, so a
requester cannot probe the registry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication, get_application_model

from congdan.audit.models import Channel
from congdan.audit.services import log_access, record_change
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.identity.api_auth import ClientActor, require_scope
from congdan.registry.models import Person, RecordStatus
from congdan.wallet import doctypes
from congdan.wallet.models import (
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentStatus,
    EventKind,
    PullConsent,
)

if TYPE_CHECKING:
    from oauth2_provider.models import Application

READ_SCOPE = "wallet:read"
MAX_DAYS = 365
MAX_PURPOSE = 200
PULL_VIEW = "wallet_pull"


def requester_clients() -> list[Application]:
    """Client-credentials systems allowed ``wallet:read``, by organisation then name."""
    apps = (
        get_application_model()
        .objects.filter(
            authorization_grant_type=AbstractApplication.GRANT_CLIENT_CREDENTIALS,
            policy__isnull=False,
        )
        .select_related("policy")
    )
    found = [a for a in apps if READ_SCOPE in (a.policy.allowed_scopes or [])]
    return sorted(found, key=lambda a: (a.policy.organisation or a.name, a.name, a.pk))


def consent_doc_types(person: Person) -> list[str]:
    """The types a consent may name: the integrated ones and the person's own."""
    own = (
        Document.objects.filter(holder=person, kind=DocumentKind.ISSUED)
        .values_list("doc_type", flat=True)
        .distinct()
    )
    return list(dict.fromkeys([*doctypes.INTEGRATED, *sorted(own)]))


def doc_type_title(code: str, person: Person | None = None) -> str:
    known = doctypes.INTEGRATED.get(code)
    if known is not None:
        return known.title_vi
    if person is not None:
        doc = Document.objects.filter(holder=person, doc_type=code).only("title_vi").first()
        if doc is not None:
            return doc.title_vi
    return code


def consents_of(person: Person) -> list[PullConsent]:
    return list(
        PullConsent.objects.filter(person=person)
        .select_related("application", "application__policy")
        .order_by("-granted_at", "-id")
    )


def _actor_user(person: Person) -> Any:
    account = getattr(person, "eid_account", None)
    return account.user if account is not None else None


_ID_NUMBER = re.compile(r"[0-9]{12}")


def _clean_purpose(purpose: Any) -> str:
    text = " ".join(str(purpose or "").split())
    if not text:
        raise ValidationFailed(_("Nhập mục đích sử dụng."), code="required", field="purpose")
    if len(text) > MAX_PURPOSE:
        raise ValidationFailed(
            _("Mục đích quá dài (tối đa %(n)d ký tự).") % {"n": MAX_PURPOSE},
            code="too_long",
            field="purpose",
        )
    if not text.isprintable():
        # A NUL or another control character: never stored (PostgreSQL refuses NUL).
        raise ValidationFailed(
            _("Mục đích có ký tự không được phép."), code="invalid_purpose", field="purpose"
        )
    return text


def grant_consent(
    person: Person,
    *,
    application_client_id: str,
    doc_types: Sequence[str],
    purpose: str,
    days: int,
) -> PullConsent:
    """The citizen lets the requester system pull their documents of ``doc_types`` for
    ``purpose`` during ``days`` days (1–365)."""
    application = next(
        (a for a in requester_clients() if a.client_id == application_client_id), None
    )
    if application is None:
        raise ValidationFailed(
            _("Không tìm thấy hệ thống tiếp nhận giấy tờ này."),
            code="unknown_client",
            field="application",
        )
    wanted = list(dict.fromkeys(t for t in doc_types if isinstance(t, str) and t))
    if not wanted:
        raise ValidationFailed(
            _("Chọn ít nhất một loại giấy tờ."), code="required", field="doc_types"
        )
    allowed = set(consent_doc_types(person))
    unknown = [t for t in wanted if t not in allowed]
    if unknown:
        raise ValidationFailed(
            _("Loại giấy tờ không hợp lệ: %(names)s") % {"names": ", ".join(unknown)[:200]},
            code="unknown_doc_type",
            field="doc_types",
        )
    clean_purpose = _clean_purpose(purpose)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            _("Thời hạn phải từ 1 đến %(max)d ngày.") % {"max": MAX_DAYS},
            code="invalid_days",
            field="days",
        )
    now = timezone.now()
    with transaction.atomic():
        consent = PullConsent.objects.create(
            person=person,
            application=application,
            doc_types=wanted,
            purpose=clean_purpose,
            granted_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        record_change(
            _actor_user(person),
            action="wallet_consent_grant",
            obj=consent,
            person_id=person.pk,
            changes={
                "client_id": [None, application.client_id],
                "doc_types": [None, wanted],
                "purpose": [None, clean_purpose],
                "expires_at": [None, consent.expires_at.isoformat()],
            },
            reason="citizen_consent",
        )
    return consent


def revoke_consent(person: Person, *, consent_id: int) -> PullConsent:
    """The citizen withdraws a consent at once. Someone else's, or one already revoked,
    is a NotFound."""
    with transaction.atomic():
        consent = (
            PullConsent.objects.select_for_update()
            .filter(pk=consent_id, person=person, revoked_at__isnull=True)
            .first()
        )
        if consent is None:
            raise NotFound(_("Không tìm thấy sự đồng ý này."), code="consent_not_found")
        now = timezone.now()
        consent.revoked_at = now
        consent.save(update_fields=["revoked_at"])
        record_change(
            _actor_user(person),
            action="wallet_consent_revoke",
            obj=consent,
            person_id=person.pk,
            changes={"revoked_at": [None, now.isoformat()]},
            reason="citizen_revoked",
        )
    return consent


def _no_consent() -> PermissionDenied:
    return PermissionDenied(
        _(
            "Công dân chưa đồng ý (hoặc đã rút lại đồng ý) cho hệ thống này lấy loại giấy "
            "tờ này với mục đích này."
        ),
        code="no_consent",
    )


def pull_documents(
    client: ClientActor, *, id_number: str, doc_type: str, purpose: str
) -> list[Document]:
    """The holder's valid issued documents of ``doc_type``, for a requester with an
    active consent covering it, the type and exactly this purpose."""
    require_scope(client, READ_SCOPE)
    clean_purpose = _clean_purpose(purpose)
    if not isinstance(doc_type, str) or not doc_type:
        raise ValidationFailed(_("Chọn loại giấy tờ."), code="required", field="doc_type")
    if not isinstance(id_number, str) or not _ID_NUMBER.fullmatch(id_number):
        raise _no_consent()
    holder = Person.objects.filter(id_number=id_number, status=RecordStatus.ACTIVE).first()
    if holder is None:
        raise _no_consent()
    now = timezone.now()
    consent = next(
        (
            c
            for c in PullConsent.objects.filter(
                person=holder,
                application=client.application,
                revoked_at__isnull=True,
                expires_at__gt=now,
                purpose=clean_purpose,
            ).order_by("-granted_at", "-id")
            if doc_type in (c.doc_types or [])
        ),
        None,
    )
    if consent is None:
        raise _no_consent()
    today = timezone.localdate()
    with transaction.atomic():
        documents = list(
            Document.objects.filter(
                holder=holder,
                doc_type=doc_type,
                kind=DocumentKind.ISSUED,
                status=DocumentStatus.VALID,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .select_related("issuer")
            .order_by("-issued_at", "-id")
        )
        log_access(
            None,
            person_ids=[holder.pk],
            channel=Channel.WALLET,
            view=PULL_VIEW,
            fields=[doc_type],
            purpose=clean_purpose,
            on_behalf_of=(client.label, client.organisation),
        )
        DocumentEvent.objects.bulk_create(
            [
                DocumentEvent(
                    document=document,
                    at=now,
                    kind=EventKind.PULLED,
                    actor_label=client.organisation[:150],
                    detail={
                        "client_id": client.client_id,
                        "purpose": clean_purpose,
                        "consent": consent.pk,
                    },
                )
                for document in documents
            ]
        )
    return documents


__all__ = [
    "consent_doc_types",
    "consents_of",
    "grant_consent",
    "pull_documents",
    "requester_clients",
    "revoke_consent",
]

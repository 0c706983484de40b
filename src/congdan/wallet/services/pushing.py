"""Issuer systems push documents into citizens' wallets and change their status.

An issuer is a member organisation's system with a client-credentials token carrying
``wallet:issue`` and a ``ClientPolicy.agency``: it issues in that agency's name (signed
with the agency's key), and may revoke, suspend or reinstate only documents that agency
issued. A document of another agency is a NotFound, like a number nobody issued
(DESIGN: a forbidden object is a 404).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import Agency
from congdan.identity.api_auth import ClientActor, require_scope
from congdan.registry.models import Person, RecordStatus
from congdan.wallet import doctypes
from congdan.wallet.models import Document, DocumentKind
from congdan.wallet.services.issuing import change_status, create_issued

ISSUE_SCOPE = "wallet:issue"
CHANGES = ("revoke", "suspend", "reinstate")


def issuing_agency(client: ClientActor) -> Agency:
    """The agency the issuer system acts for; PermissionDenied without scope or agency."""
    require_scope(client, ISSUE_SCOPE)
    agency = client.policy.agency
    if agency is None or not agency.active:
        raise PermissionDenied(
            _("Hệ thống này chưa được gắn với một cơ quan cấp giấy tờ đang hoạt động."),
            code="no_agency",
        )
    return agency


# A document number: ASCII letters, digits, "_", ".", "-" (anything else, such as a NUL,
# is no number of ours and never reaches a query).
_NUMBER = re.compile(r"[A-Za-z0-9_.-]{1,120}")
_ID_NUMBER = re.compile(r"[0-9]{12}")


def push_document(
    client: ClientActor,
    *,
    holder_id_number: str,
    doc_type: str,
    title_vi: str,
    title_en: str,
    data: dict[str, Any],
    valid_until: dt.date | None,
    source_ref: str,
    integrated: bool = False,
) -> Document:
    """Issue a document to the holder's wallet in the name of the client's agency.

    A known integrated type (``doctypes.INTEGRATED``) may leave the titles empty (its own
    are used) and is always integrated. Unknown holder: NotFound ``holder_not_found``.

    Idempotent on ``source_ref``: a retry of a push whose answer was lost (same agency,
    holder, type and non-empty ``source_ref``) returns the document issued the first time
    instead of issuing a second one.
    """
    agency = issuing_agency(client)
    holder = (
        Person.objects.filter(id_number=holder_id_number, status=RecordStatus.ACTIVE).first()
        if isinstance(holder_id_number, str) and _ID_NUMBER.fullmatch(holder_id_number)
        else None
    )
    if holder is None:
        raise NotFound(_("Không tìm thấy công dân có số định danh này."), code="holder_not_found")
    source_ref = source_ref.strip() if isinstance(source_ref, str) else ""
    if source_ref:
        earlier = (
            Document.objects.select_related("holder", "issuer")
            .filter(
                issuer=agency,
                holder=holder,
                doc_type=doc_type,
                source_ref=source_ref[:80],
                kind=DocumentKind.ISSUED,
            )
            .first()
        )
        if earlier is not None:
            return earlier
    known = doctypes.INTEGRATED.get(doc_type)
    if known is not None:
        title_vi = title_vi or known.title_vi
        title_en = title_en or known.title_en
        integrated = True
    return create_issued(
        actor=None,
        actor_label=client.label,
        holder=holder,
        doc_type=doc_type,
        title_vi=title_vi,
        title_en=title_en,
        issuer=agency,
        data=data,
        source_ref=source_ref,
        valid_until=valid_until,
        integrated=integrated,
    )


def issued_document(client: ClientActor, number: str) -> Document:
    """A document the client's agency issued; NotFound for any other number."""
    agency = issuing_agency(client)
    document = (
        Document.objects.select_related("holder", "issuer")
        .filter(number=number, kind=DocumentKind.ISSUED, issuer=agency)
        .first()
        if isinstance(number, str) and _NUMBER.fullmatch(number)
        else None
    )
    if document is None:
        raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
    return document


def read_issued_document(client: ClientActor, number: str) -> Document:
    """``issued_document`` for the issuer API's read: the issuer system read a citizen's
    document (its holder, status, dates), so the read is access-logged on the holder."""
    document = issued_document(client, number)
    log_access(
        None,
        person_ids=[document.holder_id],
        channel=Channel.API,
        view="wallet_issuer_read",
        fields=("wallet_document",),
        purpose="document_status",
        on_behalf_of=(client.label, client.organisation),
    )
    return document


def change_document_status(
    client: ClientActor, *, number: str, change: str, reason: str
) -> Document:
    """Revoke, suspend or reinstate a document the client's agency issued."""
    if change not in CHANGES:
        raise ValidationFailed(_("Thao tác không hợp lệ."), code="invalid_change", field="change")
    agency = issuing_agency(client)
    issued_document(client, number)  # another agency's document is a 404, not a 403
    return change_status(
        actor=None,
        actor_label=client.label,
        agency_id=agency.pk,
        number=number,
        change=change,
        reason=reason,
    )


__all__ = [
    "change_document_status",
    "issued_document",
    "issuing_agency",
    "push_document",
    "read_issued_document",
]

"""Reads of wallet documents for the citizen pages ("Giấy tờ của tôi") and for the
officers who check uploaded scans.

A citizen sees their own documents and those of their children under 18 (the registry's
father/mother links). Anything else is a 404. When a parent opens a child's document the
child's data was read by someone else, so the read is access-logged (DESIGN rule 2).

An officer with ``DOSSIER_PROCESS`` sees the uploaded scans of persons whose permanent
residence lies in their agency's jurisdiction (a commune office its commune, a provincial
one its province); every read of one is access-logged.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import NotFound
from congdan.core.jurisdiction import jurisdiction_of
from congdan.core.permissions import Perm, check_perm
from congdan.registry.models import Person
from congdan.wallet import credentials, keys, sdjwt, verifier
from congdan.wallet.models import (
    EXPIRED,
    Document,
    DocumentKind,
    DocumentStatus,
    Share,
    UploadState,
)
from congdan.wallet.services import ADULT_AGE
from congdan.wallet.sources import LocalKeys, LocalStatuses

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

DOCUMENT_FIELDS = ("wallet_document",)
PARENT_PURPOSE = "parent_of_minor"


def _adult_born_on_or_before(today: dt.date) -> dt.date:
    """The latest birth date of someone who is an adult ``today``."""
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # today is 29 February
        return today.replace(year=today.year - ADULT_AGE, day=28)


def visible_documents(person: Person) -> QuerySet[Document]:
    """The documents ``person`` may open: their own and their children's under 18.
    Not access-logged: for services that check visibility and log what they do."""
    return _visible(person)


def _visible(person: Person) -> QuerySet[Document]:
    adult_cutoff = _adult_born_on_or_before(timezone.localdate())
    children = Person.objects.filter(
        Q(father=person) | Q(mother=person), birth_date__gt=adult_cutoff
    ).values("pk")
    return (
        Document.objects.filter(Q(holder=person) | Q(holder__in=children))
        .select_related("holder", "issuer")
        .order_by("-issued_at", "-id")
    )


def _log_parent_read(person: Person, holder_ids: list[int], view: str) -> None:
    """A parent read their children's documents: log it on each child's record."""
    ids = [pk for pk in dict.fromkeys(holder_ids) if pk != person.pk]
    if not ids:
        return
    account = getattr(person, "eid_account", None)
    log_access(
        account.user if account is not None else None,
        person_ids=ids,
        channel=Channel.PORTAL,
        view=view,
        fields=DOCUMENT_FIELDS,
        purpose=PARENT_PURPOSE,
        on_behalf_of=None if account is not None else (f"person:{person.pk}", ""),
    )


def documents_for_citizen(person: Person) -> list[Document]:
    """ "My documents": the person's own and their children's under 18, newest first."""
    documents = list(_visible(person))
    _log_parent_read(person, [d.holder_id for d in documents], "wallet_documents")
    return documents


def get_document_for_citizen(person: Person, number: str) -> Document:
    """One of the documents ``documents_for_citizen(person)`` lists; NotFound otherwise."""
    document = _visible(person).filter(number=number).first()
    if document is None:
        raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
    _log_parent_read(person, [document.holder_id], "wallet_document")
    return document


def verify_document(document: Document) -> verifier.Verdict | None:
    """The verifier's verdict on the stored credential (every field disclosed, no holder
    binding asked), with the live status; None for an uploaded scan (nothing signed)."""
    if document.kind != DocumentKind.ISSUED or not document.credential:
        return None
    verdict = verifier.verify(
        document.credential,
        keys=LocalKeys(),
        statuses=LocalStatuses(),
        require_holder_binding=False,
    )
    if verdict.valid or verdict.code in {"revoked", "suspended", "expired"}:
        # The signature holds: the stored copy must say what was signed.
        signed = credentials.all_claims(document)
        cnf = sdjwt.split(document.credential).payload.get("cnf", {})
        expected_exp = (
            credentials.epoch_end_of(document.valid_until) if document.valid_until else None
        )
        if (
            verdict.document_number != document.number
            or {k: v for k, v in signed.items() if not k.startswith("age_over_")} != document.data
            or document.issuer is None
            or verdict.issuer != keys.issuer_id(document.issuer)
            or verdict.expires_at != expected_exp
            or verdict.issued_at != int(document.issued_at.timestamp())
            or cnf.get("jwk") != keys.holder_jwk(document.holder.id_number)
        ):
            return verifier.tampered(verdict)
    return verdict


# --- filters of "Giấy tờ của tôi" -------------------------------------------------------

# A child's person id in the holder filter: ASCII digits only ("²".isdigit() is True).
_PERSON_ID = re.compile(r"[0-9]{1,18}")
STATUS_FILTERS = (*DocumentStatus.values, EXPIRED)
KIND_FILTERS = tuple(DocumentKind.values)
MAX_QUERY = 100


def _folded(text: str) -> str:
    """Lower case without diacritics (đ → d): search ignores them (DESIGN rule 4)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class DocumentFilter:
    """The filters of the document list (GET parameters); empty means "all"."""

    kind: str = ""
    doc_type: str = ""
    status: str = ""
    holder: str = ""  # "me", or a child's person id
    q: str = ""

    @classmethod
    def from_params(cls, params: dict[str, str]) -> DocumentFilter:
        """Unknown values are ignored rather than refused: a stale bookmark still shows
        the list."""
        kind = params.get("kind", "")
        status = params.get("status", "")
        holder = params.get("holder", "")
        return cls(
            kind=kind if kind in KIND_FILTERS else "",
            doc_type=params.get("doc_type", "")[:40],
            status=status if status in STATUS_FILTERS else "",
            holder=holder if holder == "me" or _PERSON_ID.fullmatch(holder) else "",
            q=" ".join(params.get("q", "").split())[:MAX_QUERY],
        )

    @property
    def active(self) -> bool:
        return any((self.kind, self.doc_type, self.status, self.holder, self.q))

    def matches(self, document: Document, person: Person) -> bool:
        holder_ok = (
            not self.holder
            or (self.holder == "me" and document.holder_id == person.pk)
            or (
                _PERSON_ID.fullmatch(self.holder) is not None
                and document.holder_id == int(self.holder)
            )
        )
        text_ok = not self.q or _folded(self.q) in _folded(
            " ".join((document.title_vi, document.title_en, document.number))
        )
        return (
            (not self.kind or document.kind == self.kind)
            and (not self.doc_type or document.doc_type == self.doc_type)
            and (not self.status or document.effective_status == self.status)
            and holder_ok
            and text_ok
        )


def filter_documents(
    documents: list[Document], person: Person, wanted: DocumentFilter
) -> list[Document]:
    return [d for d in documents if wanted.matches(d, person)]


# --- shares -------------------------------------------------------------------------------


def shares_of(document: Document) -> list[Share]:
    """Every share of a document the caller may see (active and past), newest first."""
    return list(document.shares.select_related("shared_by").order_by("-created_at", "-id"))


def get_share_for_citizen(person: Person, number: str, share_id: int) -> Share:
    """A share of one of the person's visible documents; NotFound otherwise."""
    document = get_document_for_citizen(person, number)
    share = document.shares.select_related("shared_by").filter(pk=share_id).first()
    if share is None:
        raise NotFound(_("Không tìm thấy lượt chia sẻ."), code="share_not_found")
    share.document = document
    return share


# --- uploaded scans, for officers ----------------------------------------------------------

UPLOAD_FIELDS = ("wallet_upload",)
UPLOAD_PURPOSE = "upload_check"


def uploads_for(actor: User | AnonymousUser | None) -> QuerySet[Document]:
    """Uploaded scans of persons living in the actor's jurisdiction (deny by default)."""
    uploads = Document.objects.filter(kind=DocumentKind.UPLOADED).select_related("holder")
    j = jurisdiction_of(actor)
    if j.national:
        return uploads
    if j.none or j.unit is None:
        return uploads.none()
    if j.is_province:
        return uploads.filter(holder__residence_province=j.unit)
    return uploads.filter(holder__residence_commune=j.unit)


def upload_queue(actor: User | AnonymousUser | None) -> list[Document]:
    """Unverified scans in the actor's jurisdiction, oldest upload first. The list shows
    titles and holder names: one access-log entry per holder."""
    check_perm(actor, Perm.DOSSIER_PROCESS)
    uploads = list(
        uploads_for(actor).filter(upload_state=UploadState.UNVERIFIED).order_by("id")[:200]
    )
    log_access(
        actor,
        person_ids=[d.holder_id for d in uploads],
        channel=Channel.UI,
        view="wallet_upload_queue",
        fields=UPLOAD_FIELDS,
        purpose=UPLOAD_PURPOSE,
    )
    return uploads


def get_upload_for_officer(
    actor: User | AnonymousUser | None, number: str, *, view: str = "wallet_upload"
) -> Document:
    """One uploaded scan in the actor's jurisdiction (NotFound outside it), logged."""
    check_perm(actor, Perm.DOSSIER_PROCESS)
    document = uploads_for(actor).filter(number=number).first()
    if document is None:
        raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
    log_access(
        actor,
        person_ids=[document.holder_id],
        channel=Channel.UI,
        view=view,
        fields=UPLOAD_FIELDS,
        purpose=UPLOAD_PURPOSE,
    )
    return document


__all__ = [
    "DocumentFilter",
    "documents_for_citizen",
    "filter_documents",
    "get_document_for_citizen",
    "get_share_for_citizen",
    "get_upload_for_officer",
    "shares_of",
    "upload_queue",
    "uploads_for",
    "verify_document",
    "visible_documents",
]

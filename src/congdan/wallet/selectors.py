"""Reads of wallet documents for the citizen pages ("Giấy tờ của tôi").

A citizen sees their own documents and those of their children under 18 (the registry's
father/mother links). Anything else is a 404. When a parent opens a child's document the
child's data was read by someone else, so the read is access-logged (DESIGN rule 2).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import NotFound
from congdan.registry.models import Person
from congdan.wallet import credentials, keys, verifier
from congdan.wallet.models import Document, DocumentKind
from congdan.wallet.services import ADULT_AGE
from congdan.wallet.sources import LocalKeys, LocalStatuses

DOCUMENT_FIELDS = ("wallet_document",)
PARENT_PURPOSE = "parent_of_minor"


def _adult_born_on_or_before(today: dt.date) -> dt.date:
    """The latest birth date of someone who is an adult ``today``."""
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # today is 29 February
        return today.replace(year=today.year - ADULT_AGE, day=28)


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
        if (
            verdict.document_number != document.number
            or {k: v for k, v in signed.items() if not k.startswith("age_over_")}
            != document.data
            or verdict.issuer != keys.issuer_id(document.issuer)
        ):
            return verifier.tampered(verdict)
    return verdict


__all__ = ["documents_for_citizen", "get_document_for_citizen", "verify_document"]

"""Reads of dossiers (DESIGN rule 2).

An officer's reads go through ``dossiers_for`` (their agency kind and jurisdiction; a
dossier outside it is a 404) and are written to the access log: a dossier holds the
applicant's and the subject's personal data. A citizen reads only their own dossiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import NotFound
from congdan.procedures.models import (
    OPEN_STATUSES,
    Attachment,
    Bundle,
    Dossier,
    DossierEvent,
    DossierStatus,
)
from congdan.procedures.scoping import dossiers_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

    Actor = User | AnonymousUser

PAGE_SIZE = 25
QUEUES = {
    "new": (DossierStatus.SUBMITTED,),
    "processing": (
        DossierStatus.RECEIVED,
        DossierStatus.IN_PROCESSING,
        DossierStatus.SUPPLEMENTED,
    ),
    "supplement": (DossierStatus.SUPPLEMENT_REQUESTED,),
    "done": (DossierStatus.RESULT_ISSUED, DossierStatus.REJECTED, DossierStatus.CANCELLED),
}
DOSSIER_FIELDS = ("id_number", "full_name", "dossier_data")


def queue(actor: Actor, *, name: str = "new", mine: bool = False, page: Any = 1) -> Page[Dossier]:
    """One page of a work queue; ``overdue`` lists open dossiers past their deadline."""
    queryset = dossiers_for(actor).select_related("applicant", "subject", "assigned_to", "unit")
    if name == "overdue":
        queryset = queryset.filter(
            status__in=OPEN_STATUSES, paused_at__isnull=True, due_date__lt=timezone.localdate()
        )
    else:
        queryset = queryset.filter(status__in=QUEUES.get(name, QUEUES["new"]))
    if mine:
        queryset = queryset.filter(assigned_to_id=getattr(actor, "pk", None))
    order = "-decided_at" if name == "done" else "due_date"
    result = Paginator(queryset.order_by(order, "id"), PAGE_SIZE).get_page(page)
    ids = [d.applicant_id for d in result] + [d.subject_id for d in result if d.subject_id]
    log_access(
        actor,
        person_ids=ids,
        channel=Channel.UI,
        view="procedures:queue",
        fields=("id_number", "full_name"),
        purpose="dossier_processing",
    )
    return result


def queue_counts(actor: Actor) -> dict[str, int]:
    base = dossiers_for(actor)
    counts = {name: base.filter(status__in=statuses).count() for name, statuses in QUEUES.items()}
    counts["overdue"] = base.filter(
        status__in=OPEN_STATUSES, paused_at__isnull=True, due_date__lt=timezone.localdate()
    ).count()
    return counts


def dossier_for_officer(actor: Actor, code: str) -> Dossier:
    dossier = (
        dossiers_for(actor)
        .select_related("applicant", "subject", "unit", "agency", "assigned_to", "bundle")
        .filter(code=code)
        .first()
    )
    if dossier is None:
        raise NotFound(_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    ids = [dossier.applicant_id] + ([dossier.subject_id] if dossier.subject_id else [])
    log_access(
        actor,
        person_ids=ids,
        channel=Channel.UI,
        view="procedures:dossier",
        fields=DOSSIER_FIELDS,
        purpose="dossier_processing",
    )
    return dossier


WALLET_DOCUMENT_FIELDS = ("wallet_document",)


def wallet_attachment_for_officer(actor: Actor, code: str, attachment_id: int) -> Attachment:
    """A wallet document attached to a dossier the officer may see (NotFound otherwise),
    with the document loaded. The officer reads the holder's document: access-logged."""
    dossier = dossiers_for(actor).filter(code=code).first()
    attachment = (
        Attachment.objects.select_related(
            "dossier",
            "wallet_document",
            "wallet_document__holder",
            "wallet_document__issuer",
            "wallet_document__checked_by",
        )
        .filter(dossier=dossier, pk=attachment_id, wallet_document__isnull=False)
        .first()
        if dossier is not None
        else None
    )
    if attachment is None or attachment.wallet_document is None:
        raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
    log_access(
        actor,
        person_ids=[attachment.wallet_document.holder_id],
        channel=Channel.UI,
        view="dossier_wallet_document",
        fields=WALLET_DOCUMENT_FIELDS,
        purpose="dossier_processing",
    )
    return attachment


def officer_can_see(actor: Actor, code: str) -> bool:
    return dossiers_for(actor).filter(code=code).exists()


def dossiers_of_citizen(user: Actor) -> QuerySet[Dossier]:
    if not user.is_authenticated:
        return Dossier.objects.none()
    return (
        Dossier.objects.filter(applicant_user=user)
        .filter(Q(bundle__isnull=True) | Q(part_index=0))
        .select_related("bundle")
        .order_by("-created_at")
    )


def dossier_for_citizen(user: Actor, code: str) -> Dossier:
    dossier = (
        Dossier.objects.select_related("applicant", "subject", "bundle", "result_document")
        .filter(code=code, applicant_user=user)
        .first()
        if user.is_authenticated
        else None
    )
    if dossier is None:
        raise NotFound(_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    return dossier


def bundle_for_citizen(user: Actor, code: str) -> Bundle:
    bundle = (
        Bundle.objects.filter(code=code, applicant_user=user).first()
        if user.is_authenticated
        else None
    )
    if bundle is None:
        raise NotFound(_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    return bundle


@dataclass
class TimelineEntry:
    event: DossierEvent
    dossier: Dossier


def timeline(dossiers: list[Dossier]) -> list[TimelineEntry]:
    """One timeline for a dossier or for every part of a bundle, oldest first."""
    by_id = {d.pk: d for d in dossiers}
    events = DossierEvent.objects.filter(dossier_id__in=by_id).order_by("at", "id")
    return [TimelineEntry(event=e, dossier=by_id[e.dossier_id]) for e in events]

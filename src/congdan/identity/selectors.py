"""Reads of the identity app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import NotFound
from congdan.core.permissions import Perm, check_perm
from congdan.identity.models import (
    CorrectionRequest,
    EidAccount,
    Level2Verification,
    ReportStatus,
    VerificationStatus,
)
from congdan.registry.scoping import can_see, persons_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User


def account_of(user: User | AnonymousUser | None) -> EidAccount | None:
    """The e-ID account of a logged-in user, or None (officers have none)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return EidAccount.objects.select_related("person").get(user_id=user.pk)
    except EidAccount.DoesNotExist:
        return None


# --- officer side: level-2 queue and correction requests --------------------------------

LEVEL2_FIELDS = ("id_number", "full_name", "birth_date", "eid_portrait")
REPORT_FIELDS = ("id_number", "full_name", "correction_request")


QUEUE_PAGE_SIZE = 25
QUEUE_FIELDS = ("id_number", "full_name")


def _logged_page(
    actor: User | AnonymousUser,
    queryset: QuerySet[Any],
    page: str | int | None,
    *,
    person_of: Callable[[Any], int],
    view: str,
    purpose: str,
) -> Page[Any]:
    """One page of a queue; the persons it shows are access-logged (like a search)."""
    shown = Paginator(queryset, QUEUE_PAGE_SIZE).get_page(page)
    log_access(
        actor,
        person_ids=[person_of(row) for row in shown.object_list],
        channel=Channel.UI,
        view=view,
        fields=QUEUE_FIELDS,
        purpose=purpose,
    )
    return shown


def level2_queue(actor: User | AnonymousUser, *, page: str | int | None = 1) -> Page[Any]:
    """Pending level-2 requests of citizens the officer may see, oldest first."""
    check_perm(actor, Perm.EID_LEVEL2_VERIFY)
    queryset = (
        Level2Verification.objects.filter(
            status=VerificationStatus.PENDING, account__person__in=persons_for(actor)
        )
        .select_related("account__person", "commune")
        .order_by("requested_at", "id")
    )
    return _logged_page(
        actor,
        queryset,
        page,
        person_of=lambda row: row.account.person_id,
        view="level2_queue",
        purpose="eid_level2",
    )


def account_for_verification(
    actor: User | AnonymousUser,
    *,
    account_id: int | None = None,
    id_number: str = "",
    view: str = "level2_verify",
) -> EidAccount:
    """The account an officer is about to verify (by id or by ID number for a walk-in);
    404 when missing or outside the officer's jurisdiction. Logs the read."""
    check_perm(actor, Perm.EID_LEVEL2_VERIFY)
    accounts = EidAccount.objects.select_related("person", "person__residence_commune")
    if account_id is not None:
        account = accounts.filter(pk=account_id).first()
    else:
        account = accounts.filter(person__id_number=id_number.strip()).first()
    if account is None or not can_see(actor, account.person):
        raise NotFound(_("Không tìm thấy tài khoản định danh."), code="account_not_found")
    log_access(
        actor,
        person_ids=[account.person_id],
        channel=Channel.UI,
        view=view,
        fields=LEVEL2_FIELDS,
        purpose="eid_level2",
    )
    return account


def report_queue(actor: User | AnonymousUser, *, page: str | int | None = 1) -> Page[Any]:
    """Open correction requests of citizens the officer may see, oldest first."""
    check_perm(actor, Perm.PERSON_READ)
    queryset = (
        CorrectionRequest.objects.filter(status=ReportStatus.OPEN, person__in=persons_for(actor))
        .select_related("person")
        .order_by("created_at", "id")
    )
    return _logged_page(
        actor,
        queryset,
        page,
        person_of=lambda row: row.person_id,
        view="report_queue",
        purpose="correction_request",
    )


def get_report(actor: User | AnonymousUser, *, report_id: int) -> CorrectionRequest:
    check_perm(actor, Perm.PERSON_READ)
    report = (
        CorrectionRequest.objects.select_related("person", "account").filter(pk=report_id).first()
    )
    if report is None or not can_see(actor, report.person):
        raise NotFound(_("Không tìm thấy phản ánh."), code="report_not_found")
    log_access(
        actor,
        person_ids=[report.person_id],
        channel=Channel.UI,
        view="correction_request",
        fields=REPORT_FIELDS,
        purpose="correction_request",
    )
    return report


def level2_requests_of(account: EidAccount) -> QuerySet[Level2Verification]:
    """The citizen's own level-2 requests, newest first."""
    return account.level2.select_related("commune").order_by("-requested_at", "-id")

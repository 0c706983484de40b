"""Reads of payments.

A payer reads their own payments here. Officers see payments through the procedures app
(which scopes by the dossier's jurisdiction and logs the access), never through these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import NotFound
from congdan.payments.models import Payment, PaymentStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

RECEIPT_STATUSES = (PaymentStatus.PAID, PaymentStatus.REFUNDED)


def payment_for(purpose: str, purpose_ref: str) -> Payment | None:
    """The payment that counts for one thing: the paid one if any, else the latest.

    For other apps' services (no actor, no access log: it carries no personal data
    beyond what the caller already holds)."""
    payments = Payment.objects.filter(purpose=purpose, purpose_ref=purpose_ref)
    paid = payments.filter(status=PaymentStatus.PAID).first()
    return paid or payments.order_by("-created_at", "-id").first()


def payments_of_user(user: User | AnonymousUser) -> QuerySet[Payment]:
    """The payments a logged-in user made, newest first (none for anonymous users)."""
    if not user.is_authenticated:
        return Payment.objects.none()
    return Payment.objects.filter(payer_user_id=user.pk).order_by("-created_at", "-id")


def get_receipt(user: User | AnonymousUser, reference: str) -> Payment:
    """The receipt of a paid (or since refunded) payment, for its payer only: anyone
    else, and any payment not paid, gets ``NotFound``."""
    payment = (
        payments_of_user(user)
        .select_related("payer_person")
        .filter(reference=reference, status__in=RECEIPT_STATUSES)
        .first()
    )
    if payment is None:
        raise NotFound(_("Không tìm thấy biên lai."), code="receipt_not_found")
    return payment

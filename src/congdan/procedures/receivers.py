"""Signals the procedures app listens to."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from congdan.payments.signals import payment_paid
from congdan.procedures.services import record_payment

PURPOSES = ("dossier", "bundle")


@receiver(payment_paid, dispatch_uid="procedures.payment_paid")
def _on_payment_paid(sender: Any, payment: Any, **kwargs: Any) -> None:
    """Inside the payment's transaction: the dossiers leave "awaiting payment" with it."""
    if payment.purpose in PURPOSES:
        record_payment(purpose_ref=payment.purpose_ref, reference=payment.reference)

"""Payment services: start (idempotent), complete (verified, confirmed, idempotent),
refund, expiry, the signals and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import User
from congdan.payments import selectors, services, signals
from congdan.payments.errors import InvalidSignature
from congdan.payments.gateways import sandbox
from congdan.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    ReceiptSequence,
    SandboxStatus,
    SandboxTransaction,
)
from tests.conftest import World
from tests.payments.conftest import DECLINED_CARD, OK_CARD, query_of

Start = Callable[..., Payment]


def pay_at_bank(payment: Payment, *, action: str = "pay", card: str = OK_CARD) -> dict[str, str]:
    """The payer acts on the bank page; the signed parameters sent back."""
    txn = payment.gateway_url.rstrip("/").rsplit("/", 1)[-1]
    return query_of(sandbox.bank_act(txn, action=action, card_number=card))


# --- start -------------------------------------------------------------------------------


def test_start_creates_a_pending_payment_at_the_gateway(start: Start, payer: User) -> None:
    payment = start()
    assert payment.status == PaymentStatus.PENDING
    assert payment.reference.startswith("TT")
    assert len(payment.reference) == 14
    assert payment.reference[-2:].isalpha()
    assert payment.gateway == "sandbox"
    assert payment.gateway_url.startswith("/payments/sandbox/")
    assert payment.expires_at - payment.created_at == dt.timedelta(minutes=15)
    txn = SandboxTransaction.objects.get(reference=payment.reference)
    assert (txn.amount, txn.status) == (1_000_000, SandboxStatus.PENDING)
    assert txn.return_url.endswith("/payments/return/")
    assert list(payment.events.values_list("kind", flat=True)) == ["created"]
    record = ChangeRecord.objects.get(action="payment.start", object_id=payment.pk)
    assert record.actor == payer
    assert record.person_id == payment.payer_person_id


def test_start_is_idempotent(start: Start) -> None:
    first = start()
    again = start()
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert SandboxTransaction.objects.count() == 1
    assert again.events.filter(kind="reused").count() == 1


def test_a_second_payment_is_refused_while_one_is_pending(start: Start, other_payer: User) -> None:
    start()
    with pytest.raises(Conflict) as amount_changed:
        start(amount=2_000_000)
    assert amount_changed.value.code == "payment_in_progress"
    with pytest.raises(Conflict):
        start(actor=other_payer)
    assert Payment.objects.count() == 1


def test_a_paid_thing_is_not_charged_again(start: Start) -> None:
    payment = start()
    services.complete_payment(pay_at_bank(payment))
    with pytest.raises(Conflict) as excinfo:
        start()
    assert excinfo.value.code == "already_paid"


def test_start_after_expiry_opens_a_new_payment(start: Start) -> None:
    first = start()
    Payment.objects.filter(pk=first.pk).update(
        expires_at=first.created_at - dt.timedelta(seconds=1)
    )
    second = start()
    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == PaymentStatus.EXPIRED


def test_different_things_get_different_references(start: Start) -> None:
    references = {start(purpose_ref=f"HS-{n}").reference for n in range(5)}
    assert len(references) == 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"description": "  "}, "description"),
        ({"return_path": "//evil.example/x"}, "return_path"),
        ({"return_path": "https://evil.example/x"}, "return_path"),
        ({"return_path": "me/"}, "return_path"),
        ({"return_path": "/\\evil.example"}, "return_path"),
    ],
)
def test_start_validates(start: Start, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        start(**overrides)
    assert excinfo.value.field == field
    assert not Payment.objects.exists()


def test_anonymous_cannot_start(start: Start) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        start(actor=AnonymousUser())


def test_the_database_refuses_a_zero_amount(world: World, payer: User) -> None:
    now = dt.datetime.now(tz=dt.UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            reference="TT0000000000AA",
            purpose="dossier",
            purpose_ref="X",
            payer_user=payer,
            amount=0,
            description="x",
            gateway="sandbox",
            expires_at=now,
            return_path="/",
        )


# --- complete ---------------------------------------------------------------------------


def test_complete_marks_paid_with_a_receipt(start: Start) -> None:
    payment = start()
    paid = services.complete_payment(pay_at_bank(payment))
    assert paid.status == PaymentStatus.PAID
    assert paid.paid_at is not None
    year = paid.paid_at.astimezone(dt.timezone(dt.timedelta(hours=7))).year
    assert paid.receipt_number == f"BL-{year}-000001"
    assert paid.gateway_txn
    kinds = list(paid.events.values_list("kind", flat=True))
    assert kinds == ["created", "callback", "paid"]
    record = ChangeRecord.objects.get(action="payment.paid", object_id=paid.pk)
    assert record.changes["status"] == ["pending", "paid"]
    assert record.actor is None
    # Events never keep the signature.
    assert all("signature" not in e.detail for e in PaymentEvent.objects.all())


def test_receipt_numbers_run_without_gaps(start: Start) -> None:
    numbers = []
    for n in range(3):
        payment = start(purpose_ref=f"HS-{n}")
        numbers.append(services.complete_payment(pay_at_bank(payment)).receipt_number)
    assert [int(n.rsplit("-", 1)[1]) for n in numbers if n] == [1, 2, 3]


def test_complete_is_idempotent(start: Start) -> None:
    params = pay_at_bank(start())
    first = services.complete_payment(params)
    second = services.complete_payment(params)
    assert second.pk == first.pk
    assert second.receipt_number == first.receipt_number
    assert PaymentEvent.objects.filter(kind="paid").count() == 1
    assert ReceiptSequence.objects.get().last == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "amount": "1"},
        lambda p: {**p, "code": "00", "reference": "TT0000000000ZZ"},
        lambda p: {**p, "signature": "0" * 64},
        lambda p: {k: v for k, v in p.items() if k != "signature"},
        lambda p: {**p, "extra": "1"},
    ],
)
def test_a_tampered_callback_changes_nothing(start: Start, tamper: Callable[..., Any]) -> None:
    payment = start()
    params = tamper(pay_at_bank(payment))
    events_before = PaymentEvent.objects.count()
    with pytest.raises(InvalidSignature):
        services.complete_payment(params)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert PaymentEvent.objects.count() == events_before


def test_a_signed_claim_is_confirmed_with_the_bank(start: Start) -> None:
    """Even a correctly signed "paid" is not believed while the bank says pending."""
    payment = start()
    txn = SandboxTransaction.objects.get(reference=payment.reference)
    forged = sandbox.signed(
        {"txn": txn.txn, "reference": payment.reference, "amount": "1000000", "code": "00"}
    )
    result = services.complete_payment(forged)
    assert result.status == PaymentStatus.PENDING
    assert result.receipt_number is None


def test_amount_mismatch_is_refused(start: Start) -> None:
    payment = start()
    txn = SandboxTransaction.objects.get(reference=payment.reference)
    claim = sandbox.signed(
        {"txn": txn.txn, "reference": payment.reference, "amount": "1", "code": "00"}
    )
    with pytest.raises(ValidationFailed) as excinfo:
        services.complete_payment(claim)
    assert excinfo.value.code == "amount_mismatch"
    assert payment.events.filter(kind="mismatch").exists()


def test_unknown_reference_is_not_found(start: Start) -> None:
    start()
    claim = sandbox.signed({"txn": "x", "reference": "TT9999999999ZZ", "amount": "5", "code": "00"})
    with pytest.raises(NotFound):
        services.complete_payment(claim)


@pytest.mark.parametrize(
    "case",
    [("pay", DECLINED_CARD, PaymentStatus.FAILED), ("cancel", "", PaymentStatus.CANCELLED)],
)
def test_decline_and_cancel(
    start: Start,
    receivers: Any,
    django_capture_on_commit_callbacks: Any,
    case: tuple[str, str, str],
) -> None:
    action, card, status = case
    failed: list[Payment] = []
    receivers(signals.payment_failed, lambda sender, payment, **kw: failed.append(payment))
    paid: list[Payment] = []
    receivers(signals.payment_paid, lambda sender, payment, **kw: paid.append(payment))
    payment = start()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.complete_payment(pay_at_bank(payment, action=action, card=card))
    assert result.status == status
    assert result.receipt_number is None
    assert [p.pk for p in failed] == [payment.pk]
    assert not paid
    # After a failure the thing can be paid with a new payment.
    assert start().pk != payment.pk


# --- the payment_paid signal is part of the transaction ----------------------------------


def test_payment_paid_is_sent_inside_the_transaction(start: Start, receivers: Any) -> None:
    seen: list[tuple[bool, str]] = []

    def receiver(sender: Any, payment: Payment, **kwargs: Any) -> None:
        stored = Payment.objects.get(pk=payment.pk)
        seen.append((transaction.get_connection().in_atomic_block, stored.status))

    receivers(signals.payment_paid, receiver)
    payment = start()
    services.complete_payment(pay_at_bank(payment))
    assert seen == [(True, PaymentStatus.PAID)]


def test_a_failing_receiver_leaves_the_payment_pending(start: Start, receivers: Any) -> None:
    def receiver(sender: Any, payment: Payment, **kwargs: Any) -> None:
        raise RuntimeError("the dossier could not move on")

    receivers(signals.payment_paid, receiver)
    payment = start()
    params = pay_at_bank(payment)
    with pytest.raises(RuntimeError):
        services.complete_payment(params)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert payment.receipt_number is None
    assert not ReceiptSequence.objects.filter(last__gt=0).exists()
    assert not ChangeRecord.objects.filter(action="payment.paid").exists()


# --- refund -----------------------------------------------------------------------------


def test_refund(
    start: Start, world: World, receivers: Any, django_capture_on_commit_callbacks: Any
) -> None:
    refunded: list[tuple[Payment, Any]] = []
    receivers(
        signals.payment_refunded,
        lambda sender, payment, actor, **kw: refunded.append((payment, actor)),
    )
    payment = services.complete_payment(pay_at_bank(start()))
    with django_capture_on_commit_callbacks(execute=True):
        result = services.refund_payment(
            world.commune_officer, reference=payment.reference, reason="Hồ sơ bị từ chối"
        )
    assert result.status == PaymentStatus.REFUNDED
    assert result.refunded_at is not None
    assert result.refund_reason == "Hồ sơ bị từ chối"
    txn = SandboxTransaction.objects.get(reference=payment.reference)
    assert (txn.status, txn.refunded_amount) == (SandboxStatus.REFUNDED, 1_000_000)
    assert refunded == [(result, world.commune_officer)]
    record = ChangeRecord.objects.get(action="payment.refund")
    assert (record.actor, record.reason) == (world.commune_officer, "Hồ sơ bị từ chối")
    # Refunded once only.
    with pytest.raises(Conflict):
        services.refund_payment(world.commune_officer, reference=payment.reference, reason="x")


def test_refund_needs_the_permission(start: Start, payer: User, world: World) -> None:
    payment = services.complete_payment(pay_at_bank(start()))
    for actor in (payer, world.steward, world.nobody):
        with pytest.raises(PermissionDenied):
            services.refund_payment(actor, reference=payment.reference, reason="x")
    assert services.refund_payment.required_perm == "payments:payment:refund"  # type: ignore[attr-defined]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID


def test_refund_refusals(start: Start, world: World) -> None:
    pending = start()
    with pytest.raises(Conflict):
        services.refund_payment(world.commune_officer, reference=pending.reference, reason="x")
    with pytest.raises(NotFound):
        services.refund_payment(world.commune_officer, reference="TT000", reason="x")
    paid = services.complete_payment(pay_at_bank(start(purpose_ref="HS-2")))
    with pytest.raises(ValidationFailed) as excinfo:
        services.refund_payment(world.commune_officer, reference=paid.reference, reason=" ")
    assert excinfo.value.field == "reason"


# --- expiry -----------------------------------------------------------------------------


def test_expire_payments(
    start: Start, receivers: Any, django_capture_on_commit_callbacks: Any
) -> None:
    failed: list[str] = []
    receivers(signals.payment_failed, lambda sender, payment, **kw: failed.append(payment.status))
    payment = start()
    assert services.expire_payments(now=payment.expires_at - dt.timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_payments(now=payment.expires_at + dt.timedelta(seconds=1)) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    assert failed == [PaymentStatus.EXPIRED]
    assert services.expire_payments(now=payment.expires_at + dt.timedelta(hours=1)) == 0


def test_expiry_first_asks_the_bank(start: Start) -> None:
    """Paid at the bank but the browser never came back: reconciled as paid."""
    payment = start()
    pay_at_bank(payment)  # no return, no IPN
    assert services.expire_payments(now=payment.expires_at + dt.timedelta(minutes=1)) == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.receipt_number


def test_the_bank_refuses_an_expired_transaction(start: Start) -> None:
    payment = start()
    SandboxTransaction.objects.filter(reference=payment.reference).update(
        expires_at=payment.created_at
    )
    params = pay_at_bank(payment)
    assert params["code"] == sandbox.CODE_EXPIRED
    result = services.complete_payment(params)
    assert result.status == PaymentStatus.EXPIRED


def test_expire_command(start: Start, settings: Any) -> None:
    from io import StringIO

    payment = start()
    Payment.objects.filter(pk=payment.pk).update(expires_at=payment.created_at)
    out = StringIO()
    call_command("payments_expire", stdout=out)
    assert "closed 1" in out.getvalue()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED


# --- selectors --------------------------------------------------------------------------


def test_selectors(start: Start, payer: User, other_payer: User) -> None:
    assert selectors.payment_for("dossier", "HS-2026-000001") is None
    payment = start()
    assert selectors.payment_for("dossier", "HS-2026-000001") == payment
    with pytest.raises(NotFound):
        selectors.get_receipt(payer, payment.reference)  # not paid yet
    services.complete_payment(pay_at_bank(payment))
    assert selectors.get_receipt(payer, payment.reference) == payment
    with pytest.raises(NotFound):
        selectors.get_receipt(other_payer, payment.reference)
    assert list(selectors.payments_of_user(payer)) == [payment]
    assert not selectors.payments_of_user(other_payer).exists()


def test_ipn_delivered_by_the_sandbox_completes_the_payment(
    start: Start, settings: Any, django_capture_on_commit_callbacks: Any, payer: User
) -> None:
    settings.CONGDAN_PAYMENT_SANDBOX_IPN = True
    payment = start()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(payment.gateway_url, {"action": "pay", "card": OK_CARD})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID  # before the browser returned

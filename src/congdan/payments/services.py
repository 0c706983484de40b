"""State changes of payments (DESIGN rule 1).

One function per change. Each runs in one transaction, locks the payment it changes,
records a ``PaymentEvent`` and a change record (``audit.record_change``), and sends the
``payments.signals`` (``payment_paid`` inside the transaction, the others on commit).

* ``start_payment`` — the logged-in payer opens (or re-opens) the payment of one thing.
* ``complete_payment`` — a gateway callback (browser return or IPN): verify the signature,
  confirm with a status query, then mark paid / failed / cancelled. Idempotent.
* ``refund_payment`` — an officer with ``Perm.PAYMENT_REFUND`` returns the money.
* ``expire_payments`` — close pending payments past their time (``congdan payments_expire``).

A redirect is never trusted: whatever a callback claims, the state comes from
``gateway.query``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import diff, record_change
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import User
from congdan.core.permissions import Perm, requires
from congdan.payments import signals
from congdan.payments.errors import GatewayUnavailable
from congdan.payments.gateways import get_gateway
from congdan.payments.gateways.base import GatewayState, GatewayStatus, PaymentGateway
from congdan.payments.models import (
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentStatus,
    ReceiptSequence,
    validate_local_path,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.registry.models import Person

    Actor = User | AnonymousUser

logger = logging.getLogger(__name__)

REFERENCE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O: read aloud over the phone
START_ATTEMPTS = 5
EXPIRE_BATCH = 500
CLOSED_STATE: dict[GatewayState, str] = {
    "failed": PaymentStatus.FAILED,
    "cancelled": PaymentStatus.CANCELLED,
    "expired": PaymentStatus.EXPIRED,
}
EVENT_OF_STATUS: dict[str, str] = {
    PaymentStatus.FAILED: PaymentEventKind.FAILED,
    PaymentStatus.CANCELLED: PaymentEventKind.CANCELLED,
    PaymentStatus.EXPIRED: PaymentEventKind.EXPIRED,
}


# --- helpers (no transactions of their own) -------------------------------------------


def _values(payment: Payment) -> dict[str, Any]:
    return {
        name: getattr(payment, name)
        for name in ("status", "amount", "gateway_txn", "paid_at", "receipt_number", "refunded_at")
    }


def _event(payment: Payment, kind: str, **detail: Any) -> None:
    PaymentEvent.objects.create(payment=payment, kind=kind, detail=detail)


def _audit(
    actor: Actor | None,
    payment: Payment,
    before: dict[str, Any],
    *,
    action: str,
    reason: str = "",
) -> None:
    record_change(
        actor,
        action=action,
        obj=payment,
        changes=diff(before, _values(payment)),
        person_id=payment.payer_person_id,
        reason=reason,
    )


def _new_reference(now: dt.datetime) -> str:
    """``TT`` + local date (yymmdd) + the day's running number + two random letters,
    e.g. ``TT2611210001AB``. The letters make a guessed or mistyped reference unlikely
    to name another payment."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    serial = Payment.objects.filter(created_at__gte=start).count() + 1
    letters = "".join(secrets.choice(REFERENCE_LETTERS) for _ in range(2))
    return f"TT{local:%y%m%d}{serial % 10000:04d}{letters}"


def _next_receipt_number(when: dt.datetime) -> str:
    """Receipt numbers run without gaps within a (local) year: ``BL-2026-000001``."""
    year = timezone.localtime(when).year
    ReceiptSequence.objects.get_or_create(year=year)
    sequence = ReceiptSequence.objects.select_for_update().get(pk=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"BL-{year}-{sequence.last:06d}"


def _return_url() -> str:
    return f"{settings.CONGDAN_PUBLIC_URL}{reverse('payments:return')}"


def _check_start_input(
    *, purpose: str, purpose_ref: str, amount: int, description: str, return_path: str
) -> None:
    if not purpose or not purpose_ref:
        raise ValidationFailed(_("Thiếu đối tượng thanh toán."), code="purpose")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed(
            _("Số tiền phải là số nguyên đồng lớn hơn 0."), code="amount", field="amount"
        )
    if not description.strip():
        raise ValidationFailed(
            _("Thiếu nội dung thanh toán."), code="description", field="description"
        )
    try:
        validate_local_path(return_path)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="return_path", field="return_path") from exc


def _mark_paid(payment: Payment, status: GatewayStatus, *, now: dt.datetime, source: str) -> None:
    """Inside the caller's transaction, with the payment locked."""
    before = _values(payment)
    late = payment.status != PaymentStatus.PENDING
    payment.status = PaymentStatus.PAID
    payment.paid_at = status.paid_at or now
    payment.gateway_txn = status.gateway_txn or payment.gateway_txn
    payment.receipt_number = _next_receipt_number(payment.paid_at)
    payment.save(update_fields=["status", "paid_at", "gateway_txn", "receipt_number"])
    _event(
        payment,
        PaymentEventKind.PAID,
        source=source,
        gateway_txn=payment.gateway_txn,
        response_code=status.response_code,
        receipt_number=payment.receipt_number,
        late=late,
    )
    _audit(None, payment, before, action="payment.paid")
    # Synchronous and inside the transaction: a receiver's failure rolls this back.
    signals.payment_paid.send(sender=Payment, payment=payment)


def _settle(payment_id: int, status: GatewayStatus, *, source: str) -> Payment:
    """Apply what the gateway's status query said. Paid is final: a paid (or refunded)
    payment is returned untouched, so a replayed callback changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            return payment
        if status.state == "paid":
            if status.amount != payment.amount:
                _event(
                    payment,
                    PaymentEventKind.MISMATCH,
                    source=source,
                    expected=payment.amount,
                    gateway_amount=status.amount,
                )
                logger.warning("payment %s: gateway amount differs", payment.reference)
                return payment
            _mark_paid(payment, status, now=now, source=source)
            return payment
        closed = CLOSED_STATE.get(status.state)
        if closed is None or payment.status != PaymentStatus.PENDING:
            return payment  # still pending at the gateway, or already closed
        before = _values(payment)
        payment.status = closed
        payment.save(update_fields=["status"])
        _event(payment, EVENT_OF_STATUS[closed], source=source, response_code=status.response_code)
        _audit(None, payment, before, action=f"payment.{closed}")
        transaction.on_commit(lambda: signals.payment_failed.send(sender=Payment, payment=payment))
    return payment


def _query(gateway: PaymentGateway, payment: Payment) -> GatewayStatus:
    try:
        return gateway.query(payment)
    except GatewayUnavailable:
        raise
    except Exception as exc:  # a gateway's network error: not the payer's fault
        logger.exception("payment %s: status query failed", payment.reference)
        raise GatewayUnavailable(
            _("Chưa liên lạc được với cổng thanh toán; vui lòng thử lại sau ít phút.")
        ) from exc


# --- services -------------------------------------------------------------------------


def start_payment(
    actor: Actor,
    *,
    purpose: str,
    purpose_ref: str,
    payer_person: Person | None,
    amount: int,
    description: str,
    return_path: str,
) -> Payment:
    """Open the payment of ``purpose_ref`` for the logged-in payer, who is then sent to
    ``payment.gateway_url``.

    Idempotent: a pending, unexpired payment of the same thing by the same payer for the
    same amount is returned again (no second charge). Refused (Conflict) when the thing
    is already paid, or when someone else's payment of it is under way.
    """
    if not isinstance(actor, User) or not actor.is_active:
        raise PermissionDenied(_("Bạn cần đăng nhập để thanh toán."), code="login_required")
    _check_start_input(
        purpose=purpose,
        purpose_ref=purpose_ref,
        amount=amount,
        description=description,
        return_path=return_path,
    )
    gateway = get_gateway()
    for attempt in range(START_ATTEMPTS):
        try:
            with transaction.atomic():
                return _start_once(
                    actor,
                    gateway,
                    purpose=purpose,
                    purpose_ref=purpose_ref,
                    payer_person=payer_person,
                    amount=amount,
                    description=description.strip(),
                    return_path=return_path,
                )
        except IntegrityError:
            # Another request opened the payment (or took the reference) meanwhile.
            if attempt == START_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _start_once(
    actor: User,
    gateway: PaymentGateway,
    *,
    purpose: str,
    purpose_ref: str,
    payer_person: Person | None,
    amount: int,
    description: str,
    return_path: str,
) -> Payment:
    now = timezone.now()
    open_ones = list(
        Payment.objects.select_for_update()
        .filter(
            purpose=purpose,
            purpose_ref=purpose_ref,
            status__in=[PaymentStatus.PENDING, PaymentStatus.PAID],
        )
        .order_by("created_at")
    )
    if any(p.status == PaymentStatus.PAID for p in open_ones):
        raise Conflict(_("Khoản này đã được thanh toán."), code="already_paid")
    pending = next((p for p in open_ones if p.status == PaymentStatus.PENDING), None)
    if pending is not None and pending.expires_at > now:
        if pending.payer_user_id == actor.pk and pending.amount == amount:
            _event(pending, PaymentEventKind.REUSED)
            return pending
        raise Conflict(
            _(
                "Một yêu cầu thanh toán khác cho khoản này đang chờ đến %(until)s; "
                "vui lòng thử lại sau thời điểm đó."
            )
            % {"until": timezone.localtime(pending.expires_at).strftime("%H:%M %d/%m/%Y")},
            code="payment_in_progress",
        )
    if pending is not None:  # past its time: close it now, as payments_expire would
        before = _values(pending)
        pending.status = PaymentStatus.EXPIRED
        pending.save(update_fields=["status"])
        _event(pending, PaymentEventKind.EXPIRED, source="start")
        _audit(None, pending, before, action="payment.expired")
        transaction.on_commit(lambda: signals.payment_failed.send(sender=Payment, payment=pending))
    ttl = dt.timedelta(minutes=settings.CONGDAN_PAYMENT_TTL_MINUTES)
    payment = Payment.objects.create(
        reference=_new_reference(now),
        purpose=purpose,
        purpose_ref=purpose_ref,
        payer_user=actor,
        payer_person=payer_person,
        amount=amount,
        description=description[:255],
        gateway=gateway.name,
        created_at=now,
        expires_at=now + ttl,
        return_path=return_path,
    )
    payment.gateway_url = gateway.start(payment, return_url=_return_url())
    payment.save(update_fields=["gateway_url"])
    _event(payment, PaymentEventKind.CREATED, amount=amount, gateway=gateway.name)
    _audit(actor, payment, {}, action="payment.start")
    return payment


def complete_payment(params: Mapping[str, str]) -> Payment:
    """Handle a gateway callback (the browser's return or the IPN).

    Verifies the signature (``InvalidSignature``: nothing changes), then asks the gateway
    for the transaction's state and applies *that*. Marking paid allocates the receipt
    number and sends ``payment_paid`` inside the transaction. A second call for a paid
    payment changes nothing and returns it.
    """
    gateway = get_gateway()
    claim = gateway.verify_callback(params)
    payment = Payment.objects.filter(reference=claim.reference, gateway=gateway.name).first()
    if payment is None:
        raise NotFound(_("Không tìm thấy khoản thanh toán."), code="payment_not_found")
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return payment
    if claim.amount != payment.amount:
        _event(
            payment,
            PaymentEventKind.MISMATCH,
            source="callback",
            expected=payment.amount,
            claimed=claim.amount,
        )
        raise ValidationFailed(
            _("Số tiền cổng thanh toán báo không khớp với khoản cần thanh toán."),
            code="amount_mismatch",
        )
    _event(
        payment,
        PaymentEventKind.CALLBACK,
        state=claim.state,
        response_code=claim.response_code,
        gateway_txn=claim.gateway_txn,
    )
    return _settle(payment.pk, _query(gateway, payment), source="callback")


@requires(Perm.PAYMENT_REFUND)
def refund_payment(actor: Actor, *, reference: str, reason: str) -> Payment:
    """Return a paid payment's money through the gateway (the whole amount).

    The caller (the procedures app) decides whether the officer may act on the thing
    paid for; this checks the permission, the state and the reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Hãy nêu lý do hoàn tiền."), code="reason", field="reason")
    gateway = get_gateway()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(reference=reference).first()
        if payment is None:
            raise NotFound(_("Không tìm thấy khoản thanh toán."), code="payment_not_found")
        if payment.status != PaymentStatus.PAID:
            raise Conflict(
                _("Chỉ hoàn tiền được khoản đã thanh toán (trạng thái hiện tại: %(status)s).")
                % {"status": payment.get_status_display()},
                code="not_paid",
            )
        if payment.gateway != gateway.name:
            raise Conflict(
                _("Khoản này được thanh toán qua cổng khác; hãy hoàn tiền tại cổng đó."),
                code="other_gateway",
            )
        result = gateway.refund(payment, payment.amount)
        if not result.ok:
            raise GatewayUnavailable(
                _("Cổng thanh toán từ chối hoàn tiền: %(message)s")
                % {"message": result.message or "-"}
            )
        before = _values(payment)
        payment.status = PaymentStatus.REFUNDED
        payment.refunded_at = timezone.now()
        payment.refund_reason = reason[:400]
        payment.save(update_fields=["status", "refunded_at", "refund_reason"])
        _event(
            payment,
            PaymentEventKind.REFUNDED,
            amount=payment.amount,
            gateway_ref=result.gateway_ref,
            by=actor.get_username(),
        )
        _audit(actor, payment, before, action="payment.refund", reason=reason)
        transaction.on_commit(
            lambda: signals.payment_refunded.send(sender=Payment, payment=payment, actor=actor)
        )
    return payment


def expire_payments(now: dt.datetime | None = None) -> int:
    """Close pending payments past their ``expires_at``. Each is first checked with the
    gateway: one the bank says was paid is marked paid, not expired (reconciliation).
    Returns the number of payments closed unpaid (expired, or failed / cancelled as the
    gateway reports)."""
    now = now or timezone.now()
    gateway = get_gateway()
    overdue = list(
        Payment.objects.filter(
            status=PaymentStatus.PENDING, expires_at__lte=now, gateway=gateway.name
        ).order_by("expires_at")[:EXPIRE_BATCH]
    )
    closed = 0
    for payment in overdue:
        try:
            status = _query(gateway, payment)
        except GatewayUnavailable:
            continue  # tried again on the next run
        if status.state == "pending":
            status = GatewayStatus(
                state="expired", amount=payment.amount, response_code=status.response_code
            )
        try:
            settled = _settle(payment.pk, status, source="expiry")
        except Exception:  # a payment_paid receiver failed: leave it pending, go on
            logger.exception("payment %s: settling at expiry failed", payment.reference)
            continue
        if settled.status in (
            PaymentStatus.EXPIRED,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELLED,
        ):
            closed += 1
    return closed

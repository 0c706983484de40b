"""The built-in sandbox gateway: a pretend bank that behaves like VNPay / Napas.

It keeps its own ledger (``SandboxTransaction``: the bank side), shows its payment page
at ``/payments/sandbox/<txn>/`` where the payer pays with a test card or cancels, then
sends the browser back to our return URL with parameters signed by HMAC-SHA256 (key:
``CONGDAN_PAYMENT_SANDBOX_KEY``), and notifies us server to server (the IPN) the way a
real gateway would. Transactions expire at the payment's ``expires_at``.

Settings allow it only with DEBUG or CONGDAN_DEMO on: it moves no money.

Response codes (as VNPay's): ``00`` success, ``24`` cancelled by the payer, ``51``
declined (insufficient funds), ``11`` expired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import DomainError, NotFound, ValidationFailed
from congdan.payments.errors import InvalidSignature
from congdan.payments.gateways.base import (
    CallbackResult,
    GatewayState,
    GatewayStatus,
    RefundResult,
)
from congdan.payments.models import SandboxStatus, SandboxTransaction

if TYPE_CHECKING:
    from congdan.payments.models import Payment

logger = logging.getLogger(__name__)

CODE_SUCCESS = "00"
CODE_EXPIRED = "11"
CODE_CANCELLED = "24"
CODE_DECLINED = "51"
SIGNATURE = "signature"
REQUIRED = ("txn", "reference", "amount", "code")
STATE_OF_CODE: dict[str, GatewayState] = {
    CODE_SUCCESS: "paid",
    CODE_CANCELLED: "cancelled",
    CODE_EXPIRED: "expired",
}
STATE_OF_STATUS: dict[str, GatewayState] = {
    SandboxStatus.PENDING: "pending",
    SandboxStatus.PAID: "paid",
    SandboxStatus.FAILED: "failed",
    SandboxStatus.CANCELLED: "cancelled",
    SandboxStatus.EXPIRED: "expired",
    SandboxStatus.REFUNDED: "refunded",
}


@dataclass(frozen=True)
class SandboxCard:
    number: str
    label: Promise  # translated when shown
    code: str  # the response code paying with it gives


TEST_CARDS = (
    SandboxCard("9704000000000018", _("Thẻ thử nghiệm: thanh toán thành công"), CODE_SUCCESS),
    SandboxCard(
        "9704000000000026", _("Thẻ thử nghiệm: không đủ số dư (bị từ chối)"), CODE_DECLINED
    ),
)


def card_by_number(number: str) -> SandboxCard | None:
    return next((card for card in TEST_CARDS if card.number == number), None)


# --- signatures -----------------------------------------------------------------------


KEY_LABEL = "congdan.payments.sandbox"


def _key() -> bytes:
    configured = str(settings.CONGDAN_PAYMENT_SANDBOX_KEY)
    if configured:
        return configured.encode()
    return salted_hmac(KEY_LABEL, "callback-key", algorithm="sha256").hexdigest().encode()


def canonical(params: Mapping[str, str]) -> str:
    """The signed text: every parameter but the signature, sorted by name, URL-encoded."""
    return urlencode(sorted((k, v) for k, v in params.items() if k != SIGNATURE))


def sign(params: Mapping[str, str]) -> str:
    return hmac.new(_key(), canonical(params).encode(), hashlib.sha256).hexdigest()


def signed(params: Mapping[str, str]) -> dict[str, str]:
    return {**params, SIGNATURE: sign(params)}


# --- the bank side ----------------------------------------------------------------------


def _expire_if_due(txn: SandboxTransaction, now: dt.datetime | None = None) -> None:
    if txn.status == SandboxStatus.PENDING and txn.expires_at <= (now or timezone.now()):
        txn.status = SandboxStatus.EXPIRED
        txn.response_code = CODE_EXPIRED
        txn.save(update_fields=["status", "response_code"])


def transaction_for_page(txn_id: str) -> SandboxTransaction:
    """The transaction the bank page shows (expired on the way if due)."""
    txn = SandboxTransaction.objects.filter(txn=txn_id).first()
    if txn is None:
        raise NotFound(_("Không tìm thấy giao dịch."), code="txn_not_found")
    _expire_if_due(txn)
    return txn


def result_params(txn: SandboxTransaction) -> dict[str, str]:
    """The signed parameters the bank sends back (browser return and IPN alike)."""
    return signed(
        {
            "txn": txn.txn,
            "reference": txn.reference,
            "amount": str(txn.amount),
            "code": txn.response_code or CODE_EXPIRED,
            "bank_time": timezone.now().strftime("%Y%m%d%H%M%S"),
        }
    )


def return_redirect(txn: SandboxTransaction) -> str:
    """The URL the bank sends the browser to once the payer acted (or the txn expired)."""
    return f"{txn.return_url}?{urlencode(result_params(txn))}"


def bank_act(txn_id: str, *, action: str, card_number: str = "") -> str:
    """The payer pays (``action="pay"``, with a test card) or cancels on the bank page.

    Returns the URL to send the browser back to. A transaction already settled is not
    touched again: the same result is sent back (a double click is harmless).
    """
    with transaction.atomic():
        txn = SandboxTransaction.objects.select_for_update().filter(txn=txn_id).first()
        if txn is None:
            raise NotFound(_("Không tìm thấy giao dịch."), code="txn_not_found")
        _expire_if_due(txn)
        if txn.status == SandboxStatus.PENDING:
            if action == "cancel":
                txn.status, txn.response_code = SandboxStatus.CANCELLED, CODE_CANCELLED
            elif action == "pay":
                card = card_by_number(card_number)
                if card is None:
                    raise ValidationFailed(
                        _("Hãy chọn một thẻ thử nghiệm."), code="card", field="card"
                    )
                txn.card_last4 = card.number[-4:]
                txn.response_code = card.code
                if card.code == CODE_SUCCESS:
                    txn.status, txn.paid_at = SandboxStatus.PAID, timezone.now()
                else:
                    txn.status = SandboxStatus.FAILED
            else:
                raise ValidationFailed(_("Thao tác không hợp lệ."), code="action")
            txn.save()
            if settings.CONGDAN_PAYMENT_SANDBOX_IPN:
                params = result_params(txn)
                transaction.on_commit(lambda: deliver_ipn(params), robust=True)
        return return_redirect(txn)


def deliver_ipn(params: Mapping[str, str]) -> None:
    """The bank's server-to-server notification. In the sandbox the bank lives in this
    process, so it calls the IPN handler directly instead of POSTing to itself (which a
    single-worker server could not answer while busy with the bank page)."""
    from congdan.payments.services import complete_payment  # noqa: PLC0415 -- services imports this module: a call-time import breaks the cycle

    try:
        complete_payment(params)
    except DomainError as exc:
        logger.warning("sandbox IPN refused: %s", exc.code)


# --- the gateway ----------------------------------------------------------------------


class SandboxGateway:
    name = "sandbox"

    def start(self, payment: Payment, *, return_url: str) -> str:
        txn = SandboxTransaction.objects.create(
            txn=secrets.token_hex(10),
            reference=payment.reference,
            amount=payment.amount,
            description=payment.description[:255],
            return_url=return_url,
            expires_at=payment.expires_at,
        )
        return reverse("payments:sandbox_bank", args=[txn.txn])

    def verify_callback(self, params: Mapping[str, str]) -> CallbackResult:
        given = params.get(SIGNATURE, "")
        if any(not params.get(name) for name in REQUIRED) or not hmac.compare_digest(
            str(given), sign(params)
        ):
            raise InvalidSignature(
                _(
                    "Chữ ký của cổng thanh toán không hợp lệ: kết quả này không được ghi "
                    "nhận. Nếu bạn đã thanh toán, hệ thống sẽ tự đối soát với ngân hàng."
                ),
            )
        try:
            amount = int(params["amount"])
        except ValueError as exc:
            raise ValidationFailed(_("Số tiền không hợp lệ."), code="amount") from exc
        return CallbackResult(
            reference=params["reference"],
            gateway_txn=params["txn"],
            state=STATE_OF_CODE.get(params["code"], "failed"),
            amount=amount,
            response_code=params["code"],
        )

    def query(self, payment: Payment) -> GatewayStatus:
        txn = (
            SandboxTransaction.objects.filter(reference=payment.reference)
            .order_by("-created_at", "-id")
            .first()
        )
        if txn is None:
            return GatewayStatus(state="pending", amount=0)
        _expire_if_due(txn)
        return GatewayStatus(
            state=STATE_OF_STATUS[txn.status],
            amount=txn.amount,
            gateway_txn=txn.txn,
            paid_at=txn.paid_at,
            response_code=txn.response_code,
        )

    def refund(self, payment: Payment, amount: int) -> RefundResult:
        txn = (
            SandboxTransaction.objects.select_for_update()
            .filter(reference=payment.reference, status=SandboxStatus.PAID)
            .first()
        )
        if txn is None or amount <= 0 or txn.refunded_amount + amount > txn.amount:
            return RefundResult(ok=False, message="no paid transaction to refund")
        txn.refunded_amount += amount
        if txn.refunded_amount == txn.amount:
            txn.status = SandboxStatus.REFUNDED
        txn.save(update_fields=["refunded_amount", "status"])
        return RefundResult(ok=True, gateway_ref=f"RF{txn.txn}")

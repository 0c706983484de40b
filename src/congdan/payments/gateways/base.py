"""The interface between congdan and a payment gateway (VNPay, Napas, a bank …).

A gateway is an external border. congdan calls it in four places:

* ``start(payment, *, return_url)``: open a transaction at the gateway for the payment and
  return the URL the payer's browser is sent to (the gateway's payment page). The
  gateway later sends the browser to ``return_url`` with signed parameters.
* ``verify_callback(params)``: check the signature of the parameters the gateway sent
  (browser return or server-to-server IPN) and read them. Raises
  ``payments.errors.InvalidSignature`` when the signature does not verify.
* ``query(payment)``: ask the gateway, server to server, for the transaction's state. A
  payment is marked paid only when the query says so: a redirect alone is never trusted.
* ``refund(payment, amount)``: return money to the payer.

Amounts are integer đồng. ``GatewayState`` values are the gateway's own view of the
transaction, mapped to ours by ``services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from congdan.payments.models import Payment

GatewayState = Literal["pending", "paid", "failed", "cancelled", "expired", "refunded"]


@dataclass(frozen=True)
class CallbackResult:
    """What a verified callback says (a claim, confirmed by ``query`` before use)."""

    reference: str  # our Payment.reference
    gateway_txn: str
    state: GatewayState
    amount: int
    response_code: str = ""


@dataclass(frozen=True)
class GatewayStatus:
    """The gateway's answer to a status query: the truth about the transaction."""

    state: GatewayState
    amount: int
    gateway_txn: str = ""
    paid_at: dt.datetime | None = None
    response_code: str = ""


@dataclass(frozen=True)
class RefundResult:
    ok: bool
    gateway_ref: str = ""
    message: str = ""


class PaymentGateway(Protocol):
    # Short name: stored on each Payment; the IPN endpoint is /payments/ipn/<name>/.
    name: str

    def start(self, payment: Payment, *, return_url: str) -> str: ...

    def verify_callback(self, params: Mapping[str, str]) -> CallbackResult: ...

    def query(self, payment: Payment) -> GatewayStatus: ...

    def refund(self, payment: Payment, amount: int) -> RefundResult: ...

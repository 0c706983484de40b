"""The payer's journey through the sandbox with the test client, the IPN endpoint, the
receipt and who may see it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from congdan.core.models import User
from congdan.payments.gateways import sandbox
from congdan.payments.gateways.base import CallbackResult, GatewayStatus, RefundResult
from congdan.payments.models import Payment, PaymentEvent, PaymentStatus, SandboxTransaction
from tests.payments.conftest import (
    DECLINED_CARD,
    OK_CARD,
    RETURN_PATH,
    bank_result,
    query_of,
)

Start = Callable[..., Payment]
IPN_URL = "/payments/ipn/sandbox/"


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the round trip -----------------------------------------------------------------------


def test_full_round_trip(start: Start, payer_client: Client) -> None:
    payment = start()
    bank = payer_client.get(payment.gateway_url)
    assert bank.status_code == 200
    page = bank.content.decode()
    assert "1.000.000 ₫" in page
    assert payment.reference in page
    assert "Thanh toán" in page
    assert "Hủy" in page

    back = bank_result(payer_client, payment)
    assert urlsplit(back).path == "/payments/return/"
    params = query_of(back)
    assert params["code"] == "00"
    assert "signature" in params

    response = payer_client.get(local_path(back))
    assert response.status_code == 302
    assert response["Location"] == RETURN_PATH
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.receipt_number
    assert any(payment.receipt_number in m for m in messages_of(response))

    receipt = payer_client.get(reverse("payments:receipt", args=[payment.reference]))
    assert receipt.status_code == 200
    text = receipt.content.decode()
    assert "1.000.000 ₫" in text
    assert payment.receipt_number in text
    assert "Lệ phí cấp bản sao trích lục khai sinh" in text
    assert "HS-2026-000001" in text
    assert payment.paid_at is not None
    local = payment.paid_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert local.strftime("%H:%M:%S %d/%m/%Y") in text


def test_replaying_the_return_is_harmless(start: Start, payer_client: Client) -> None:
    payment = start()
    back = local_path(bank_result(payer_client, payment))
    first = payer_client.get(back)
    payment.refresh_from_db()
    receipt_number = payment.receipt_number
    second = payer_client.get(back)
    assert first.status_code == second.status_code == 302
    payment.refresh_from_db()
    assert payment.receipt_number == receipt_number
    assert PaymentEvent.objects.filter(payment=payment, kind="paid").count() == 1
    # The bank page of a settled transaction offers only the way back.
    page = payer_client.get(payment.gateway_url).content.decode()
    assert "Quay lại trang dịch vụ" in page
    assert 'value="pay"' not in page


def test_a_tampered_return_is_refused(start: Start, payer_client: Client) -> None:
    payment = start()
    params = query_of(bank_result(payer_client, payment, action="cancel"))
    params["code"] = "00"  # the payer cancelled but claims to have paid
    response = payer_client.get(f"/payments/return/?{urlencode(params)}")
    assert response.status_code == 400
    assert "Chữ ký của cổng thanh toán không hợp lệ" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert list(payment.events.values_list("kind", flat=True)) == ["created"]


def test_a_return_without_parameters_is_refused(payer_client: Client) -> None:
    assert payer_client.get("/payments/return/").status_code == 400


@pytest.mark.parametrize(
    "case",
    [
        ("pay", DECLINED_CARD, PaymentStatus.FAILED, "không thành công"),
        ("cancel", "", PaymentStatus.CANCELLED, "đã hủy"),
    ],
)
def test_declined_or_cancelled(
    start: Start, payer_client: Client, case: tuple[str, str, str, str]
) -> None:
    action, card, status, message = case
    payment = start()
    back = bank_result(payer_client, payment, action=action, card=card)
    response = payer_client.get(local_path(back))
    assert response.status_code == 302
    assert response["Location"] == RETURN_PATH
    payment.refresh_from_db()
    assert payment.status == status
    assert payment.receipt_number is None
    assert any(message in m for m in messages_of(response))
    assert (
        payer_client.get(reverse("payments:receipt", args=[payment.reference])).status_code == 404
    )


def test_the_bank_page_asks_for_a_card(start: Start, payer_client: Client) -> None:
    payment = start()
    response = payer_client.post(payment.gateway_url, {"action": "pay", "card": "1234"})
    assert response.status_code == 200
    assert "field-errors" in response.content.decode()
    assert SandboxTransaction.objects.get(reference=payment.reference).status == "pending"


def test_an_expired_transaction_cannot_be_paid(start: Start, payer_client: Client) -> None:
    payment = start()
    SandboxTransaction.objects.filter(reference=payment.reference).update(
        expires_at=payment.created_at
    )
    page = payer_client.get(payment.gateway_url)
    assert "Quay lại trang dịch vụ" in page.content.decode()
    back = bank_result(payer_client, payment)
    response = payer_client.get(local_path(back))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    assert any("hết hạn" in m for m in messages_of(response))


def test_unknown_bank_transaction_is_404(client: Client, db: None) -> None:
    assert client.get("/payments/sandbox/nope/").status_code == 404


# --- IPN -------------------------------------------------------------------------------


def test_ipn(start: Start) -> None:
    payment = start()
    params = query_of(sandbox.bank_act(_txn(payment), action="pay", card_number=OK_CARD))
    client = Client(enforce_csrf_checks=True)  # the bank has no CSRF token
    response = client.post(IPN_URL, params)
    assert response.status_code == 200
    body = json.loads(response.content)
    assert set(body) == {"code", "message"}
    assert body["code"] == "ok"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    again = client.post(IPN_URL, params)
    assert json.loads(again.content)["code"] == "ok"
    assert PaymentEvent.objects.filter(payment=payment, kind="paid").count() == 1


def test_ipn_refuses_a_bad_signature(start: Start) -> None:
    payment = start()
    params = query_of(sandbox.bank_act(_txn(payment), action="pay", card_number=OK_CARD))
    params["amount"] = "1"
    response = Client().post(IPN_URL, params)
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "invalid_signature"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_ipn_only_by_post_and_for_the_gateway_in_use(start: Start) -> None:
    start()
    assert Client().get(IPN_URL).status_code == 405
    assert Client().post("/payments/ipn/othergateway/", {}).status_code == 404


def _txn(payment: Payment) -> str:
    return SandboxTransaction.objects.get(reference=payment.reference).txn


# --- receipts and the payer's list: who may see them ---------------------------------------


def test_another_user_cannot_see_a_receipt(
    start: Start, other_payer: User, world: Any, payer_client: Client
) -> None:
    payment = start()
    payer_client.get(local_path(bank_result(payer_client, payment)))
    url = reverse("payments:receipt", args=[payment.reference])
    assert payer_client.get(url).status_code == 200
    for user in (other_payer, world.commune_officer, world.admin):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert "next=" in anonymous["Location"]


def test_my_payments_lists_only_mine(start: Start, payer_client: Client, other_payer: User) -> None:
    mine = start()
    theirs = start(actor=other_payer, purpose_ref="HS-OTHER")
    page = payer_client.get(reverse("payments:mine")).content.decode()
    assert mine.reference in page
    assert mine.gateway_url in page  # pending: a link to pay
    assert theirs.reference not in page
    assert Client().get(reverse("payments:mine")).status_code == 302


def test_pages_in_english(start: Start, payer_client: Client) -> None:
    payment = start()
    response = payer_client.get(payment.gateway_url, headers={"accept-language": "en"})
    assert response.status_code == 200
    assert "1.000.000 ₫" in response.content.decode()


# --- another gateway plugged in ------------------------------------------------------------


class FakeGateway:
    """A stand-in for a real gateway: everything it is asked is recorded."""

    name = "fakebank"
    state: Any = "paid"

    def start(self, payment: Payment, *, return_url: str) -> str:
        return f"https://bank.example/pay?ref={payment.reference}"

    def verify_callback(self, params: Any) -> CallbackResult:
        return CallbackResult(
            reference=params["ref"], gateway_txn="F1", state="paid", amount=int(params["amount"])
        )

    def query(self, payment: Payment) -> GatewayStatus:
        return GatewayStatus(state=self.state, amount=payment.amount, gateway_txn="F1")

    def refund(self, payment: Payment, amount: int) -> RefundResult:
        return RefundResult(ok=True, gateway_ref="R1")


def test_a_plugged_in_gateway(start: Start, settings: Any, payer_client: Client) -> None:
    settings.CONGDAN_PAYMENT_GATEWAY = "tests.payments.test_views.FakeGateway"
    payment = start()
    assert payment.gateway == "fakebank"
    assert payment.gateway_url.startswith("https://bank.example/pay")
    # The sandbox bank page does not exist with another gateway.
    assert payer_client.get("/payments/sandbox/abc/").status_code == 404
    response = Client().post(
        "/payments/ipn/fakebank/", {"ref": payment.reference, "amount": payment.amount}
    )
    assert json.loads(response.content)["code"] == "ok"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.gateway_txn == "F1"


# --- admin: read-only ---------------------------------------------------------------------


def test_admin_is_read_only(start: Start, world: Any, payer_client: Client) -> None:
    payment = start()
    payer_client.get(local_path(bank_result(payer_client, payment)))
    client = Client()
    client.force_login(world.admin)
    changelist = client.get("/admin/payments/payment/")
    assert changelist.status_code == 200
    assert payment.reference in changelist.content.decode()
    change = client.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert change.status_code == 200
    assert world.person.full_name not in change.content.decode()  # no payer identity here
    assert client.get("/admin/payments/payment/add/").status_code == 403
    assert client.get("/admin/payments/sandboxtransaction/").status_code == 200
    officer = Client()
    officer.force_login(world.commune_officer)
    assert officer.get("/admin/payments/payment/").status_code in (302, 403)

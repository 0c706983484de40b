"""Pages and endpoints of the payments app.

* ``/payments/`` — the logged-in payer's payments (pay a pending one, open a receipt).
* ``/payments/<reference>/receipt/`` — the receipt, for the payer only (404 otherwise).
* ``/payments/return/`` — where the gateway sends the browser back: the signed result is
  verified and confirmed with the gateway (``services.complete_payment``), then the payer
  is sent on to the payment's ``return_path`` with a message.
* ``/payments/ipn/<gateway>/`` — the gateway's server-to-server notification (POST,
  signed, no CSRF token): JSON ``{"code", "message"}``.
* ``/payments/sandbox/<txn>/`` — the sandbox gateway's bank page (sandbox only).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.core.errors import DomainError, NotFound
from congdan.core.web import add_domain_error
from congdan.payments import selectors, services
from congdan.payments.fees import format_dong
from congdan.payments.forms import SandboxPayForm
from congdan.payments.gateways import get_gateway
from congdan.payments.gateways import sandbox as sandbox_gateway
from congdan.payments.models import Payment, PaymentStatus, SandboxStatus

PAGE_SIZE = 20


def _return_message(request: HttpRequest, payment: Payment) -> None:
    amount = format_dong(payment.amount)
    if payment.status == PaymentStatus.PAID:
        messages.success(
            request,
            _("Đã thanh toán %(amount)s (mã %(reference)s). Số biên lai: %(receipt)s.")
            % {
                "amount": amount,
                "reference": payment.reference,
                "receipt": payment.receipt_number,
            },
        )
    elif payment.status == PaymentStatus.PENDING:
        messages.warning(
            request,
            _(
                "Chưa nhận được xác nhận thanh toán %(reference)s từ ngân hàng. Nếu tài "
                "khoản của bạn đã bị trừ tiền, hệ thống sẽ tự đối soát; đừng thanh toán lại."
            )
            % {"reference": payment.reference},
        )
    elif payment.status == PaymentStatus.CANCELLED:
        messages.info(
            request, _("Bạn đã hủy thanh toán %(reference)s.") % {"reference": payment.reference}
        )
    elif payment.status == PaymentStatus.EXPIRED:
        messages.error(
            request,
            _("Yêu cầu thanh toán %(reference)s đã hết hạn; hãy tạo yêu cầu mới.")
            % {"reference": payment.reference},
        )
    elif payment.status == PaymentStatus.REFUNDED:
        messages.info(
            request,
            _("Khoản thanh toán %(reference)s đã được hoàn tiền.")
            % {"reference": payment.reference},
        )
    else:
        messages.error(
            request,
            _("Thanh toán %(reference)s không thành công; bạn chưa bị trừ tiền.")
            % {"reference": payment.reference},
        )


@never_cache
@require_GET
def payment_return(request: HttpRequest) -> HttpResponse:
    try:
        payment = services.complete_payment(request.GET.dict())
    except DomainError as exc:
        return render(request, "portal/error.html", {"error": exc}, status=exc.status)
    _return_message(request, payment)
    target = payment.return_path
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):  # defence in depth
        target = "/"
    return HttpResponseRedirect(target)


@csrf_exempt
@never_cache
@require_POST
def ipn(request: HttpRequest, gateway: str) -> JsonResponse:
    if gateway != get_gateway().name:
        raise Http404
    try:
        payment = services.complete_payment(request.POST.dict())
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(
        {
            "code": "ok",
            "message": _("Đã ghi nhận: %(status)s.") % {"status": payment.get_status_display()},
        }
    )


@never_cache
@login_required
@require_GET
def my_payments(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.payments_of_user(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "payments/my_payments.html", {"page": page, "now": timezone.now()})


@never_cache
@login_required
@require_GET
def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        payment = selectors.get_receipt(request.user, reference)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    return render(request, "payments/receipt.html", {"payment": payment})


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_bank(request: HttpRequest, txn: str) -> HttpResponse:
    if not isinstance(get_gateway(), sandbox_gateway.SandboxGateway):
        raise Http404
    try:
        bank_txn = sandbox_gateway.transaction_for_page(txn)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    form = SandboxPayForm(request.POST or None)
    if request.method == "POST" and bank_txn.status == SandboxStatus.PENDING:
        action = request.POST.get("action", "")
        if action == "cancel" or form.is_valid():
            card = form.cleaned_data.get("card", "") if action == "pay" else ""
            try:
                return redirect(sandbox_gateway.bank_act(txn, action=action, card_number=card))
            except DomainError as exc:
                add_domain_error(form, exc)
    back_url = (
        sandbox_gateway.return_redirect(bank_txn)
        if bank_txn.status != SandboxStatus.PENDING
        else ""
    )
    if request.method == "POST" and back_url:  # settled already (a double click): go back
        return redirect(back_url)
    return render(
        request,
        "payments/sandbox_bank.html",
        {"txn": bank_txn, "form": form, "back_url": back_url},
    )

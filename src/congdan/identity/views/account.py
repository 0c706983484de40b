"""Citizen account pages: registration, login with a second factor, password reset,
my identity, report an error, security (sessions, history, TOTP, password, lock).

Views parse, call ``identity.services.accounts``, render. The steps of a multi-page flow
keep their state in the server-side session (never in the page): ``eid_register`` (the
pending account), ``eid_login_pending`` (who passed the password step, when, and how
many wrong codes), ``eid_reset`` (the ID number a reset code was asked for).
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.sessions.models import Session
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from congdan.core.web import add_domain_error, submit_form
from congdan.identity.decorators import citizen_required
from congdan.identity.forms.account import (
    MAX_REGISTER_BODY,
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    RegisterForm,
    ReportErrorForm,
    ResetCompleteForm,
    ResetStartForm,
    TotpConfirmForm,
    TotpRemoveForm,
)
from congdan.identity.lockout import ip_blocked, lockout_response
from congdan.identity.models import CorrectionRequest, EidAccount, EidLevel, LoginEvent, UserSession
from congdan.identity.portraits import portrait_response
from congdan.identity.services import accounts as svc

REGISTER_KEY = "eid_register"
LOGIN_KEY = "eid_login_pending"
RESET_KEY = "eid_reset"
LOGIN_STEP_TTL = 10 * 60  # seconds between the password and the second factor
DEFAULT_NEXT = "/me/login/"
HISTORY_SIZE = 50


def _account(request: HttpRequest) -> EidAccount:
    account: EidAccount = request.eid_account  # type: ignore[attr-defined]  # set by citizen_required
    return account


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return DEFAULT_NEXT


# --- registration ---------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm()
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_REGISTER_BODY:
            form = RegisterForm(data={})
            form.errors.clear()
            form.add_error(None, _("Tệp tải lên quá lớn: ảnh chân dung tối đa 2 MB."))
            return render(request, "identity/account/register.html", {"form": form}, status=413)
        form = RegisterForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            birth_date, precision = data["birth_date"]
            registration = svc.Registration(
                id_number=data["id_number"],
                full_name=data["full_name"],
                birth_date=birth_date,
                birth_precision=precision,
                phone=data["phone"],
                email=data["email"],
                password=data["new_password1"],
                portrait_jpeg=data["portrait"],
            )
            account = submit_form(
                form,
                lambda: svc.start_registration(registration),
                {"password": "new_password1"},
            )
            if account is not None:
                request.session[REGISTER_KEY] = account.pk
                return redirect("identity:register_verify")
    return render(request, "identity/account/register.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def register_verify(request: HttpRequest) -> HttpResponse:
    account_id = request.session.get(REGISTER_KEY)
    if not account_id:
        return redirect("identity:register")
    form = CodeForm()
    if request.method == "POST":
        try:
            if "resend" in request.POST:
                svc.resend_registration_code(account_id)
                messages.info(request, _("Đã gửi mã xác thực mới."))
                return redirect("identity:register_verify")
            form = CodeForm(request.POST)
            if form.is_valid():
                svc.verify_registration(account_id, form.cleaned_data["code"])
                request.session.pop(REGISTER_KEY, None)
                messages.success(
                    request,
                    _("Tài khoản định danh điện tử mức độ 1 đã được kích hoạt. Mời bạn đăng nhập."),
                )
                return redirect("identity:login")
        except NotFound as exc:
            request.session.pop(REGISTER_KEY, None)
            messages.error(request, str(exc.message))
            return redirect("identity:register")
        except DomainError as exc:
            if "resend" in request.POST:
                messages.error(request, str(exc.message))
                return redirect("identity:register_verify")
            add_domain_error(form, exc)
    return render(request, "identity/account/register_verify.html", {"form": form})


# --- login ------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            try:
                account = svc.authenticate_password(
                    request, form.cleaned_data["username"], form.cleaned_data["password"]
                )
            except svc.LoginThrottledError:
                return lockout_response(request)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
                status = 400 if isinstance(exc, svc.LoginFailedError) else exc.status
            else:
                return _start_second_factor(request, account, next_url)
    return render(
        request, "identity/account/login.html", {"form": form, "next": next_url}, status=status
    )


def _start_second_factor(request: HttpRequest, account: EidAccount, next_url: str) -> HttpResponse:
    method = "totp" if svc.totp_device(account) is not None else "sms"
    if method == "sms":
        _send_login_code(request, account.pk, quiet=True)
    request.session[LOGIN_KEY] = {
        "aid": account.pk,
        "method": method,
        "bad": 0,
        "next": next_url,
        "t": time.time(),
    }
    return redirect("identity:login_verify")


def _send_login_code(request: HttpRequest, account_id: int, *, quiet: bool) -> None:
    try:
        svc.send_login_code(account_id)
    except Conflict as exc:
        # A code sent moments ago still works: a cooldown is told only when asked for.
        if not quiet or exc.code != "code_cooldown":
            messages.error(request, str(exc.message))
    else:
        if not quiet:
            messages.info(request, _("Đã gửi mã xác thực mới."))


def _pending_login(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(LOGIN_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("t", 0)) > LOGIN_STEP_TTL:
        request.session.pop(LOGIN_KEY, None)
        return None
    return pending


@never_cache
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    pending = _pending_login(request)
    if pending is None:
        messages.info(request, _("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."))
        return redirect("identity:login")
    if ip_blocked(request):
        return lockout_response(request)
    form = CodeForm()
    if request.method == "POST":
        if "use_sms" in request.POST or "resend" in request.POST:
            pending["method"] = "sms"
            request.session[LOGIN_KEY] = pending
            _send_login_code(request, pending["aid"], quiet=False)
            return redirect("identity:login_verify")
        form = CodeForm(request.POST)
        if form.is_valid():
            done = _check_code(request, pending, form)
            if done is not None:
                return done
    return render(
        request,
        "identity/account/login_verify.html",
        {"form": form, "method": pending["method"]},
    )


def _check_code(
    request: HttpRequest, pending: dict[str, Any], form: CodeForm
) -> HttpResponse | None:
    """The second factor: a redirect (logged in, or back to the password step after
    ``LOGIN_CODE_LIMIT`` wrong codes), or None with the error on the form."""
    try:
        account, device = svc.check_second_factor(
            request, pending["aid"], method=pending["method"], code=form.cleaned_data["code"]
        )
    except NotFound:
        request.session.pop(LOGIN_KEY, None)
        return redirect("identity:login")
    except ValidationFailed as exc:
        pending["bad"] = int(pending.get("bad", 0)) + 1
        if pending["bad"] >= svc.LOGIN_CODE_LIMIT:
            request.session.pop(LOGIN_KEY, None)
            messages.error(
                request, _("Bạn đã nhập sai mã quá nhiều lần. Vui lòng đăng nhập lại từ đầu.")
            )
            return redirect("identity:login")
        request.session[LOGIN_KEY] = pending
        add_domain_error(form, exc)
        return None
    request.session.pop(LOGIN_KEY, None)
    svc.complete_login(request, account, method=pending["method"], device=device)
    return redirect(pending.get("next") or DEFAULT_NEXT)


# --- password reset ---------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = ResetStartForm()
    if request.method == "POST":
        form = ResetStartForm(request.POST)
        if form.is_valid():
            svc.start_password_reset(form.cleaned_data["id_number"])
            request.session[RESET_KEY] = form.cleaned_data["id_number"]
            return redirect("identity:password_reset_verify")
    return render(request, "identity/account/password_reset.html", {"form": form})


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset_verify(request: HttpRequest) -> HttpResponse:
    id_number = request.session.get(RESET_KEY)
    if not id_number:
        return redirect("identity:password_reset")
    form = ResetCompleteForm()
    if request.method == "POST":
        if "resend" in request.POST:
            svc.start_password_reset(id_number)
            messages.info(
                request,
                _(
                    "Nếu số định danh có tài khoản, mã mới đã được gửi tới số điện thoại "
                    "đã đăng ký."
                ),
            )
            return redirect("identity:password_reset_verify")
        form = ResetCompleteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data

            def reset() -> bool:
                svc.complete_password_reset(id_number, data["code"], data["new_password1"])
                return True

            done = submit_form(form, reset)
            if done:
                request.session.pop(RESET_KEY, None)
                messages.success(
                    request, _("Đã đặt lại mật khẩu. Mời bạn đăng nhập bằng mật khẩu mới.")
                )
                return redirect("identity:login")
    return render(request, "identity/account/password_reset_verify.html", {"form": form})


# --- my identity and reports --------------------------------------------------------------


@never_cache
@require_GET
@citizen_required
def me(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    data = svc.my_identity(account)
    return render(
        request,
        "identity/account/me.html",
        {"account": account, "data": data, "can_upgrade": account.level == EidLevel.LEVEL1},
    )


@never_cache
@require_http_methods(["GET"])
@citizen_required
def my_portrait(request: HttpRequest) -> HttpResponseBase:
    """The citizen's own registered portrait (no public media URL exists)."""
    return portrait_response(_account(request))


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_required
def report_error(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = ReportErrorForm()
    if request.method == "POST":
        form = ReportErrorForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            report = submit_form(
                form,
                lambda: svc.report_error(account, data["wrong_fields"], data["message"]),
                {"fields": "wrong_fields"},
            )
            if report is not None:
                return redirect("identity:report_error_sent", pk=report.pk)
    return render(request, "identity/account/report_error.html", {"form": form})


@never_cache
@require_GET
@citizen_required
def report_error_sent(request: HttpRequest, pk: int) -> HttpResponse:
    report = CorrectionRequest.objects.filter(pk=pk, account=_account(request)).first()
    if report is None:
        raise Http404
    labels = [svc.REPORTABLE_FIELDS.get(name, name) for name in report.fields]
    return render(
        request, "identity/account/report_error_sent.html", {"report": report, "labels": labels}
    )


# --- security -----------------------------------------------------------------------------


@never_cache
@require_GET
@citizen_required
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request, ChangePasswordForm())


def _security_page(
    request: HttpRequest, password_form: ChangePasswordForm, status: int = 200
) -> HttpResponse:
    account = _account(request)
    live_keys = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    sessions = UserSession.objects.filter(
        user_id=account.user_id, ended_at__isnull=True, session_key__in=live_keys
    ).order_by("-last_seen_at")
    history = LoginEvent.objects.filter(account=account)[:HISTORY_SIZE]
    return render(
        request,
        "identity/account/security.html",
        {
            "account": account,
            "sessions": sessions,
            "current_key": request.session.session_key,
            "history": history,
            "totp": svc.totp_device(account),
            "password_form": password_form,
        },
        status=status,
    )


@never_cache
@sensitive_post_parameters("current_password", "new_password1", "new_password2")
@require_POST
@citizen_required
def change_password(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = ChangePasswordForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data

        def change() -> bool:
            svc.change_password(
                account,
                current=data["current_password"],
                new=data["new_password1"],
                keep_session_key=request.session.session_key,
            )
            return True

        done = submit_form(form, change)
        if done:
            account.user.refresh_from_db()
            update_session_auth_hash(request, account.user)
            messages.success(request, _("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc."))
            return redirect("identity:security")
    return _security_page(request, form, status=400)


@never_cache
@require_POST
@citizen_required
def revoke_session(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        svc.revoke_session(_account(request), pk)
    except NotFound as exc:
        raise Http404 from exc
    if (
        not request.user.is_authenticated
        or not UserSession.objects.filter(
            session_key=request.session.session_key or "", ended_at__isnull=True
        ).exists()
    ):
        # The citizen ended this very session.
        request.session.flush()
        return redirect("portal:home")
    messages.success(request, _("Đã kết thúc phiên đăng nhập."))
    return redirect("identity:security")


@never_cache
@require_POST
@citizen_required
def lock_account(request: HttpRequest) -> HttpResponse:
    try:
        svc.lock_own_account(_account(request))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("identity:security")
    request.session.flush()
    messages.success(
        request,
        _(
            "Tài khoản đã được khóa. Để mở khóa, hãy đặt lại mật khẩu bằng số điện thoại "
            "đã đăng ký."
        ),
    )
    return redirect("portal:home")


def _otpauth_url(account: EidAccount, key: bytes) -> tuple[str, str]:
    secret = base64.b32encode(key).decode().rstrip("=")
    issuer = settings.CONGDAN_SITE_NAME
    label = quote(f"{issuer}:{account.user.get_username()}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": 6, "period": 30})
    return f"otpauth://totp/{label}?{query}", secret


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
@citizen_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    confirm_form = TotpConfirmForm()
    remove_form = TotpRemoveForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "start":
                svc.start_totp_setup(account)
                return redirect("identity:totp_setup")
            if action == "confirm":
                confirm_form = TotpConfirmForm(request.POST)
                if confirm_form.is_valid():
                    svc.confirm_totp(account, confirm_form.cleaned_data["token"])
                    messages.success(request, _("Đã bật ứng dụng xác thực."))
                    return redirect("identity:security")
            elif action == "remove":
                remove_form = TotpRemoveForm(request.POST)
                if remove_form.is_valid():
                    svc.remove_totp(account, remove_form.cleaned_data["password"])
                    messages.success(request, _("Đã tắt ứng dụng xác thực."))
                    return redirect("identity:security")
            else:
                return redirect("identity:totp_setup")
        except DomainError as exc:
            add_domain_error(remove_form if action == "remove" else confirm_form, exc)
        status = 400
    device = svc.totp_device(account)
    pending = None if device is not None else svc.pending_totp_device(account)
    context: dict[str, Any] = {
        "device": device,
        "pending": pending,
        "confirm_form": confirm_form,
        "remove_form": remove_form,
    }
    if pending is not None:
        url, secret = _otpauth_url(account, pending.bin_key)
        context["qr_svg"] = segno.make(url, error="m").svg_inline(
            scale=5, title=_("Mã QR để thêm tài khoản vào ứng dụng xác thực")
        )
        context["secret_groups"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(request, "identity/account/totp_setup.html", context, status=status)

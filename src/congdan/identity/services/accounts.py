"""e-ID accounts: level-1 registration, login with a second factor, account security.

Each state change is one function here. It takes the actor first (for self-service: the
account, or the data the citizen typed, or the request for the login steps), runs in
one transaction, locks what it changes, writes, records the change in the audit history
(never a password or a code) and sends SMS with ``transaction.on_commit``.

The no-leak rule (docs/identity.md): registration says *which* field is wrong only for
format problems. Any mismatch with the registry — an unknown ID number, a name or date
of birth that does not match, a deceased person — gets one generic message, so the form
cannot be used to learn whether a number exists or what someone's name or birthday is.
Login gives one message for an unknown number, a wrong password and an officer's
account; password reset answers the same whether or not the number has an account.

A check that must *record* a failure (a wrong code, a wrong TOTP token) writes inside
its transaction and raises only after it commits, so the count survives the refusal.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import authenticate, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import (
    TOTPDevice,
)

from congdan.audit.services import record_change
from congdan.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from congdan.core.models import User
from congdan.core.notify import send_sms
from congdan.core.permissions import Perm, requires
from congdan.core.text import fold
from congdan.identity import otp
from congdan.identity.lockout import client_ip, ip_blocked, note_ip_failure
from congdan.identity.middleware import SESSION_MARK
from congdan.identity.models import (
    AccountStatus,
    CodePurpose,
    CorrectionRequest,
    EidAccount,
    LoginEvent,
    LoginOutcome,
    ReportStatus,
    UserSession,
)
from congdan.identity.services.level2 import end_all_sessions_and_tokens
from congdan.registry.models import (
    DatePrecision,
    HouseholdMembership,
    IdentityCard,
    Person,
    RecordStatus,
    Residence,
    ResidenceKind,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

# --- rules ------------------------------------------------------------------------------

PENDING_LIFETIME = dt.timedelta(hours=24)
LOGIN_CODE_LIMIT = 5  # wrong second factors before the login restarts at the password
SESSION_AUTH_KEY = "eid_auth"
SELF_LOCK_REASON = gettext_noop("Công dân tự khóa tài khoản")
ID_NUMBER = re.compile(r"^[0-9]{12}$")
PHONE = re.compile(r"^0[35789][0-9]{8}$")
MAX_OPEN_REPORTS = 5
LEGAL_BASIS = "Nghị định 69/2024/NĐ-CP"

# Fields a citizen may report as wrong on /me/ (the officer decides what to correct).
REPORTABLE_FIELDS: dict[str, Any] = {
    "full_name": _("Họ, chữ đệm và tên"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "ethnicity": _("Dân tộc"),
    "religion": _("Tôn giáo"),
    "nationality": _("Quốc tịch"),
    "residence": _("Nơi thường trú"),
    "household": _("Hộ gia đình, quan hệ với chủ hộ"),
    "card": _("Thẻ căn cước"),
    "other": _("Thông tin khác"),
}

# --- messages ---------------------------------------------------------------------------

MISMATCH = _(
    "Thông tin không khớp với Cơ sở dữ liệu quốc gia về dân cư. Vui lòng kiểm tra lại "
    "số định danh cá nhân, họ tên và ngày sinh."
)
ACCOUNT_EXISTS = _(
    "Không thể đăng ký với thông tin này. Nếu đây là bạn và bạn đã có tài khoản, hãy "
    "đăng nhập hoặc đặt lại mật khẩu."
)
LOGIN_FAILED = _("Số định danh cá nhân hoặc mật khẩu không đúng.")
CODE_WRONG = _("Mã xác thực không đúng.")
CODE_EXPIRED = _("Mã xác thực đã hết hạn hoặc đã được sử dụng. Hãy yêu cầu mã mới.")
CODE_EXHAUSTED = _("Bạn đã nhập sai mã quá nhiều lần. Hãy yêu cầu mã mới.")
STATUS_MESSAGES: dict[str, Any] = {
    AccountStatus.LOCKED: _(
        "Tài khoản đã bị khóa. Để mở khóa, hãy đặt lại mật khẩu bằng số điện thoại đã "
        "đăng ký; nếu tài khoản bị khóa bởi cơ quan quản lý, hãy liên hệ công an xã/phường."
    ),
    AccountStatus.SUSPENDED: _(
        "Tài khoản đang bị tạm dừng. Vui lòng liên hệ công an xã/phường nơi cư trú."
    ),
    AccountStatus.DEACTIVATED: _("Tài khoản đã bị hủy."),
}


class LoginFailedError(DomainError):
    status = 401
    code = "login_failed"


class AccountUnavailableError(DomainError):
    status = 403
    code = "account_unavailable"


class LoginThrottledError(DomainError):
    status = 429
    code = "login_throttled"


# --- helpers (no transaction of their own) --------------------------------------------


def _sms_on_commit(phone: str, body: str) -> None:
    transaction.on_commit(functools.partial(send_sms, phone, body))


def _code_error(result: otp.CodeCheck, field: str = "code") -> ValidationFailed:
    if result is otp.CodeCheck.WRONG:
        return ValidationFailed(CODE_WRONG, code="code_invalid", field=field)
    if result is otp.CodeCheck.EXHAUSTED:
        return ValidationFailed(CODE_EXHAUSTED, code="code_attempts", field=field)
    return ValidationFailed(CODE_EXPIRED, code="code_expired", field=field)


def _user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:255]


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request) or None


def _log_event(
    account: EidAccount, outcome: str, request: HttpRequest, method: str = ""
) -> LoginEvent:
    return LoginEvent.objects.create(
        account=account,
        outcome=outcome,
        method=method,
        ip=_ip(request),
        user_agent=_user_agent(request),
    )


def _check_password(user: User, password: str, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), code="weak_password", field=field) from exc


def normalize_phone(raw: str) -> str:
    """A Vietnamese mobile number as 10 digits starting with 0 (+84 / 84 accepted)."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not PHONE.match(digits):
        raise ValidationFailed(
            _("Số điện thoại di động không hợp lệ (10 chữ số, bắt đầu bằng 03, 05, 07, 08, 09)."),
            code="invalid_phone",
            field="phone",
        )
    return digits


def check_id_number_format(id_number: str, field: str = "id_number") -> str:
    value = (id_number or "").strip()
    if not ID_NUMBER.match(value):
        raise ValidationFailed(
            _("Số định danh cá nhân gồm đúng 12 chữ số."), code="invalid_id_number", field=field
        )
    return value


_PRECISION_RANK: dict[str, int] = {
    DatePrecision.YEAR: 1,
    DatePrecision.MONTH: 2,
    DatePrecision.DAY: 3,
}


def birth_date_matches(person: Person, given: dt.date, given_precision: str) -> bool:
    """Compare on what the registry knows: a date recorded with month (or year)
    precision matches any date in that month (or year). The citizen must give at least
    the precision the registry has."""
    recorded = person.birth_date
    precision = person.birth_date_precision
    if _PRECISION_RANK.get(given_precision, 0) < _PRECISION_RANK.get(precision, 3):
        return False
    if given.year != recorded.year:
        return False
    if precision in (DatePrecision.MONTH, DatePrecision.DAY) and given.month != recorded.month:
        return False
    return precision != DatePrecision.DAY or given.day == recorded.day


def _discard_account(account: EidAccount) -> None:
    """Delete a pending account, its user and (after commit) its portrait file."""
    user = account.user
    portrait = account.portrait.name if account.portrait else ""
    storage = account.portrait.storage
    account.delete()  # codes, login events cascade
    user.delete()
    if portrait:
        transaction.on_commit(functools.partial(storage.delete, portrait))


# --- level 1 registration -------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    id_number: str
    full_name: str
    birth_date: dt.date
    birth_precision: str
    phone: str
    password: str
    portrait_jpeg: bytes  # already checked and re-encoded by identity.portraits
    email: str = ""


def start_registration(data: Registration) -> EidAccount:
    """Level-1 registration, step 1: check against the registry and make a *pending*
    account (replacing an abandoned pending one of the same person); send a code to the
    phone. The account becomes active only when the code is confirmed."""
    id_number = check_id_number_format(data.id_number)
    phone = normalize_phone(data.phone)
    full_name = " ".join((data.full_name or "").split())
    if not full_name:
        raise ValidationFailed(_("Vui lòng nhập họ, chữ đệm và tên."), field="full_name")
    _check_password(User(username=id_number, first_name=full_name), data.password)
    if not data.portrait_jpeg:
        raise ValidationFailed(_("Vui lòng tải lên ảnh chân dung."), field="portrait")

    with transaction.atomic():
        person = (
            Person.objects.select_for_update()
            .filter(id_number=id_number, status=RecordStatus.ACTIVE)
            .first()
        )
        if (
            person is None
            or person.is_deceased
            or person.name_search != fold(full_name)
            or not birth_date_matches(person, data.birth_date, data.birth_precision)
        ):
            raise ValidationFailed(MISMATCH, code="registry_mismatch")
        existing = (
            EidAccount.objects.select_for_update()
            .select_related("user")
            .filter(person=person)
            .first()
        )
        if existing is not None:
            if existing.status != AccountStatus.PENDING:
                raise Conflict(ACCOUNT_EXISTS, code="account_exists")
            _discard_account(existing)
        if User.objects.filter(username=id_number).exists():
            # A user of that name without an e-ID (should not happen): refuse neutrally.
            raise Conflict(ACCOUNT_EXISTS, code="account_exists")
        user = User(username=id_number, first_name=person.full_name)
        user.set_password(data.password)
        user.save()
        account = EidAccount(
            user=user,
            person=person,
            status=AccountStatus.PENDING,
            phone=phone,
            email=(data.email or "").strip(),
        )
        account.portrait.save("portrait.jpg", ContentFile(data.portrait_jpeg), save=False)
        account.save()
        code = otp.issue(account, CodePurpose.REGISTER, phone)
        record_change(
            None,  # the user may be discarded with an abandoned registration
            action="eid_register",
            obj=account,
            changes={"status": [None, AccountStatus.PENDING], "level": [None, account.level]},
            person_id=person.pk,
            legal_basis=LEGAL_BASIS,
        )
        _sms_on_commit(phone, otp.sms_text(CodePurpose.REGISTER, code))
    return account


def _pending_account(account_id: int) -> EidAccount | None:
    return (
        EidAccount.objects.select_for_update()
        .filter(
            pk=account_id,
            status=AccountStatus.PENDING,
            created_at__gt=timezone.now() - PENDING_LIFETIME,
        )
        .first()
    )


REGISTRATION_GONE = _("Phiên đăng ký đã hết hạn. Vui lòng đăng ký lại.")


def verify_registration(account_id: int, code: str) -> EidAccount:
    """Level-1 registration, step 2: the phone code activates the account."""
    with transaction.atomic():
        account = _pending_account(account_id)
        if account is None:
            raise NotFound(REGISTRATION_GONE, code="registration_gone")
        result = otp.check(account, CodePurpose.REGISTER, code)
        if result is otp.CodeCheck.OK:
            now = timezone.now()
            account.phone_verified_at = now
            account.activated_at = now
            account.set_status(AccountStatus.ACTIVE, also=("phone_verified_at", "activated_at"))
            record_change(
                account.user,
                action="eid_activate",
                obj=account,
                changes={"status": [AccountStatus.PENDING, AccountStatus.ACTIVE]},
                person_id=account.person_id,
                legal_basis=LEGAL_BASIS,
            )
            _sms_on_commit(
                account.phone,
                "Tai khoan dinh danh dien tu muc do 1 cua ban da duoc kich hoat.",
            )
    if result is not otp.CodeCheck.OK:
        raise _code_error(result)
    return account


def resend_registration_code(account_id: int) -> None:
    with transaction.atomic():
        account = _pending_account(account_id)
        if account is None:
            raise NotFound(REGISTRATION_GONE, code="registration_gone")
        code = otp.issue(account, CodePurpose.REGISTER)
        _sms_on_commit(account.phone, otp.sms_text(CodePurpose.REGISTER, code))


def purge_stale_pending(now: dt.datetime | None = None) -> int:
    """Delete pending registrations older than 24 hours (with their users). Returns how
    many were purged."""
    cutoff = (now or timezone.now()) - PENDING_LIFETIME
    purged = 0
    ids = list(
        EidAccount.objects.filter(status=AccountStatus.PENDING, created_at__lte=cutoff).values_list(
            "pk", flat=True
        )
    )
    for account_id in ids:
        with transaction.atomic():
            account = (
                EidAccount.objects.select_for_update()
                .select_related("user")
                .filter(pk=account_id, status=AccountStatus.PENDING, created_at__lte=cutoff)
                .first()
            )
            if account is None:
                continue
            record_change(
                None,
                action="eid_purge_pending",
                obj=account,
                changes={"status": [AccountStatus.PENDING, None]},
                person_id=account.person_id,
                reason="registration_abandoned",
            )
            _discard_account(account)
            purged += 1
    return purged


# --- login ------------------------------------------------------------------------------


def authenticate_password(request: HttpRequest, id_number: str, password: str) -> EidAccount:
    """Login, step 1. django-axes counts failures per ID number (through
    ``authenticate``), ``identity.lockout`` per IP address. An unknown number, a wrong
    password, an officer's account and an unfinished registration all get the same
    ``LoginFailedError``; a locked, suspended or deactivated account is told so only after
    the right password."""
    if ip_blocked(request):
        raise LoginThrottledError(_("Quá nhiều lần đăng nhập sai."), code="ip_throttled")
    user = authenticate(request=request, username=id_number, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginThrottledError(_("Quá nhiều lần đăng nhập sai."), code="account_throttled")
    if user is None:
        note_ip_failure(request)
        known = EidAccount.objects.filter(user__username=id_number).first()
        if known is not None:
            _log_event(known, LoginOutcome.BAD_PASSWORD, request)
        raise LoginFailedError(LOGIN_FAILED)
    account = EidAccount.objects.select_related("user").filter(user=user).first()
    if account is None or account.status == AccountStatus.PENDING:
        note_ip_failure(request)
        raise LoginFailedError(LOGIN_FAILED)
    if account.status != AccountStatus.ACTIVE:
        _log_event(account, LoginOutcome.ACCOUNT_LOCKED, request)
        raise AccountUnavailableError(STATUS_MESSAGES.get(account.status, LOGIN_FAILED))
    return account


def totp_device(account: EidAccount) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).order_by("id").first()


def send_login_code(account_id: int) -> None:
    """Send (or re-send) the SMS code of the second factor to the verified phone.
    Raises ``Conflict`` during the resend cooldown or over the hourly cap."""
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .filter(pk=account_id, status=AccountStatus.ACTIVE, phone_verified_at__isnull=False)
            .first()
        )
        if account is None:
            raise NotFound(_("Phiên đăng nhập đã hết hạn."), code="login_gone")
        code = otp.issue(account, CodePurpose.LOGIN)
        _sms_on_commit(account.phone, otp.sms_text(CodePurpose.LOGIN, code))


def check_second_factor(
    request: HttpRequest, account_id: int, *, method: str, code: str
) -> tuple[EidAccount, TOTPDevice | None]:
    """Login, step 2: a TOTP token (``method="totp"``) or the SMS code (``"sms"``). A
    wrong one is a ``LoginEvent`` (bad_code) and a failure for axes and the IP limit."""
    device: TOTPDevice | None = None
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .select_related("user")
            .filter(pk=account_id)
            .first()
        )
        if account is None or account.status != AccountStatus.ACTIVE:
            raise NotFound(_("Phiên đăng nhập đã hết hạn."), code="login_gone")
        token = (code or "").strip()
        if method == "totp":
            device = totp_device(account)
            ok = device is not None and token.isdigit() and bool(device.verify_token(token))
            result = otp.CodeCheck.OK if ok else otp.CodeCheck.WRONG
        else:
            result = (
                otp.check(account, CodePurpose.LOGIN, token)
                if token.isdigit()
                else otp.CodeCheck.WRONG
            )
        if result is not otp.CodeCheck.OK:
            _log_event(account, LoginOutcome.BAD_CODE, request, method=f"pwd+{method}")
    if result is not otp.CodeCheck.OK:
        note_ip_failure(request)
        user_login_failed.send(
            sender=__name__, credentials={"username": account.user.get_username()}, request=request
        )
        raise _code_error(result)
    return account, device


def complete_login(
    request: HttpRequest, account: EidAccount, *, method: str, device: TOTPDevice | None = None
) -> None:
    """Log the citizen in after both factors: Django login (axes resets the account's
    failures on ``user_logged_in``), the OTP device, the ``eid_auth`` facts the OIDC
    provider reads, a login event and a tracked session."""
    user = account.user
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
    amr = ["pwd", "otp"] if method == "totp" else ["pwd", "sms"]
    session = request.session
    session[SESSION_AUTH_KEY] = {"time": int(time.time()), "amr": amr, "level": account.level}
    if session.session_key is None:
        session.save()
    now = timezone.now()
    with transaction.atomic():
        _log_event(account, LoginOutcome.SUCCESS, request, method=f"pwd+{method}")
        UserSession.objects.update_or_create(
            session_key=session.session_key,
            defaults={
                "user": user,
                "created_at": now,
                "last_seen_at": now,
                "ip": _ip(request),
                "user_agent": _user_agent(request),
                "ended_at": None,
            },
        )
    session[SESSION_MARK] = True
    session[SESSION_MARK + "_seen"] = now.timestamp()


# --- password reset ---------------------------------------------------------------------


def start_password_reset(id_number: str) -> None:
    """Send a reset code to the account's verified phone, if there is such an account.
    Answers the same (nothing) in every case: no enumeration, and a cooldown is
    silent too."""
    if not ID_NUMBER.match((id_number or "").strip()):
        return
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .filter(
                user__username=id_number.strip(),
                status__in=[AccountStatus.ACTIVE, AccountStatus.LOCKED],
                phone_verified_at__isnull=False,
            )
            .first()
        )
        if account is None:
            return
        try:
            code = otp.issue(account, CodePurpose.RESET)
        except Conflict:
            return
        _sms_on_commit(account.phone, otp.sms_text(CodePurpose.RESET, code))


def complete_password_reset(id_number: str, code: str, new_password: str) -> None:
    """Set a new password with the reset code; ends every session and token, clears the
    axes lockout and unlocks an account the citizen locked themself. An unknown number
    gets the same answer as an expired code."""
    number = (id_number or "").strip()
    account = EidAccount.objects.select_related("user").filter(user__username=number).first()
    if account is not None:
        _check_password(account.user, new_password, field="new_password1")
    else:
        _check_password(User(username=number), new_password, field="new_password1")
    result = otp.CodeCheck.EXPIRED
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .select_related("user")
            .filter(
                user__username=number,
                status__in=[AccountStatus.ACTIVE, AccountStatus.LOCKED],
            )
            .first()
        )
        if account is not None and (code or "").strip().isdigit():
            result = otp.check(account, CodePurpose.RESET, code)
        elif account is not None:
            result = otp.CodeCheck.WRONG
        if account is not None and result is otp.CodeCheck.OK:
            user = account.user
            user.set_password(new_password)
            user.save(update_fields=["password"])
            before = {"status": account.status}
            if account.status == AccountStatus.LOCKED and account.status_reason == SELF_LOCK_REASON:
                account.set_status(AccountStatus.ACTIVE)
            end_all_sessions_and_tokens(user)
            _reset_axes(user.get_username())
            changes: dict[str, list[Any]] = {"password": ["***", "***"]}
            if before["status"] != account.status:
                changes["status"] = [before["status"], account.status]
            record_change(
                user,
                action="eid_password_reset",
                obj=account,
                changes=changes,
                person_id=account.person_id,
            )
            _sms_on_commit(
                account.phone,
                "Mat khau tai khoan dinh danh dien tu cua ban vua duoc dat lai. Neu khong "
                "phai ban, hay lien he cong an xa/phuong ngay.",
            )
    if result is not otp.CodeCheck.OK:
        raise _code_error(result)


def _reset_axes(username: str) -> None:
    from axes.utils import (  # noqa: PLC0415 -- no types; axes loads its handler on first use
        reset,
    )

    reset(username=username)


# --- account security (the citizen's own) ---------------------------------------------


def _lock_own(account: EidAccount) -> EidAccount:
    locked = (
        EidAccount.objects.select_for_update()
        .select_related("user", "person")
        .filter(pk=account.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("Không tìm thấy tài khoản."), code="account_not_found")
    return locked


def lock_own_account(account: EidAccount) -> EidAccount:
    """The citizen locks their account ("Khóa tài khoản"): every session and token ends;
    a password reset through the phone unlocks it."""
    with transaction.atomic():
        account = _lock_own(account)
        if account.status != AccountStatus.ACTIVE:
            raise Conflict(_("Tài khoản không ở trạng thái hoạt động."), code="not_active")
        account.set_status(AccountStatus.LOCKED, SELF_LOCK_REASON)
        end_all_sessions_and_tokens(account.user)
        record_change(
            account.user,
            action="eid_self_lock",
            obj=account,
            changes={"status": [AccountStatus.ACTIVE, AccountStatus.LOCKED]},
            person_id=account.person_id,
            reason=SELF_LOCK_REASON,
        )
        _sms_on_commit(
            account.phone,
            "Tai khoan dinh danh dien tu cua ban da bi khoa theo yeu cau. "
            "De mo khoa, hay dat lai mat khau.",
        )
    return account


def change_password(
    account: EidAccount, *, current: str, new: str, keep_session_key: str | None
) -> None:
    """Change the password (the current one required); other sessions end."""
    with transaction.atomic():
        account = _lock_own(account)
        user = account.user
        if not user.check_password(current):
            raise ValidationFailed(
                _("Mật khẩu hiện tại không đúng."), code="wrong_password", field="current_password"
            )
        _check_password(user, new, field="new_password1")
        user.set_password(new)
        user.save(update_fields=["password"])
        _end_sessions(user, keep=keep_session_key)
        record_change(
            user,
            action="eid_password_change",
            obj=account,
            changes={"password": ["***", "***"]},
            person_id=account.person_id,
        )
        _sms_on_commit(
            account.phone, "Mat khau tai khoan dinh danh dien tu cua ban vua duoc thay doi."
        )


def _end_sessions(user: User, *, keep: str | None) -> None:
    live = UserSession.objects.filter(user=user, ended_at__isnull=True)
    if keep:
        live = live.exclude(session_key=keep)
    keys = list(live.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).update(ended_at=timezone.now())


def revoke_session(account: EidAccount, session_id: int) -> None:
    """End one of the citizen's sessions (the other browser is logged out at once: its
    Django session is deleted). Another user's session is a 404."""
    with transaction.atomic():
        tracked = (
            UserSession.objects.select_for_update()
            .filter(pk=session_id, user_id=account.user_id, ended_at__isnull=True)
            .first()
        )
        if tracked is None:
            raise NotFound(_("Không tìm thấy phiên đăng nhập."), code="session_not_found")
        Session.objects.filter(session_key=tracked.session_key).delete()
        tracked.ended_at = timezone.now()
        tracked.save(update_fields=["ended_at"])
        record_change(
            account.user,
            action="eid_session_revoke",
            obj=tracked,
            changes={"ended_at": [None, tracked.ended_at.isoformat()]},
            person_id=account.person_id,
        )


def end_current_session(request: HttpRequest) -> None:
    """Mark the request's tracked session ended (called on logout)."""
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )


# --- TOTP -------------------------------------------------------------------------------


def pending_totp_device(account: EidAccount) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=account.user_id, confirmed=False).first()


def start_totp_setup(account: EidAccount) -> TOTPDevice:
    """A new, unconfirmed TOTP device (a previous unconfirmed one is replaced)."""
    with transaction.atomic():
        account = _lock_own(account)
        if TOTPDevice.objects.filter(user_id=account.user_id, confirmed=True).exists():
            raise Conflict(_("Bạn đã bật ứng dụng xác thực."), code="totp_exists")
        TOTPDevice.objects.filter(user_id=account.user_id, confirmed=False).delete()
        return TOTPDevice.objects.create(user=account.user, name="authenticator", confirmed=False)


def confirm_totp(account: EidAccount, token: str) -> TOTPDevice:
    """Confirm the new device with a token it shows; from now on login asks for it."""
    ok = False
    with transaction.atomic():
        account = _lock_own(account)
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user_id=account.user_id, confirmed=False)
            .first()
        )
        if device is None:
            raise NotFound(_("Chưa bắt đầu thiết lập ứng dụng xác thực."), code="totp_not_started")
        value = (token or "").strip()
        ok = value.isdigit() and bool(device.verify_token(value))
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record_change(
                account.user,
                action="eid_totp_enable",
                obj=account,
                changes={"totp": [False, True]},
                person_id=account.person_id,
            )
            _sms_on_commit(
                account.phone, "Ung dung xac thuc (TOTP) da duoc bat cho tai khoan cua ban."
            )
    if not ok:
        raise ValidationFailed(CODE_WRONG, code="code_invalid", field="token")
    return device


def remove_totp(account: EidAccount, password: str) -> None:
    """Turn the authenticator app off (the password is asked again); login falls back
    to SMS codes."""
    with transaction.atomic():
        account = _lock_own(account)
        if not account.user.check_password(password):
            raise ValidationFailed(
                _("Mật khẩu hiện tại không đúng."), code="wrong_password", field="password"
            )
        deleted, _rows = TOTPDevice.objects.filter(user_id=account.user_id).delete()
        if not deleted:
            raise NotFound(_("Bạn chưa bật ứng dụng xác thực."), code="totp_missing")
        record_change(
            account.user,
            action="eid_totp_disable",
            obj=account,
            changes={"totp": [True, False]},
            person_id=account.person_id,
        )
        _sms_on_commit(account.phone, "Ung dung xac thuc (TOTP) da bi tat cho tai khoan cua ban.")


# --- administration ---------------------------------------------------------------------


@requires(Perm.EID_ACCOUNT_MANAGE)
def set_account_status(
    actor: User | AnonymousUser, account_id: int, status: str, reason: str
) -> EidAccount:
    """An administrator locks, suspends or reactivates an account. Deactivation (death)
    and pending registrations are not this function's."""
    allowed = {AccountStatus.ACTIVE, AccountStatus.LOCKED, AccountStatus.SUSPENDED}
    if status not in allowed:
        raise ValidationFailed(_("Trạng thái không hợp lệ."), code="invalid_status", field="status")
    reason = (reason or "").strip()
    if status != AccountStatus.ACTIVE and not reason:
        raise ValidationFailed(_("Vui lòng nêu lý do."), code="reason_required", field="reason")
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .select_related("user")
            .filter(pk=account_id)
            .first()
        )
        if account is None:
            raise NotFound(_("Không tìm thấy tài khoản."), code="account_not_found")
        if account.status not in allowed:
            raise Conflict(
                _("Không thể đổi trạng thái của tài khoản này."), code="status_not_changeable"
            )
        before = account.set_status(status, reason)
        if status != AccountStatus.ACTIVE:
            end_all_sessions_and_tokens(account.user)
        else:
            _reset_axes(account.user.get_username())
        record_change(
            actor,
            action="eid_status",
            obj=account,
            changes={"status": [before, status]} if before != status else {},
            person_id=account.person_id,
            reason=reason,
            legal_basis=LEGAL_BASIS,
        )
    return account


# --- the citizen's own data ---------------------------------------------------------------


def report_error(account: EidAccount, fields: list[str], message: str) -> CorrectionRequest:
    """The citizen reports wrong registry data; the request goes to the police of their
    residence commune."""
    chosen = [name for name in REPORTABLE_FIELDS if name in set(fields or [])]
    if not chosen or len(chosen) != len(set(fields)):
        raise ValidationFailed(
            _("Vui lòng chọn thông tin bị sai."), code="fields_required", field="fields"
        )
    text = (message or "").strip()
    if len(text) < 10:
        raise ValidationFailed(
            _("Vui lòng mô tả thông tin đúng (ít nhất 10 ký tự)."),
            code="message_too_short",
            field="message",
        )
    if len(text) > 2000:
        raise ValidationFailed(
            _("Nội dung không được dài quá 2000 ký tự."), code="message_too_long", field="message"
        )
    with transaction.atomic():
        account = _lock_own(account)
        if account.status != AccountStatus.ACTIVE:
            raise Conflict(_("Tài khoản không ở trạng thái hoạt động."), code="not_active")
        open_reports = CorrectionRequest.objects.filter(
            account=account, status=ReportStatus.OPEN
        ).count()
        if open_reports >= MAX_OPEN_REPORTS:
            raise Conflict(
                _("Bạn đang có %(n)d phản ánh chờ xử lý; vui lòng chờ kết quả.")
                % {"n": open_reports},
                code="too_many_reports",
            )
        report = CorrectionRequest.objects.create(
            account=account,
            person=account.person,
            commune=account.person.residence_commune,
            fields=chosen,
            message=text,
        )
        record_change(
            account.user,
            action="eid_report_error",
            obj=report,
            changes={"fields": [None, chosen]},
            person_id=account.person_id,
        )
    return report


@dataclass
class MyIdentity:
    person: Person
    residence: Residence | None
    membership: HouseholdMembership | None
    members: list[HouseholdMembership]
    card: IdentityCard | None


def my_identity(account: EidAccount) -> MyIdentity:
    """What /me/ shows: the citizen's own registry record (no access-log entry: the
    data subject reading their own data)."""
    person = Person.objects.select_related(
        "ethnicity", "religion", "residence_commune__parent", "birth_registration_province"
    ).get(pk=account.person_id)
    residence = (
        Residence.objects.select_related(
            "address__commune", "address__district", "address__province", "commune__parent"
        )
        .filter(person=person, kind=ResidenceKind.PERMANENT, ended_on__isnull=True)
        .order_by("-start_date", "-id")
        .first()
    )
    membership = (
        HouseholdMembership.objects.select_related("household__address")
        .filter(person=person, until__isnull=True)
        .first()
    )
    members: list[HouseholdMembership] = []
    if membership is not None:
        members = list(
            HouseholdMembership.objects.select_related("person")
            .filter(household_id=membership.household_id, until__isnull=True)
            .order_by("since", "id")
        )
    card = IdentityCard.objects.filter(person=person).order_by("-issue_date", "-id").first()
    return MyIdentity(
        person=person, residence=residence, membership=membership, members=members, card=card
    )

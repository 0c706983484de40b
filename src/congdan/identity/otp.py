"""One-time codes sent by SMS (registration, login, password reset).

Rules (docs/identity.md): 6 digits from ``secrets``; only an HMAC-SHA256 of the code
(keyed by SECRET_KEY, bound to the account and the purpose) is stored; a code lives
``CODE_TTL``; a code takes at most ``MAX_ATTEMPTS`` guesses; a new code for the same
purpose replaces the previous one and may be asked for once per ``RESEND_COOLDOWN``
(while the previous code is unused), at most ``HOURLY_CAP`` times an hour.

Nothing here opens a transaction or logs a code: the services call these inside their
own transaction and send the code with ``transaction.on_commit``.
"""

from __future__ import annotations

import enum
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import Conflict
from congdan.identity.models import EidAccount, OneTimeCode

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
HOURLY_CAP = 5
_SALT = "congdan.identity.otp"


class CodeCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # counted against the code
    EXPIRED = "expired"  # or none sent / already used
    EXHAUSTED = "exhausted"  # too many wrong guesses on this code


def code_hash(account_id: int, purpose: str, code: str) -> str:
    return salted_hmac(_SALT, f"{account_id}:{purpose}:{code}", algorithm="sha256").hexdigest()


def issue(account: EidAccount, purpose: str, phone: str | None = None) -> str:
    """Make a new code (the previous open one of the purpose stops working) and return
    it for sending. Raises ``Conflict`` during the cooldown or over the hourly cap."""
    now = timezone.now()
    recent = OneTimeCode.objects.filter(
        account=account, purpose=purpose, created_at__gt=now - timedelta(hours=1)
    )
    # The cooldown holds while the last code is still open: a code already used does
    # not stop a new one (a second login from another device a minute later).
    last = recent.filter(consumed_at__isnull=True).order_by("-created_at").first()
    if last is not None and now - last.created_at < RESEND_COOLDOWN:
        wait = int((RESEND_COOLDOWN - (now - last.created_at)).total_seconds()) + 1
        raise Conflict(
            _("Vui lòng chờ %(seconds)d giây trước khi yêu cầu mã mới.") % {"seconds": wait},
            code="code_cooldown",
        )
    if recent.count() >= HOURLY_CAP:
        raise Conflict(
            _("Bạn đã yêu cầu quá nhiều mã trong một giờ. Vui lòng thử lại sau."),
            code="code_hourly_cap",
        )
    OneTimeCode.objects.filter(account=account, purpose=purpose, consumed_at__isnull=True).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    OneTimeCode.objects.create(
        account=account,
        purpose=purpose,
        phone=phone or account.phone,
        code_hash=code_hash(account.pk, purpose, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    return code


def check(account: EidAccount, purpose: str, code: str) -> CodeCheck:
    """Check ``code`` against the account's open code of ``purpose``; a right code is
    consumed, a wrong one counted. The caller's transaction must commit the count even
    when it then refuses (raise after the ``atomic`` block, not inside it)."""
    now = timezone.now()
    current = (
        OneTimeCode.objects.select_for_update()
        .filter(account=account, purpose=purpose, consumed_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if current is None or current.expires_at <= now:
        return CodeCheck.EXPIRED
    if current.attempts >= MAX_ATTEMPTS:
        return CodeCheck.EXHAUSTED
    if constant_time_compare(current.code_hash, code_hash(account.pk, purpose, code.strip())):
        current.consumed_at = now
        current.save(update_fields=["consumed_at"])
        return CodeCheck.OK
    current.attempts += 1
    current.save(update_fields=["attempts"])
    return CodeCheck.EXHAUSTED if current.attempts >= MAX_ATTEMPTS else CodeCheck.WRONG


def sms_text(purpose: str, code: str) -> str:
    """The SMS body (Vietnamese: the citizen's phone is not tied to a UI language)."""
    minutes = int(CODE_TTL.total_seconds() // 60)
    what = {
        "register": "dang ky tai khoan dinh danh dien tu",
        "login": "dang nhap",
        "reset": "dat lai mat khau",
        "phone": "doi so dien thoai",
        "consent": "dong y de can bo mot cua nop ho so thay ban",
    }.get(purpose, "xac thuc")
    return (
        f"Ma xac thuc {what} cua ban la {code}. Ma co hieu luc {minutes} phut. "
        "Khong cung cap ma nay cho bat ky ai."
    )

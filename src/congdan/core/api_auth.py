"""Bearer-token authentication for the REST API, and issuing / revoking tokens.

A client sends ``Authorization: Bearer <key>``. Only the SHA-256 of a key is stored
(``ApiToken.key_hash``), so a lookup hashes the presented key and finds the row by its
unique hash. The key itself is shown once, when issued, and never logged (DESIGN rule 8).

Session cookies are deliberately not accepted by the API: a cookie-authenticated JSON API
would need CSRF protection, and API clients are programs, not browsers.

``issue_token`` / ``revoke_tokens`` are the state changes behind the admin and the
``create_api_token`` command; they check permission, run in a transaction and write a
change record (DESIGN rule 1).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

from congdan.audit.services import record_change
from congdan.core.errors import PermissionDenied, ValidationFailed
from congdan.core.models import ApiToken, User
from congdan.core.permissions import Perm, Role, has_perm

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser

# ``last_used_at`` is refreshed at most this often per token: one write per minute, not
# one write per request on the hot lookup path.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
# Keys are "cd_" + 43 URL-safe characters; anything far longer is not a key of ours and
# is refused before hashing.
MAX_KEY_LENGTH = 200
DEFAULT_VALID_DAYS = 90
MAX_VALID_DAYS = 3650


def _plausible_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def user_for_key(key: str) -> User | None:
    """The active user owning the usable token ``key``, or None. Touches ``last_used_at``."""
    if not _plausible_key(key):
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user", "user__agency", "user__agency__jurisdiction")
        .filter(key_hash=ApiToken.hash_key(key))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional update: concurrent requests of the same minute write once.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token.user


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer <key>`` → the token's user (``request.auth``)."""

    def __call__(self, request: HttpRequest) -> User | None:
        # Parsed here rather than by HttpBearer.__call__, which logs the whole header
        # (the credential) when the scheme is not "Bearer" and DEBUG is on.
        scheme, _sep, key = request.headers.get(self.header, "").strip().partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_key(token)
        if user is not None:
            # The API acts as the token's user only; never as a session's user.
            request.user = user
        return user


# --- issuing and revoking (admin, management command) ---------------------------------


def _may_manage_tokens_of(actor: User | AnonymousUser | None, owner: User) -> bool:
    if actor is None:  # the operator's management command
        return True
    if not has_perm(actor, Perm.API_TOKEN_MANAGE):
        return False
    return actor.pk == owner.pk or getattr(actor, "role", "") == Role.ADMIN


def issue_token(
    actor: User | AnonymousUser | None,
    *,
    owner: User,
    name: str,
    valid_days: int | None = DEFAULT_VALID_DAYS,
) -> tuple[ApiToken, str]:
    """Create a token for ``owner``; return it with its key (the only time the key exists).

    ``actor`` None means the operator at the console. ``valid_days`` None: no expiry.
    """
    if not _may_manage_tokens_of(actor, owner):
        raise PermissionDenied(
            _("Bạn không có quyền tạo mã truy cập API cho người dùng này."),
            code="permission_denied",
        )
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(
            _("Đặt tên cho mã truy cập (ví dụ: tên ứng dụng sử dụng)."),
            code="required",
            field="name",
        )
    if len(name) > 100:
        raise ValidationFailed(
            _("Tên mã truy cập tối đa 100 ký tự."), code="too_long", field="name"
        )
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValidationFailed(
            _("Thời hạn phải từ 1 đến %(max)d ngày.") % {"max": MAX_VALID_DAYS},
            code="invalid_valid_days",
            field="valid_days",
        )
    if not owner.is_active:
        raise ValidationFailed(
            _("Tài khoản %(user)s đã bị khóa; không thể tạo mã truy cập.")
            % {"user": owner.get_username()},
            code="user_inactive",
            field="user",
        )
    key = ApiToken.new_key()
    now = timezone.now()
    expires_at = now + dt.timedelta(days=valid_days) if valid_days is not None else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=name,
            prefix=key[: ApiToken.PREFIX_LEN],
            key_hash=ApiToken.hash_key(key),
            created_at=now,
            expires_at=expires_at,
        )
        record_change(
            actor,
            action="issue_api_token",
            obj=token,
            changes={
                "user": [None, owner.get_username()],
                "name": [None, name],
                "prefix": [None, token.prefix],
                "expires_at": [None, expires_at.isoformat() if expires_at else None],
            },
        )
    return token, key


def revoke_tokens(actor: User | AnonymousUser | None, tokens: Iterable[ApiToken]) -> int:
    """Revoke the still-usable ``tokens`` the actor may manage; return how many."""
    revoked = 0
    now = timezone.now()
    with transaction.atomic():
        ids = [t.pk for t in tokens]
        for token in ApiToken.objects.select_for_update().select_related("user").filter(pk__in=ids):
            if token.revoked_at is not None:
                continue
            if not _may_manage_tokens_of(actor, token.user):
                raise PermissionDenied(
                    _("Bạn không có quyền thu hồi mã truy cập của người dùng khác."),
                    code="permission_denied",
                )
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            record_change(
                actor,
                action="revoke_api_token",
                obj=token,
                changes={"revoked_at": [None, now.isoformat()]},
            )
            revoked += 1
    return revoked


def describe(token: ApiToken, now: dt.datetime | None = None) -> Any:
    """A token's state for people: usable, expired or revoked."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return _("Đã thu hồi")
    if token.expires_at is not None and token.expires_at <= now:
        return _("Hết hạn")
    return _("Đang dùng được")

"""Who is calling, and may they: authentication of member systems, the grant check,
consent, rate limits and the access log of every call.

A member system authenticates with a client-credentials access token of our OAuth2
provider (scope ``exchange:query``) whose application belongs to an active subsystem of
an active member. Every call names a service and a purpose; ``authorize`` finds a grant
for member (or that subsystem) × service × purpose valid today, narrows the fields to
those the grant allows, and counts the call against the member's rate limit. A call is
refused with a code that says why:

==========================  ======  ===============================================
code                        status  meaning
==========================  ======  ===============================================
``purpose_required``        422     no purpose named (``X-Purpose`` / ``purpose``)
``unknown_service``         404     no such service in the catalogue
``unknown_purpose``         403     the service may never be used for that purpose
``no_grant``                403     the member holds no grant for service × purpose
``grant_not_yet_valid``     403     its grant starts later
``grant_expired``           403     its grant ended or was revoked
``field_not_allowed``       403     a requested field is outside the grant
``consent_required``        403     the purpose needs the citizen's consent; none active
``rate_limited``            429     over the member's limit for the service
==========================  ======  ===============================================

Grants are cached per process for ``GRANT_CACHE_SECONDS``; a change made through
``services`` clears this process's cache at once, other processes within that time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

from congdan.audit.models import Channel, Outcome
from congdan.audit.services import log_access
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.exchange import ratelimit
from congdan.exchange.models import (
    AccessGrant,
    Consent,
    DataService,
    Member,
    MemberStatus,
    RateLimit,
    ServicePurpose,
    Subsystem,
)
from congdan.identity.api_auth import client_for_token

if TYPE_CHECKING:
    from congdan.registry.models import Person

SCOPE = "exchange:query"
GRANT_CACHE_SECONDS = 5.0
CALLER_CACHE_SECONDS = 10.0
MAX_PURPOSE_LENGTH = 60


@dataclass(frozen=True)
class Caller:
    """A member's subsystem calling through a client-credentials token."""

    member: Member
    subsystem: Subsystem

    @property
    def identifier(self) -> str:
        return self.subsystem.identifier


@dataclass(frozen=True)
class Authorization:
    """A call allowed by a grant: which fields may be returned, how to log it."""

    caller: Caller
    service: DataService
    purpose: ServicePurpose
    fields: tuple[str, ...]
    grant_id: int

    @property
    def hidden_until(self) -> dt.date | None:
        days = self.purpose.hidden_days
        return timezone.localdate() + dt.timedelta(days=days) if days else None


# --- caches ----------------------------------------------------------------------------


class _TtlCache:
    """A small per-process map with expiry; thread-safe enough for granian's threads."""

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: Any, value: Any, seconds: float | None = None) -> None:
        with self._lock:
            if len(self._data) >= self.size:
                self._data.clear()
            self._data[key] = (time.monotonic() + (seconds or self.seconds), value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_callers = _TtlCache(CALLER_CACHE_SECONDS)
_grants = _TtlCache(GRANT_CACHE_SECONDS)
_catalogue = _TtlCache(60.0)


def clear_caches() -> None:
    """Forget cached callers, grants and catalogue rows (after a change, and in tests)."""
    _callers.clear()
    _grants.clear()
    _catalogue.clear()


# --- authentication ----------------------------------------------------------------------


def caller_for_token(token: str) -> Caller | None:
    """The active subsystem a usable ``exchange:query`` token belongs to, or None."""
    key = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    cached = _callers.get(key)
    if cached is not None:
        caller, expires = cached
        if expires > timezone.now():
            return caller
    client = client_for_token(token)
    if client is None or not client.has_scope(SCOPE):
        return None
    subsystem = (
        Subsystem.objects.select_related("member").filter(application=client.application).first()
    )
    if subsystem is None:
        return None
    caller = Caller(member=subsystem.member, subsystem=subsystem)
    if not (caller.member.is_active and subsystem.status == MemberStatus.ACTIVE):
        return None
    _callers.put(key, (caller, client.expires or timezone.now()))
    return caller


class ExchangeAuth(HttpBearer):
    """``Authorization: Bearer <token>`` of a member subsystem → ``request.auth`` is its
    ``Caller``. Missing, bad or expired token, or a suspended member: 401."""

    def __call__(self, request: HttpRequest) -> Caller | None:
        # Parsed here: HttpBearer.__call__ logs the whole header on a wrong scheme.
        scheme, _sep, token = request.headers.get(self.header, "").strip().partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        if not (0 < len(token) <= 255 and token.isascii() and token.isprintable()):
            return None
        return caller_for_token(token)


def caller_of(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined]  # set by ExchangeAuth


# --- the catalogue and grants -------------------------------------------------------


def service_by_code(code: str) -> DataService:
    cached = _catalogue.get(("service", code))
    if cached is None:
        well_formed = len(code) <= 40 and code.isascii() and code.isprintable()
        cached = DataService.objects.filter(code=code, active=True).first() if well_formed else None
        if cached is None:
            raise NotFound(
                _("Không có dịch vụ dữ liệu “%(code)s”.")
                % {"code": code[:40].encode("ascii", "replace").decode()},
                code="unknown_service",
            )
        _catalogue.put(("service", code), cached)
    return cached


def _purpose_of(service: DataService, code: str) -> ServicePurpose:
    cached = _catalogue.get(("purpose", service.pk, code))
    if cached is None:
        cached = ServicePurpose.objects.filter(service=service, code=code).first()
        if cached is None:
            raise PermissionDenied(
                _("Dịch vụ %(service)s không được dùng cho mục đích “%(purpose)s”.")
                % {"service": service.code, "purpose": code},
                code="unknown_purpose",
            )
        _catalogue.put(("purpose", service.pk, code), cached)
    return cached


def _grants_for(caller: Caller, service: DataService, purpose: ServicePurpose) -> list[AccessGrant]:
    key = (caller.member.pk, caller.subsystem.pk, service.pk, purpose.pk)
    cached = _grants.get(key)
    if cached is None:
        cached = list(
            AccessGrant.objects.filter(
                Q(subsystem__isnull=True) | Q(subsystem=caller.subsystem),
                member=caller.member,
                service=service,
                purpose=purpose,
            ).order_by("id")
        )
        _grants.put(key, cached)
    return cached


def _rate_limit(caller: Caller, service: DataService) -> int:
    cached = _catalogue.get(("rate", caller.member.pk, service.pk))
    if cached is None:
        row = RateLimit.objects.filter(member=caller.member, service=service).first()
        cached = row.per_minute if row else settings.EXCHANGE_DEFAULT_RATE
        _catalogue.put(("rate", caller.member.pk, service.pk), cached, GRANT_CACHE_SECONDS)
    return int(cached)


def checked_purpose(raw: str | None) -> str:
    purpose = (raw or "").strip()
    if not purpose:
        raise ValidationFailed(
            _("Mỗi yêu cầu phải nêu mục đích sử dụng (tiêu đề X-Purpose hoặc trường purpose)."),
            code="purpose_required",
            field="purpose",
        )
    if len(purpose) > MAX_PURPOSE_LENGTH or not (purpose.isascii() and purpose.isprintable()):
        raise ValidationFailed(
            _("Mã mục đích không hợp lệ (ký tự ASCII, tối đa %(max)d ký tự).")
            % {"max": MAX_PURPOSE_LENGTH},
            code="invalid_purpose",
            field="purpose",
        )
    return purpose


def authorize(
    caller: Caller,
    *,
    service: str,
    purpose: str | None,
    fields: Sequence[str] | None = None,
    count: int = 1,
) -> Authorization:
    """The grant that allows this call, or a refusal saying why (module docstring).

    ``fields``: the fields asked for (None: all the grant allows). ``count``: how many
    requests this call weighs against the rate limit (a batch counts once per job).
    """
    purpose_code = checked_purpose(purpose)
    data_service = service_by_code(service)
    service_purpose = _purpose_of(data_service, purpose_code)
    today = timezone.localdate()
    grants = _grants_for(caller, data_service, service_purpose)
    valid = [grant for grant in grants if grant.is_valid_on(today)]
    if not valid:
        if not grants:
            raise PermissionDenied(
                _(
                    "Tổ chức chưa được cấp quyền dùng dịch vụ %(service)s cho mục đích "
                    "“%(purpose)s”."
                )
                % {"service": data_service.code, "purpose": purpose_code},
                code="no_grant",
            )
        if any(g.revoked_at is None and g.valid_from > today for g in grants):
            raise PermissionDenied(
                _("Quyền dùng dịch vụ %(service)s cho mục đích này chưa đến ngày hiệu lực.")
                % {"service": data_service.code},
                code="grant_not_yet_valid",
            )
        raise PermissionDenied(
            _("Quyền dùng dịch vụ %(service)s cho mục đích này đã hết hạn hoặc bị thu hồi.")
            % {"service": data_service.code},
            code="grant_expired",
        )
    allowed: list[str] = []
    for grant in valid:
        allowed.extend(f for f in grant.fields if f not in allowed)
    if fields is None:
        chosen = tuple(f for f in data_service.fields if f in allowed)
    else:
        outside = [f for f in fields if f not in allowed]
        if outside:
            raise PermissionDenied(
                _("Quyền được cấp không bao gồm các trường: %(fields)s.")
                % {"fields": ", ".join(outside[:20])},
                code="field_not_allowed",
            )
        chosen = tuple(dict.fromkeys(fields))
    ratelimit.hit(
        f"{caller.member.pk}:{data_service.pk}", _rate_limit(caller, data_service), weight=count
    )
    return Authorization(
        caller=caller,
        service=data_service,
        purpose=service_purpose,
        fields=chosen,
        grant_id=valid[0].pk,
    )


# --- consent and the access log -------------------------------------------------------


def has_consent(auth: Authorization, person_id: int) -> bool:
    return Consent.objects.filter(
        person_id=person_id,
        member=auth.caller.member,
        service=auth.service,
        purpose=auth.purpose,
        revoked_at__isnull=True,
        valid_until__gt=timezone.now(),
    ).exists()


def require_consent(auth: Authorization, person: Person | None) -> None:
    """When the purpose needs the citizen's consent and none is active: the refused
    attempt goes to the citizen's access log, then ``consent_required``. A number nobody
    holds gets the same answer under such a purpose, so that a member without consent
    cannot learn which numbers exist."""
    if not auth.purpose.requires_consent:
        return
    if person is not None:
        if has_consent(auth, person.pk):
            return
        log(auth, [person.pk], outcome=Outcome.REFUSED, fields=())
    raise PermissionDenied(
        _(
            "Mục đích “%(purpose)s” cần sự đồng ý của công dân; công dân chưa đồng ý hoặc đã "
            "rút lại sự đồng ý cho tổ chức này."
        )
        % {"purpose": auth.purpose.code},
        code="consent_required",
    )


def log(
    auth: Authorization,
    person_ids: Iterable[int],
    *,
    outcome: Outcome | str = Outcome.OK,
    fields: Sequence[str] | None = None,
) -> int:
    """Append the access-log entries of this call (organisation, subsystem, service,
    fields, purpose, request id, outcome; hidden from the citizen for investigations)."""
    caller = auth.caller
    return log_access(
        None,
        person_ids=person_ids,
        channel=Channel.EXCHANGE,
        view=auth.service.code,
        fields=auth.fields if fields is None else fields,
        purpose=auth.purpose.code,
        on_behalf_of=(caller.identifier, caller.member.code),
        subsystem=caller.identifier,
        outcome=outcome,
        hidden_until=auth.hidden_until,
    )

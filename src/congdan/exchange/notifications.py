"""Change notifications to member organisations: a pull feed and signed webhooks.

What is published
-----------------
The registry writes a ``registry.CivilEvent`` row in the same transaction as every
change, so the events are the source of truth and nothing is lost. A member receives the
events of the persons it has an *active* relationship with (``Relationship``, recorded
through the API before the event was recorded), of the kinds its grant on the
``person-events`` service lists:

=====================  =============================================================
kind (grant field)     registry events
=====================  =============================================================
``death``              ``death``
``residence_change``   ``residence_change``, ``temporary_residence``
``name_change``        ``name_change``
=====================  =============================================================

When the grant's purpose needs the citizen's consent (``customer_update``), only events
of persons with an active consent for that member, service and purpose are published.

The payload is minimal — what happened to whom, never the new data (a member with a
lookup grant looks that up, under its own purpose and log entry)::

    {"id": 1234, "kind": "residence_change", "id_number": "048090000123",
     "event_date": "2026-11-20", "recorded_at": "2026-11-20T03:12:45.123456+00:00"}

Cursor and feed lag
-------------------
The cursor is the event id: a page holds events with ids above it, in id order. Ids are
handed out when a row is inserted, but a transaction may commit after a later one, so an
event with a smaller id can become visible after a larger one was read. To not skip it,
only events recorded more than ``FEED_LAG`` ago are published, and a page stops at the
first matching event younger than that. A registry transaction that stays open longer than
``FEED_LAG`` after writing its event could still be skipped; registry services commit in
milliseconds. Consumers must accept an event more than once (at-least-once delivery; the
``id`` identifies it).

Pull feed
---------
``GET /api/v1/exchange/events?after=<cursor>&limit=<1..1000>`` with a purpose returns
``{"events": [...], "next": <cursor>}``; read again with ``after=next`` until ``next``
stops moving. Each page's events are logged in the citizens' access log.

Webhooks
--------
An endpoint is created with ``create_endpoint`` (the secret is returned once).
``dispatch_events`` (worker poller) turns new events into ``Delivery`` rows per active
endpoint, advancing the endpoint's cursor under a row lock; ``deliver_due`` (worker
poller) POSTs due deliveries, one event per request, JSON body as above, headers::

    Content-Type: application/json
    X-Congdan-Event-Id: 1234
    X-Congdan-Signature: t=1763781165,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

To verify, the receiver recomputes ``HMAC-SHA256(secret, f"{t}.".encode() + raw_body)``
over the raw bytes received (before any JSON parsing), compares it with ``v1`` in
constant time (``hmac.compare_digest``), and refuses a ``t`` more than five minutes
away from its clock (a replay); ``verify_signature`` below does exactly that.

A 2xx answer within ``TIMEOUT`` seconds is a delivery; anything else (another status, a
redirect — never followed —, a timeout, a refused connection) is retried after
``EXCHANGE_WEBHOOK_BACKOFF_SECONDS * 2**(attempts-1)`` seconds plus up to 20% jitter,
until ``EXCHANGE_WEBHOOK_ATTEMPTS`` attempts, then the delivery is ``failed``. Before each
attempt the member's entitlement is checked again (grant, relationship, consent); a
delivery it lost is ``failed`` with ``not_entitled`` and never sent. A delivered event is
logged like a pulled one. Only ``http``/``https`` URLs are accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel, Outcome
from congdan.audit.services import log_access, record_change
from congdan.core.errors import ValidationFailed
from congdan.core.permissions import Perm, check_perm
from congdan.exchange import policy
from congdan.exchange.models import (
    AccessGrant,
    Consent,
    DataService,
    Delivery,
    DeliveryStatus,
    Member,
    MemberStatus,
    Relationship,
    ServicePurpose,
    WebhookEndpoint,
)
from congdan.exchange.policy import Authorization
from congdan.registry.models import CivilEvent, CivilEventKind

if TYPE_CHECKING:
    from congdan.core.models import User

logger = logging.getLogger(__name__)

SERVICE = "person-events"
FEED_LAG = dt.timedelta(seconds=5)
MAX_PAGE = 1000
DISPATCH_BATCH = 500  # events turned into deliveries per endpoint and poll
DELIVER_BATCH = 50  # deliveries attempted per poll
TIMEOUT = 5.0  # seconds per POST
# A claimed delivery is not claimed again by another worker while this poll may still
# be working through its batch (every POST timing out, plus a margin).
LEASE = dt.timedelta(seconds=DELIVER_BATCH * TIMEOUT + 60)
MAX_RESPONSE = 64 * 1024  # bytes of a receiver's answer read (and dropped)
SIGNATURE_TOLERANCE = 300  # seconds
MAX_URL = 500

# Registry event kinds behind each published kind (the grant's fields).
KINDS: dict[str, tuple[str, ...]] = {
    "death": (CivilEventKind.DEATH,),
    "residence_change": (CivilEventKind.RESIDENCE_CHANGE, CivilEventKind.TEMPORARY_RESIDENCE),
    "name_change": (CivilEventKind.NAME_CHANGE,),
}
PUBLISHED = {registry: kind for kind, sources in KINDS.items() for registry in sources}


# --- which events a member may receive ---------------------------------------------------


@dataclass(frozen=True)
class Entitlement:
    """A purpose the member may receive events for, and the kinds it covers."""

    purpose: ServicePurpose
    kinds: frozenset[str]


@dataclass(frozen=True)
class Selected:
    event_id: int
    person_id: int
    kind: str  # published kind
    purpose: ServicePurpose
    payload: dict[str, Any]


@dataclass(frozen=True)
class Selection:
    events: list[Selected]
    cursor: int


def _service() -> DataService:
    return policy.service_by_code(SERVICE)


def member_entitlements(member: Member, *, today: dt.date | None = None) -> list[Entitlement]:
    """The member's grants on ``person-events`` valid today (any of its subsystems:
    notifications go to the member), purposes without consent first."""
    day = today or timezone.localdate()
    grants = (
        AccessGrant.objects.filter(
            member=member,
            service__code=SERVICE,
            revoked_at__isnull=True,
            valid_from__lte=day,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("purpose")
        .order_by("pk")
    )
    merged: dict[int, tuple[ServicePurpose, set[str]]] = {}
    for grant in grants:
        entry = merged.setdefault(grant.purpose_id, (grant.purpose, set()))
        entry[1].update(kind for kind in grant.fields if kind in KINDS)
    out = [Entitlement(p, frozenset(kinds)) for p, kinds in merged.values() if kinds]
    out.sort(key=lambda e: e.purpose.requires_consent)
    return out


def _payload(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": PUBLISHED[row["kind"]],
        "id_number": row["person__id_number"],
        "event_date": row["event_date"].isoformat(),
        "recorded_at": row["recorded_at"].isoformat(),
    }


def _consents(
    member: Member, entitlements: Sequence[Entitlement], person_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """(person id, purpose id) pairs with an active consent, for purposes needing one."""
    purposes = [e.purpose.pk for e in entitlements if e.purpose.requires_consent]
    ids = set(person_ids)
    if not purposes or not ids:
        return set()
    rows = Consent.objects.filter(
        member=member,
        service__code=SERVICE,
        purpose_id__in=purposes,
        person_id__in=ids,
        revoked_at__isnull=True,
        valid_until__gt=timezone.now(),
    ).values_list("person_id", "purpose_id")
    return {(int(p), int(q)) for p, q in rows}


def _purpose_for(
    entitlements: Sequence[Entitlement], kind: str, person_id: int, consents: set[tuple[int, int]]
) -> ServicePurpose | None:
    for entitlement in entitlements:
        if kind not in entitlement.kinds:
            continue
        purpose = entitlement.purpose
        if not purpose.requires_consent or (person_id, purpose.pk) in consents:
            return purpose
    return None


def select_events(
    member: Member,
    entitlements: Sequence[Entitlement],
    *,
    after: int,
    limit: int,
    now: dt.datetime | None = None,
) -> Selection:
    """The member's next events after the cursor ``after`` (module docstring), at most
    ``limit``, and the cursor after them."""
    kinds = {kind for e in entitlements for kind in e.kinds}
    registry_kinds = [registry for kind in sorted(kinds) for registry in KINDS[kind]]
    if not registry_kinds:
        return Selection([], after)
    cutoff = (now or timezone.now()) - FEED_LAG
    related = Relationship.objects.filter(
        member=member,
        person_id=OuterRef("person_id"),
        ended_at__isnull=True,
        created_at__lte=OuterRef("recorded_at"),
    )
    rows = list(
        CivilEvent.objects.filter(pk__gt=after, kind__in=registry_kinds)
        .filter(Exists(related))
        .order_by("pk")
        .values("id", "kind", "person_id", "person__id_number", "event_date", "recorded_at")[:limit]
    )
    visible = []
    for row in rows:
        if row["recorded_at"] > cutoff:
            break  # this and later events wait for the lag
        visible.append(row)
    consents = _consents(member, entitlements, (row["person_id"] for row in visible))
    events = []
    for row in visible:
        kind = PUBLISHED[row["kind"]]
        purpose = _purpose_for(entitlements, kind, row["person_id"], consents)
        if purpose is not None:
            events.append(Selected(row["id"], row["person_id"], kind, purpose, _payload(row)))
    return Selection(events, visible[-1]["id"] if visible else after)


# --- the pull feed -------------------------------------------------------------------------


def feed(
    auth: Authorization, *, after: int = 0, limit: int = 100, now: dt.datetime | None = None
) -> dict[str, Any]:
    """One page of the pull feed for an authorized ``person-events`` call. The page's
    events are logged (one bulk entry set per kind, so each citizen's entry names only
    the kind of change that concerned them)."""
    if auth.service.code != SERVICE:
        raise ValidationFailed(
            _("Nguồn tin thay đổi chỉ dùng với dịch vụ %(service)s.") % {"service": SERVICE},
            code="wrong_service_kind",
        )
    if after < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            _("Con trỏ phải ≥ 0 và số sự kiện mỗi trang từ 1 đến %(max)d.") % {"max": MAX_PAGE},
            code="invalid_cursor",
        )
    entitlement = Entitlement(auth.purpose, frozenset(k for k in auth.fields if k in KINDS))
    selection = select_events(auth.caller.member, [entitlement], after=after, limit=limit, now=now)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for event in selection.events:
        by_kind[event.kind].append(event.person_id)
    for kind, person_ids in by_kind.items():
        policy.log(auth, person_ids, outcome=Outcome.OK, fields=(kind,))
    return {"events": [e.payload for e in selection.events], "next": selection.cursor}


# --- webhook endpoints -----------------------------------------------------------------------


def check_url(url: str) -> str:
    """An absolute ``http``/``https`` URL with a host, else ``invalid_webhook_url``."""
    value = (url or "").strip()
    try:
        parts = urlsplit(value)
        ok = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and len(value) <= MAX_URL
            and value.isascii()
            and value.isprintable()
            and " " not in value
        )
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise ValidationFailed(
            _("Địa chỉ nhận thông báo phải là URL http hoặc https đầy đủ, tối đa %(max)d ký tự.")
            % {"max": MAX_URL},
            code="invalid_webhook_url",
            field="url",
        )
    return value


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def _check_actor(actor: User | None) -> None:
    if actor is not None:  # None: the system (a management command, the demo seed)
        check_perm(actor, Perm.EXCHANGE_MANAGE)


def _new_secret() -> str:
    return secrets.token_hex(32)


def create_endpoint(actor: User | None, *, member: Member, url: str) -> NewEndpoint:
    """A webhook endpoint for ``member``; it receives events recorded from now on. The
    secret is returned here only."""
    _check_actor(actor)
    checked = check_url(url)
    secret = _new_secret()
    with transaction.atomic():
        start = CivilEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        endpoint = WebhookEndpoint.objects.create(
            member=member, url=checked, secret=secret, cursor=start
        )
        record_change(
            actor,
            action="exchange_webhook_create",
            obj=endpoint,
            changes={"member": [None, member.code], "url": [None, checked]},
        )
    return NewEndpoint(endpoint, secret)


def rotate_secret(actor: User | None, *, endpoint: WebhookEndpoint) -> str:
    """A new secret for the endpoint (returned once); pending deliveries use it."""
    _check_actor(actor)
    secret = _new_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.secret = secret
        locked.save(update_fields=["secret"])
        record_change(
            actor, action="exchange_webhook_rotate", obj=locked, changes={"secret": ["…", "…"]}
        )
    endpoint.secret = secret
    return secret


def set_endpoint_active(actor: User | None, *, endpoint: WebhookEndpoint, active: bool) -> None:
    _check_actor(actor)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.active == active:
            return
        locked.active = active
        locked.save(update_fields=["active"])
        record_change(
            actor,
            action="exchange_webhook_activate" if active else "exchange_webhook_deactivate",
            obj=locked,
            changes={"active": [not active, active]},
        )
    endpoint.active = active


# --- signatures ------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Congdan-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE,
) -> bool:
    """What a receiver does: the header's ``v1`` is the HMAC of ``"<t>." + body`` and
    ``t`` is within ``tolerance`` seconds of now."""
    parts: dict[str, list[str]] = defaultdict(list)
    for item in header.split(","):
        name, _sep, value = item.strip().partition("=")
        parts[name].append(value)
    try:
        timestamp = int(parts["t"][0])
    except (IndexError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in parts["v1"])


# --- pollers ---------------------------------------------------------------------------------


def _lock(queryset: Any) -> Any:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def dispatch_events(now: dt.datetime | None = None) -> int:
    """Worker poller: create the deliveries of new events for every active endpoint of
    an active member. Returns the number of deliveries created."""
    created = 0
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(active=True, member__status=MemberStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    today = timezone.localdate(now) if now is not None else timezone.localdate()
    for endpoint_id in endpoint_ids:
        with transaction.atomic():
            endpoint = (
                _lock(WebhookEndpoint.objects.filter(pk=endpoint_id, active=True))
                .select_related("member")
                .first()
            )
            if endpoint is None:  # another worker holds it, or it was deactivated
                continue
            entitlements = member_entitlements(endpoint.member, today=today)
            if not entitlements:
                continue
            selection = select_events(
                endpoint.member,
                entitlements,
                after=endpoint.cursor,
                limit=DISPATCH_BATCH,
                now=now,
            )
            if selection.events:
                made = Delivery.objects.bulk_create(
                    [
                        Delivery(
                            endpoint=endpoint,
                            event_id=event.event_id,
                            payload=event.payload,
                            next_attempt_at=now or timezone.now(),
                        )
                        for event in selection.events
                    ],
                    ignore_conflicts=True,
                )
                created += len(made)
            if selection.cursor != endpoint.cursor:
                endpoint.cursor = selection.cursor
                endpoint.save(update_fields=["cursor"])
    return created


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a place to send the event to: never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def _private_address(host: str, port: int) -> bool:
    """Whether ``host`` resolves to an address that is not on the public internet
    (loopback, private, link-local, reserved …), or does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return True
    return False


def _refusal(url: str) -> str:
    """Why ``url`` may not be called ("" when it may)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "unsupported_url_scheme"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not settings.EXCHANGE_WEBHOOK_ALLOW_PRIVATE and _private_address(parts.hostname or "", port):
        return "refused_private_address"
    return ""


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST ``body``; (status code or None, short error text; empty when 2xx).

    Addresses off the public internet are refused unless
    ``EXCHANGE_WEBHOOK_ALLOW_PRIVATE`` (a webhook must not reach the internal network).
    """
    refusal = _refusal(url)
    if refusal:
        return None, refusal
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 -- scheme checked above
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            response.read(MAX_RESPONSE)
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
        exc.close()
        return int(exc.code), f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return None, f"URLError: {type(exc.reason).__name__}"[:300]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, type(exc).__name__[:300]
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}"


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: exponential, with jitter."""
    base = settings.EXCHANGE_WEBHOOK_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    jitter = random.uniform(0, 0.2 * base)  # noqa: S311 -- spreading retries, not security
    return dt.timedelta(seconds=base + jitter)


def _claim(now: dt.datetime) -> list[Delivery]:
    with transaction.atomic():
        due = list(
            _lock(
                Delivery.objects.filter(
                    status=DeliveryStatus.PENDING, next_attempt_at__lte=now
                ).order_by("next_attempt_at", "pk")
            ).select_related("endpoint", "endpoint__member")[:DELIVER_BATCH]
        )
        if due:
            Delivery.objects.filter(pk__in=[d.pk for d in due]).update(next_attempt_at=now + LEASE)
    return due


class _Entitlements:
    """Per poll: each member's entitlements, and checks of one delivery against them."""

    def __init__(self) -> None:
        self._by_member: dict[int, list[Entitlement]] = {}

    def purpose(self, delivery: Delivery, person_id: int | None) -> ServicePurpose | None:
        member = delivery.endpoint.member
        if person_id is None or not member.is_active:
            return None
        if member.pk not in self._by_member:
            self._by_member[member.pk] = member_entitlements(member)
        entitlements = self._by_member[member.pk]
        kind = str(delivery.payload.get("kind", ""))
        if not Relationship.objects.filter(
            member=member, person_id=person_id, ended_at__isnull=True
        ).exists():
            return None
        consents = _consents(member, entitlements, [person_id])
        return _purpose_for(entitlements, kind, person_id, consents)


def _log_delivered(delivery: Delivery, person_id: int, purpose: ServicePurpose) -> None:
    member = delivery.endpoint.member
    log_access(
        None,
        person_ids=[person_id],
        channel=Channel.EXCHANGE,
        view=SERVICE,
        fields=(str(delivery.payload.get("kind", "")),),
        purpose=purpose.code,
        on_behalf_of=(f"{member.identifier} webhook", member.code),
        subsystem=member.identifier,
        outcome=Outcome.OK,
        hidden_until=(
            timezone.localdate() + dt.timedelta(days=purpose.hidden_days)
            if purpose.hidden_days
            else None
        ),
    )


def _finish(delivery: Delivery, **values: Any) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(**values)
    for name, value in values.items():
        setattr(delivery, name, value)


def attempt(
    delivery: Delivery, *, now: dt.datetime, entitlements: _Entitlements | None = None
) -> bool:
    """One attempt at one delivery; True when delivered."""
    checks = entitlements or _Entitlements()
    endpoint = delivery.endpoint
    person_id = (
        CivilEvent.objects.filter(pk=delivery.event_id).values_list("person_id", flat=True).first()
    )
    purpose = checks.purpose(delivery, person_id) if endpoint.active else None
    if purpose is None or person_id is None:
        _finish(
            delivery,
            status=DeliveryStatus.FAILED,
            last_error="not_entitled" if endpoint.active else "endpoint_inactive",
            next_attempt_at=now,
        )
        return False
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "congdan-webhooks/1",
        "X-Congdan-Event-Id": str(delivery.event_id),
        "X-Congdan-Signature": sign(endpoint.secret, body, int(time.time())),
    }
    status, error = post(endpoint.url, body, headers)
    attempts = delivery.attempts + 1
    if error == "":
        with transaction.atomic():
            _finish(
                delivery,
                status=DeliveryStatus.DELIVERED,
                attempts=attempts,
                last_status_code=status,
                last_error="",
                delivered_at=timezone.now(),
            )
            _log_delivered(delivery, int(person_id), purpose)
        return True
    given_up = attempts >= settings.EXCHANGE_WEBHOOK_ATTEMPTS
    _finish(
        delivery,
        status=DeliveryStatus.FAILED if given_up else DeliveryStatus.PENDING,
        attempts=attempts,
        last_status_code=status,
        last_error=error[:300],
        next_attempt_at=now if given_up else now + backoff(attempts),
    )
    logger.info(
        "Webhook delivery %s (event %s) failed, attempt %d: %s",
        delivery.pk,
        delivery.event_id,
        attempts,
        error,
    )
    return False


def deliver_due(now: dt.datetime | None = None) -> int:
    """Worker poller: attempt up to ``DELIVER_BATCH`` due deliveries. Returns the number
    of attempts made."""
    moment = now or timezone.now()
    due = _claim(moment)
    checks = _Entitlements()
    for delivery in due:
        attempt(delivery, now=moment, entitlements=checks)
    return len(due)

"""The verification service the verifier pages and the API call.

``verify_presentation`` checks what a QR code or a pasted text carries with
``verifier.verify`` (our agencies' keys and live status lists, trusted foreign issuers'
fetched or cached ones), then, when the key-binding JWT is addressed to one of OUR share
links (``{CONGDAN_PUBLIC_URL}/v/<token>/``, nonce = the token), looks at the share: a
revoked share fails with ``share_revoked``, an expired one with ``presentation_expired``.

Every verification of one of our documents is written to the holder's data tracker (an
access-log entry: who verified, which fields they received) and to the document's history
(a ``VERIFIED`` event with the result). Input that cannot be read writes nothing; the
same verification again within ``REPEAT_WINDOW`` (a link-preview bot, a reload) is
counted on the first event (``detail["repeats"]``) instead of being written again.

A failing verdict because the share was withdrawn, has expired or is not ours to show
(``share_revoked``, ``presentation_expired``, ``wrong_audience``) is ``redacted``: only
the outcome and the reason, no document details.

The public pages and the API are throttled per client address (``throttle``):
``WALLET_VERIFY_RATE`` verifications per minute, counted in the cache like the login
IP throttle (docs/decisions/0007).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import time
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import ValidationFailed
from congdan.wallet import keys, sdjwt, sources, verifier
from congdan.wallet.jose import JoseError
from congdan.wallet.models import Document, DocumentEvent, EventKind, Share
from congdan.wallet.verifier import Check, Verdict

MAX_INPUT = 200_000  # characters; a portrait-bearing presentation is about 20 kB
VIEW = "wallet_verify"
PURPOSE = "verification"
SHARE_PATH = re.compile(r"/v/(?P<token>[A-Za-z0-9_-]{8,64})/?")
MAX_LABEL = 120  # characters of a verifier's name
REPEAT_WINDOW = dt.timedelta(seconds=60)
DEFAULT_RATE = 60  # verifications per client address per minute
RATE_WINDOW = 60  # seconds
# Failures about the share itself: the holder withdrew it, it ran out, or it is not ours.
# The verdict then shows nothing about the document.
REDACTED = frozenset({"share_revoked", "presentation_expired", "wrong_audience"})

# Outcomes that are not a verdict on a presentation (the link page's own).
NOT_FOUND_MESSAGE = _("Không tìm thấy lượt chia sẻ này: đường dẫn sai hoặc không tồn tại.")


def fail(verdict: Verdict, code: str, check: Check | None = None) -> Verdict:
    """Mark ``verdict`` failed with ``code`` (a ``verifier.FAILURES`` code); the claims
    are dropped: a failed verification shows no data."""
    if check is not None:
        verdict.checks.append(check)
    verdict.valid = False
    verdict.code = code
    verdict.message = str(verifier.FAILURES[code])
    verdict.claims = {}
    return verdict


def clean_label(value: object) -> str:
    """A verifier's free-text name: whitespace stripped and collapsed; ValidationFailed
    (field ``verifier``) for control characters or more than ``MAX_LABEL`` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(
            _("Tên đơn vị xác minh phải là chuỗi ký tự."), code="invalid_request", field="verifier"
        )
    # Control and format characters: NUL, tabs and line breaks, escapes, bidi overrides …
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise ValidationFailed(
            _("Tên đơn vị xác minh có ký tự điều khiển không được phép."),
            code="invalid_request",
            field="verifier",
        )
    cleaned = " ".join(unicodedata.normalize("NFC", value).split())
    if len(cleaned) > MAX_LABEL:
        raise ValidationFailed(
            _("Tên đơn vị xác minh dài quá %(n)d ký tự.") % {"n": MAX_LABEL},
            code="invalid_request",
            field="verifier",
        )
    return cleaned


def _rate() -> int:
    try:
        return max(1, int(getattr(settings, "WALLET_VERIFY_RATE", DEFAULT_RATE)))
    except (TypeError, ValueError):
        return DEFAULT_RATE


def _client_key(ip: str) -> str:
    """The counted unit: an IPv4 address, or the /64 of an IPv6 one (one subscriber)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def throttle(ip: str) -> int:
    """Count one verification from ``ip``; 0 when allowed, else the seconds until the
    current minute's window ends (for Retry-After). ``WALLET_VERIFY_RATE`` per minute."""
    now = time.time()
    window = int(now // RATE_WINDOW)
    key = f"congdan:wallet-verify-ip:{_client_key(ip)}:{window}"
    if cache.add(key, 1, RATE_WINDOW + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, RATE_WINDOW + 5)
            count = 1
    if count <= _rate():
        return 0
    return max(1, int((window + 1) * RATE_WINDOW - now + 0.999))


def redacted(verdict: Verdict) -> Verdict:
    """``verdict`` as it may be shown: for a failure in ``REDACTED``, only the outcome,
    the reason and the share check; any other verdict unchanged."""
    if verdict.valid or verdict.code not in REDACTED:
        return verdict
    return Verdict(
        valid=False,
        code=verdict.code,
        message=verdict.message,
        checks=[check for check in verdict.checks if check.name == "share"],
    )


def _worse(verdict: Verdict, code: str) -> bool:
    """True when ``code`` should replace the verdict's outcome (the verifier reports
    the first failure in ``FAILURES`` order)."""
    if verdict.valid:
        return True
    order = list(verifier.FAILURES)
    return verdict.code in order and order.index(code) < order.index(verdict.code)


def share_url(token: str) -> str:
    """The audience of a share's presentation."""
    return settings.CONGDAN_PUBLIC_URL + reverse("wallet:share_link", args=[token])


def share_token_of(audience: str) -> str | None:
    """The token when ``audience`` is one of our share URLs."""
    prefix = settings.CONGDAN_PUBLIC_URL
    if not isinstance(audience, str) or not audience.startswith(prefix + "/v/"):
        return None
    match = SHARE_PATH.fullmatch(audience[len(prefix) :])
    return match.group("token") if match else None


def share_token_in_text(text: str) -> str | None:
    """The token when a pasted text is a share link (ours, or just its path)."""
    text = text.strip()
    if "~" in text or len(text) > 500:
        return None
    prefix = settings.CONGDAN_PUBLIC_URL
    path = text[len(prefix) :] if text.startswith(prefix) else text
    if path.startswith(("http://", "https://")):
        return None
    match = SHARE_PATH.fullmatch(path)
    return match.group("token") if match else None


def _presented_names(text: str) -> list[str]:
    """The names of the claims a presentation carries (disclosed or in clear): what
    the verifier received, whatever the verdict."""
    try:
        parsed = sdjwt.split(text)
        disclosed = sdjwt.disclosed_claims(parsed)
    except JoseError:
        return []
    clear = [
        k
        for k in parsed.payload
        if k not in sdjwt.RESERVED and k not in {"issuer_name", "document_number"}
    ]
    return [*clear, *disclosed]


def _our_document(verdict: Verdict) -> Document | None:
    if not verdict.document_number:
        return None
    document = (
        Document.objects.select_related("issuer").filter(number=verdict.document_number).first()
    )
    if document is None or document.issuer is None:
        return None
    if keys.issuer_id(document.issuer) != verdict.issuer:
        return None  # a foreign document that happens to use the same number
    return document


def _note_caches(verdict: Verdict, notes: sources.CacheNotes) -> None:
    for iss, fetched_at in notes.keys.items():
        if iss == verdict.issuer:
            verdict.checks.append(
                Check(
                    "keys",
                    True,
                    f"keys from cache, fetched at {fetched_at.isoformat(timespec='seconds')}",
                )
            )
    if verdict.issuer in notes.unreachable:
        verdict.checks.append(Check("keys", False, "issuer unreachable, no cached keys"))
    for uri, fetched_at in notes.statuses.items():
        for check in verdict.checks:
            if check.name == "status":
                check.detail = (
                    f"{check.detail or 'status'}; list from cache, fetched at "
                    f"{fetched_at.isoformat(timespec='seconds')} ({uri})"
                )


def _check_share(verdict: Verdict, share: Share | None, token: str) -> None:
    now = timezone.now()
    if share is None or verdict.nonce != token:
        if _worse(verdict, "wrong_audience"):
            fail(verdict, "wrong_audience", Check("share", False, "unknown share"))
        return
    if share.revoked_at is not None:
        if _worse(verdict, "share_revoked") or verdict.code == "presentation_expired":
            fail(verdict, "share_revoked", Check("share", False, "revoked"))
        return
    if share.expires_at <= now:
        if _worse(verdict, "presentation_expired"):
            fail(verdict, "presentation_expired", Check("share", False, "expired"))
        return
    verdict.checks.append(Check("share", True))


def _record(
    verdict: Verdict,
    text: str,
    *,
    share: Share | None,
    channel_label: str,
    verifier_label: str,
) -> None:
    document = _our_document(verdict)
    if document is None:
        return
    names = _presented_names(text)
    label = f"verifier:{verifier_label}" if verifier_label else "verifier:anonymous"
    label = label[:150]
    shared = share if share is not None and share.document_id == document.pk else None
    with transaction.atomic():
        # Locked: two identical verifications at once are one event and one count.
        Document.objects.select_for_update().filter(pk=document.pk).first()
        since = timezone.now() - REPEAT_WINDOW
        for event in DocumentEvent.objects.select_for_update().filter(
            document=document,
            kind=EventKind.VERIFIED,
            share=shared,
            actor_label=label,
            at__gte=since,
        ):
            detail = event.detail if isinstance(event.detail, dict) else {}
            if detail.get("result") == verdict.code and detail.get("claims") == names:
                repeats = detail.get("repeats")
                detail["repeats"] = (repeats if isinstance(repeats, int) else 0) + 1
                DocumentEvent.objects.filter(pk=event.pk).update(detail=detail)
                return
        log_access(
            None,
            person_ids=[document.holder_id],
            channel=Channel.WALLET,
            view=VIEW,
            fields=names,
            purpose=PURPOSE,
            on_behalf_of=(label, ""),
        )
        DocumentEvent.objects.create(
            document=document,
            kind=EventKind.VERIFIED,
            actor_label=label,
            share=shared,
            detail={"result": verdict.code, "claims": names, "channel": channel_label[:40]},
        )


def _run(
    text: str,
    *,
    channel_label: str,
    verifier_label: str,
    share: Share | None = None,
    fetcher: sources.Fetcher = sources.fetch,
) -> Verdict:
    found = sources.default_sources(fetcher=fetcher)
    verdict = verifier.verify(text, keys=found.keys, statuses=found.statuses)
    _note_caches(verdict, found.notes)
    token = share_token_of(verdict.audience) if verdict.audience else None
    if token is not None:
        if share is None or share.token != token:
            share = Share.objects.filter(token=token).first()
        _check_share(verdict, share, token)
    elif share is not None:
        # A stored share whose presentation is addressed elsewhere: not ours to show.
        if _worse(verdict, "wrong_audience"):
            fail(verdict, "wrong_audience", Check("share", False, "audience"))
        share = None
    _record(verdict, text, share=share, channel_label=channel_label, verifier_label=verifier_label)
    return verdict


def malformed() -> Verdict:
    verdict = Verdict(valid=False, code="", message="")
    return fail(verdict, "malformed", Check("format", False))


def verify_presentation(
    text: str,
    *,
    channel_label: str,
    verifier_label: str = "",
    fetcher: sources.Fetcher = sources.fetch,
) -> Verdict:
    """The verdict on a presentation (or a credential's text) pasted or scanned by a
    verifier; input longer than ``MAX_INPUT`` or not text is ``malformed``."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_INPUT:
        return malformed()
    verifier_label = clean_label(verifier_label)
    token = share_token_in_text(text)
    if token is not None:
        _share, verdict = verify_share(
            token, channel_label=channel_label, verifier_label=verifier_label
        )
        return verdict
    return redacted(
        _run(
            text.strip(),
            channel_label=channel_label,
            verifier_label=verifier_label,
            fetcher=fetcher,
        )
    )


def verify_share(
    token: str, *, channel_label: str = "link", verifier_label: str = ""
) -> tuple[Share | None, Verdict]:
    """(the share, the live verdict on its stored presentation) for the link page;
    (None, a "not found" verdict) for an unknown token."""
    share = (
        Share.objects.select_related("document").filter(token=token).first()
        if isinstance(token, str) and 0 < len(token) <= 64
        else None
    )
    if share is None:
        verdict = Verdict(valid=False, code="not_found", message=str(NOT_FOUND_MESSAGE))
        return None, verdict
    verdict = _run(
        share.presentation,
        channel_label=channel_label,
        verifier_label=clean_label(verifier_label),
        share=share,
    )
    return share, redacted(verdict)


__all__ = [
    "MAX_INPUT",
    "MAX_LABEL",
    "REDACTED",
    "clean_label",
    "fail",
    "malformed",
    "redacted",
    "share_token_in_text",
    "share_token_of",
    "share_url",
    "throttle",
    "verify_presentation",
    "verify_share",
]

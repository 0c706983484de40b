"""The verification service the verifier pages and the API call.

``verify_presentation`` checks what a QR code or a pasted text carries with
``verifier.verify`` (our agencies' keys and live status lists, trusted foreign issuers'
fetched or cached ones), then, when the key-binding JWT is addressed to one of OUR share
links (``{CONGDAN_PUBLIC_URL}/v/<token>/``, nonce = the token), looks at the share: a
revoked share fails with ``share_revoked``, an expired one with ``presentation_expired``.

Every verification of one of our documents is written to the holder's data tracker (an
access-log entry: who verified, which fields they received) and to the document's history
(a ``VERIFIED`` event with the result). Input that cannot be read writes nothing.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.wallet import keys, sdjwt, sources, verifier
from congdan.wallet.jose import JoseError
from congdan.wallet.models import Document, DocumentEvent, EventKind, Share
from congdan.wallet.verifier import Check, Verdict

MAX_INPUT = 200_000  # characters; a portrait-bearing presentation is about 20 kB
VIEW = "wallet_verify"
PURPOSE = "verification"
SHARE_PATH = re.compile(r"/v/(?P<token>[A-Za-z0-9_-]{8,64})/?")

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
    label = (
        f"verifier:{verifier_label.strip()[:120]}"
        if verifier_label.strip()
        else ("verifier:anonymous")
    )
    with transaction.atomic():
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
            actor_label=label[:150],
            share=share if share is not None and share.document_id == document.pk else None,
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
    token = share_token_in_text(text)
    if token is not None:
        _share, verdict = verify_share(
            token, channel_label=channel_label, verifier_label=verifier_label
        )
        return verdict
    return _run(
        text.strip(),
        channel_label=channel_label,
        verifier_label=verifier_label,
        fetcher=fetcher,
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
        verifier_label=verifier_label,
        share=share,
    )
    return share, verdict


__all__ = [
    "MAX_INPUT",
    "fail",
    "malformed",
    "share_token_in_text",
    "share_token_of",
    "share_url",
    "verify_presentation",
    "verify_share",
]

"""Sharing a document: chosen fields, by a time-limited link and a QR code (DESIGN rule 1).

The citizen (the holder, or a parent for a child under 18: the visibility rule of
``selectors``) picks the claims to disclose and how long the share lasts. The wallet
signs a presentation with the holder's custodial key, bound to the share: its audience is
the share's URL (``/v/<token>/``), its nonce the token, its ``exp`` the share's end. The
QR code carries that presentation itself when it fits (offline checking), else the link.

A compact-JWS document (a judicial record certificate …) is shared whole.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access, record_change
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import User
from congdan.registry.models import Person
from congdan.wallet import credentials, selectors
from congdan.wallet.models import (
    CredentialFormat,
    Document,
    DocumentEvent,
    DocumentKind,
    EventKind,
    Share,
)
from congdan.wallet.services.issuing import refresh_age_claims

TOKEN_BYTES = 24
MIN_MINUTES = 1
MAX_NOTE = 120
SHARE_VIEW = "wallet_share"
SHARE_PURPOSE = "share"


def share_path(token: str) -> str:
    """The share's link path: the verifier's page for it (``wallet:share_link``)."""
    try:
        return reverse("wallet:share_link", args=[token])
    except NoReverseMatch:  # pragma: no cover -- the verifier pages are not installed
        return f"/v/{token}/"


def share_url(token: str) -> str:
    return f"{settings.CONGDAN_PUBLIC_URL}{share_path(token)}"


def _user_of(person: Person) -> User | None:
    account = getattr(person, "eid_account", None)
    return account.user if account is not None else None


def _visible_locked(person: Person, number: str) -> Document:
    document = (
        selectors.visible_documents(person)
        .select_for_update(of=("self",))
        .filter(number=number)
        .first()
    )
    if document is None:
        raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
    return document


def _expiry(valid_minutes: int | None, expires_at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if (valid_minutes is None) == (expires_at is None):
        raise ValidationFailed(_("Chọn thời hạn chia sẻ."), code="required", field="valid_minutes")
    if valid_minutes is not None:
        if isinstance(valid_minutes, bool) or not isinstance(valid_minutes, int):
            raise ValidationFailed(
                _("Thời hạn chia sẻ không hợp lệ."), code="invalid", field="valid_minutes"
            )
        expires_at = now + dt.timedelta(minutes=valid_minutes)
    assert expires_at is not None  # noqa: S101 -- one of the two was given (checked above)
    if timezone.is_naive(expires_at):
        raise ValidationFailed(
            _("Thời hạn chia sẻ không hợp lệ."), code="invalid", field="valid_minutes"
        )
    expires_at = expires_at.replace(microsecond=0)
    if expires_at - now < dt.timedelta(minutes=MIN_MINUTES) - dt.timedelta(seconds=1):
        raise ValidationFailed(
            _("Thời hạn chia sẻ tối thiểu là 1 phút."), code="too_short", field="valid_minutes"
        )
    max_days = int(settings.WALLET_SHARE_MAX_DAYS)
    if expires_at - now > dt.timedelta(days=max_days):
        raise ValidationFailed(
            _("Thời hạn chia sẻ tối đa là %(days)d ngày.") % {"days": max_days},
            code="too_long",
            field="valid_minutes",
        )
    return expires_at


def _shareable(document: Document) -> None:
    if document.kind != DocumentKind.ISSUED or not document.credential:
        raise ValidationFailed(
            _(
                "Chỉ chia sẻ được giấy tờ do cơ quan nhà nước cấp có chữ ký số; bản chụp tải "
                "lên không chia sẻ được để xác minh."
            ),
            code="not_shareable",
        )
    status = document.effective_status
    if status != "valid":
        messages = {
            "revoked": _("Giấy tờ đã bị thu hồi: không chia sẻ được."),
            "suspended": _("Giấy tờ đang bị tạm đình chỉ: không chia sẻ được."),
            "expired": _("Giấy tờ đã hết hạn: không chia sẻ được."),
        }
        raise Conflict(
            messages.get(status, _("Giấy tờ không còn hiệu lực.")), code=f"document_{status}"
        )


@contextmanager
def _readable_credential() -> Iterator[None]:
    """A stored credential that cannot be parsed (damaged, oversized: ``JoseError``, a
    ValueError) makes the document unshareable: a Conflict, never a 500."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise Conflict(
            _("Không đọc được chứng thư số lưu trong kho của giấy tờ này nên không chia sẻ được."),
            code="credential_unreadable",
        ) from exc


def _chosen_claims(document: Document, claims: list[str]) -> list[str]:
    """The claims to disclose, in the credential's order; a JWS document: all of them."""
    if document.credential_format == CredentialFormat.JWS:
        return list(credentials.all_claims(document))
    if not isinstance(claims, list | tuple) or not all(isinstance(c, str) for c in claims):
        raise ValidationFailed(_("Chọn trường cần chia sẻ."), code="invalid", field="claims")
    if not claims:
        raise ValidationFailed(
            _("Chọn ít nhất một trường để chia sẻ."), code="required", field="claims"
        )
    available = credentials.disclosable(document)
    unknown = sorted(set(claims) - set(available))
    if unknown:
        raise ValidationFailed(
            _("Giấy tờ không có trường %(names)s.") % {"names": ", ".join(unknown)[:200]},
            code="unknown_claim",
            field="claims",
        )
    wanted = set(claims)
    return [name for name in available if name in wanted]


def create_share(
    person: Person,
    *,
    number: str,
    claims: list[str],
    valid_minutes: int | None = None,
    expires_at: dt.datetime | None = None,
    note: str = "",
) -> Share:
    """Share ``claims`` of a document the citizen may see, until ``expires_at`` (or for
    ``valid_minutes``). Raises NotFound (not visible), ValidationFailed (claims, validity,
    an upload) or Conflict (revoked, suspended or expired document)."""
    note = " ".join(str(note).split())
    if len(note) > MAX_NOTE:
        raise ValidationFailed(
            _("Ghi chú quá dài (tối đa %(n)d ký tự).") % {"n": MAX_NOTE},
            code="too_long",
            field="note",
        )
    user = _user_of(person)
    with transaction.atomic():
        document = _visible_locked(person, number)
        _shareable(document)
        with _readable_credential():
            # An ID card issued at 14 says "over 18" once its holder is 18: re-signed in
            # place (same number, same status index) before the claims are chosen.
            refresh_age_claims(document)
            chosen = _chosen_claims(document, claims)
        until = _expiry(valid_minutes, expires_at)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with _readable_credential():
            presentation = credentials.present(
                document, claims=chosen, aud=share_url(token), nonce=token, expires_at=until
            )
        share = Share.objects.create(
            token=token,
            document=document,
            shared_by=person,
            claims=chosen,
            presentation=presentation,
            fits_qr=len(presentation) <= credentials.QR_MAX,
            note=note,
            expires_at=until,
        )
        DocumentEvent.objects.create(
            document=document,
            kind=EventKind.SHARED,
            actor_label=(user.get_username() if user is not None else f"person:{person.pk}")[:150],
            share=share,
            detail={"claims": chosen, "expires_at": until.isoformat(), "note": note},
        )
        record_change(
            user,
            action="share_document",
            obj=share,
            person_id=document.holder_id,
            changes={
                "document": [None, document.number],
                "claims": [None, chosen],
                "expires_at": [None, until.isoformat()],
            },
            reason=note,
        )
        parent = document.holder_id != person.pk
        on_behalf_of: tuple[str, str] | None = None
        if user is None:
            on_behalf_of = (f"person:{person.pk}", "")
        elif parent:
            on_behalf_of = (f"parent:{user.get_username()}", "")
        log_access(
            user,
            person_ids=[document.holder_id],
            channel=Channel.WALLET,
            view=SHARE_VIEW,
            fields=chosen,
            purpose=SHARE_PURPOSE,
            on_behalf_of=on_behalf_of,
        )
    return share


def revoke_share(person: Person, *, share_id: int) -> Share:
    """End a share now (the verifier then says "share_revoked"). Only whoever made it or
    the document's holder may; someone who cannot see the document gets NotFound."""
    user = _user_of(person)
    with transaction.atomic():
        share = (
            Share.objects.select_for_update(of=("self",))
            .select_related("document")
            .filter(pk=share_id, document__in=selectors.visible_documents(person).values("pk"))
            .first()
        )
        if share is None:
            raise NotFound(_("Không tìm thấy lượt chia sẻ."), code="share_not_found")
        if person.pk not in (share.shared_by_id, share.document.holder_id):
            raise PermissionDenied(
                _("Chỉ người đã chia sẻ hoặc chủ giấy tờ mới thu hồi được lượt chia sẻ."),
                code="not_sharer",
            )
        if share.revoked_at is not None:
            raise Conflict(_("Lượt chia sẻ đã được thu hồi trước đó."), code="already_revoked")
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
        DocumentEvent.objects.create(
            document=share.document,
            kind=EventKind.SHARE_REVOKED,
            actor_label=(user.get_username() if user is not None else f"person:{person.pk}")[:150],
            share=share,
            detail={"claims": share.claims},
        )
        record_change(
            user,
            action="revoke_share",
            obj=share,
            person_id=share.document.holder_id,
            changes={"revoked_at": [None, share.revoked_at.isoformat()]},
        )
    return share


__all__ = ["create_share", "revoke_share", "share_path", "share_url"]

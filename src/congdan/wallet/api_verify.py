"""The public verification API: ``POST /api/v1/verify/`` with ``{"presentation": "..."}``
(what a QR code carries, or a share link) → the verdict, ``valid`` true or false.

No authentication (a hotel, a bank or an airline checks without an account); the
verification of one of our documents is written to the holder's data tracker under the
optional ``verifier`` name. Bad input is a 4xx ``{"code", "message"}``, never a 500.
Throttled per client address (``WALLET_VERIFY_RATE`` a minute): over it, 429
``rate_limited`` with Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from pydantic import Field

from congdan.core.errors import ValidationFailed
from congdan.identity.lockout import client_ip
from congdan.wallet import verification

router = Router(tags=["verify"])


class VerifyIn(Schema):
    presentation: str = Field(
        description="What the QR code carries (<JWT>~<disclosures>~<KB-JWT>) or a share link."
    )
    verifier: str = Field(
        default="",
        description=(
            "Optional name of the verifying organisation, shown to the holder: at most "
            f"{verification.MAX_LABEL} characters, no control characters."
        ),
    )


class CheckOut(Schema):
    name: str
    ok: bool | None
    detail: str


class VerdictOut(Schema):
    valid: bool
    code: str
    message: str
    issuer: str
    issuer_name: str
    vct: str
    document_number: str
    issued_at: int | None
    expires_at: int | None
    status: str
    claims: dict[str, Any]
    checks: list[CheckOut]


class ErrorOut(Schema):
    code: str
    message: str


@router.post(
    "/",
    auth=None,
    response={200: VerdictOut, 422: ErrorOut, 429: ErrorOut},
    summary="Verify a presentation",
)
def verify(request: HttpRequest, body: VerifyIn) -> dict[str, Any] | HttpResponse:
    """Signature, issuer, status, expiry, holder binding and, for a share of ours, the
    share's state; ``claims`` holds only the disclosed fields, and only when valid. A
    withdrawn, expired or foreign share answers ``valid``, ``code``, ``message`` and the
    share check, the document fields empty."""
    wait = verification.throttle(client_ip(request))
    if wait:
        response = JsonResponse(
            {
                "code": "rate_limited",
                "message": str(
                    _("Quá nhiều lượt xác minh từ địa chỉ này; vui lòng thử lại sau %(n)d giây.")
                    % {"n": wait}
                ),
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Retry-After"] = str(wait)
        return response
    label = verification.clean_label(body.verifier)
    text = body.presentation
    if not text.strip():
        raise ValidationFailed(
            _("Thiếu nội dung cần xác minh (presentation)."),
            code="required",
            field="presentation",
        )
    if len(text) > verification.MAX_INPUT:
        raise ValidationFailed(
            _("Nội dung cần xác minh quá dài (tối đa %(n)d ký tự).")
            % {"n": verification.MAX_INPUT},
            code="too_large",
            field="presentation",
        )
    verdict = verification.verify_presentation(text, channel_label="api", verifier_label=label)
    return verdict.as_dict()

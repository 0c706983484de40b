"""The public verification API: ``POST /api/v1/verify/`` with ``{"presentation": "..."}``
(what a QR code carries, or a share link) → the verdict, ``valid`` true or false.

No authentication (a hotel, a bank or an airline checks without an account); the
verification of one of our documents is written to the holder's data tracker under the
optional ``verifier`` name. Bad input is a 4xx ``{"code", "message"}``, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from pydantic import Field

from congdan.core.errors import ValidationFailed
from congdan.wallet import verification

router = Router(tags=["verify"])


class VerifyIn(Schema):
    presentation: str = Field(
        description="What the QR code carries (<JWT>~<disclosures>~<KB-JWT>) or a share link."
    )
    verifier: str = Field(
        default="",
        max_length=120,
        description="Optional name of the verifying organisation, shown to the holder.",
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


@router.post("/", auth=None, response=VerdictOut, summary="Verify a presentation")
def verify(request: HttpRequest, body: VerifyIn) -> dict[str, Any]:
    """Signature, issuer, status, expiry, holder binding and, for a share of ours, the
    share's state; ``claims`` holds only the disclosed fields, and only when valid."""
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
    verdict = verification.verify_presentation(
        text, channel_label="api", verifier_label=body.verifier
    )
    return verdict.as_dict()

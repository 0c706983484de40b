"""Helpers for the account tests: images in memory, codes from the outbox, login."""

from __future__ import annotations

import io
import re

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from PIL import Image

from congdan.core.models import OutboxMessage
from congdan.identity.models import EidAccount
from tests.identity.helpers import PASSWORD


def image_bytes(width: int = 400, height: int = 500, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 150, 120)).save(out, format=fmt)
    return out.getvalue()


def last_code(phone: str) -> str:
    message = OutboxMessage.objects.filter(recipient=phone).order_by("-id").first()
    assert message is not None, f"no SMS to {phone}"
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def totp_token(device: object) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)  # type: ignore[attr-defined]  # a TOTPDevice
    return f"{value:0{device.digits}d}"  # type: ignore[attr-defined]  # a TOTPDevice


def full_login(client: Client, account: EidAccount, password: str = PASSWORD, **extra: str) -> None:
    """Password, then the SMS code from the outbox (on-commit callbacks must run)."""
    response = client.post(
        reverse("identity:login"),
        {"username": account.user.username, "password": password},
        **extra,
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == reverse("identity:login_verify")
    response = client.post(
        reverse("identity:login_verify"), {"code": last_code(account.phone)}, **extra
    )
    assert response.status_code == 302, response.content[:500]

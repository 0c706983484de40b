"""Template helpers of the wallet pages: QR codes (server-rendered SVG) and the display
of a document's claims."""

from __future__ import annotations

import re
from typing import Any

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe

from congdan.wallet.doctypes import field_label

register = template.Library()

# A portrait claim is shown as an image only when it is a JPEG or PNG data URI.
_IMAGE_URI = re.compile(r"^data:image/(jpeg|png);base64,[A-Za-z0-9+/=\s]+$")


@register.filter
def is_image(value: Any) -> bool:
    return isinstance(value, str) and len(value) < 2_000_000 and bool(_IMAGE_URI.match(value))


@register.simple_tag
def qr_svg(text: str, title: str = "") -> SafeString:
    """An inline SVG QR code of ``text`` (error correction L, as large a version as the
    text needs), drawn on the server: no JavaScript, no external service."""
    code = segno.make_qr(text, error="l", boost_error=False)
    svg = code.svg_inline(scale=1, border=4, title=title or None, svgclass="qr-code", omitsize=True)
    return mark_safe(svg)  # noqa: S308 -- segno's SVG: it escapes the title it writes


@register.filter
def claim_labels(names: Any) -> str:
    """The labels of claim names, comma-separated (a share's disclosed fields)."""
    if not isinstance(names, list | tuple):
        return ""
    return ", ".join(str(field_label(str(n))) for n in names)

"""Portrait photos: validation of an upload, and serving a stored one.

The file is judged by decoding it with Pillow — never by its name or the browser's
content type. Accepted: JPEG or PNG, at most ``MAX_BYTES`` bytes and ``MAX_SIDE`` pixels
on each side (checked from the header, before the pixels are decoded, so a
decompression bomb is refused cheaply), at least ``MIN_SIDE``. The result is re-encoded
as a baseline JPEG without any metadata (EXIF GPS, camera, thumbnails), after applying
the EXIF orientation.
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING

from django.http import FileResponse, Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from congdan.core.errors import ValidationFailed

if TYPE_CHECKING:
    from congdan.identity.models import EidAccount

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4000
MIN_SIDE = 200
OUTPUT_MAX_SIDE = 1200
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG"})
FIELD = "portrait"


def _refuse(message: str | Promise, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, field=FIELD)


def clean_portrait(upload: IO[bytes], size: int | None = None) -> bytes:
    """The portrait as JPEG bytes without metadata, or ``ValidationFailed`` (field
    ``portrait``) saying what is wrong."""
    if size is not None and size > MAX_BYTES:
        raise _refuse(_("Ảnh chân dung không được lớn hơn 2 MB."), "portrait_too_large")
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _refuse(_("Ảnh chân dung không được lớn hơn 2 MB."), "portrait_too_large")
    not_image = _refuse(_("Tệp tải lên không phải ảnh JPEG hoặc PNG hợp lệ."), "portrait_not_image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise not_image
            width, height = probe.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise _refuse(
                    _("Ảnh chân dung quá lớn: mỗi chiều tối đa %(max)d điểm ảnh.")
                    % {"max": MAX_SIDE},
                    "portrait_too_big",
                )
            if width < MIN_SIDE or height < MIN_SIDE:
                raise _refuse(
                    _("Ảnh chân dung quá nhỏ: mỗi chiều tối thiểu %(min)d điểm ảnh.")
                    % {"min": MIN_SIDE},
                    "portrait_too_small",
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            rgb = upright.convert("RGB")
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_image from None
    rgb.thumbnail((OUTPUT_MAX_SIDE, OUTPUT_MAX_SIDE))
    out = io.BytesIO()
    # No exif=, no icc_profile=: Pillow writes none of the source's metadata.
    rgb.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()


def portrait_response(account: EidAccount) -> FileResponse:
    """A registered portrait, never cached by browsers or proxies (personal data; there is
    no public media URL)."""
    if not account.portrait:
        raise Http404
    response = FileResponse(account.portrait.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response

"""Uploaded scans: a citizen digitises a paper; an officer checks it (DESIGN rule 1).

A scan is judged by its bytes, never by its name or the browser's content type: PDF
(``%PDF-`` … ``%%EOF``), JPEG or PNG only, and the file's extension must say the same
type. At most ``WALLET_UPLOAD_MAX_BYTES`` bytes are read (one more to tell a larger file),
so a huge upload is refused without reading it all. Images are opened with Pillow: the
size in pixels is checked from the header before any decoding (a decompression bomb is
refused cheaply), then the file is verified. Nothing is stored on error: the file is
written only after every check, inside the transaction, and removed if that rolls back.

The scan stays "unverified" until an officer whose agency's jurisdiction contains the
holder's residence compares it with the original or the registry and marks it verified
or not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from congdan.audit.services import record_change
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import User
from congdan.core.permissions import Perm, requires
from congdan.identity.models import EidAccount
from congdan.registry.models import Person
from congdan.wallet import selectors
from congdan.wallet.models import (
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentStatus,
    EventKind,
    UploadState,
)
from congdan.wallet.services.issuing import insert_numbered

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Actor = User | AnonymousUser

DOC_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# ``<issuer>-<doc_type>-<serial>`` like an issued document's number (DigiLocker's
# IssuerId-DocType-DocId); the issuer of an upload is the citizen.
NUMBER_ISSUER = "CITIZEN"
SERIAL_BYTES = 6
MAX_TITLE = 200
MAX_NOTE = 300
# An image larger than this many pixels is refused before decoding (a scan of an A4 page
# at 600 dpi is about 35 million pixels).
MAX_PIXELS = 50_000_000
# Magic numbers (the same as procedures' attachments) and the extensions of each type.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
EXTENSIONS = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
PDF_TAIL = 2048  # %%EOF must be within the last bytes of a whole PDF
FIELD = "file"


def sniff(head: bytes) -> str | None:
    """The content type the first bytes say, among PDF, JPEG and PNG; None otherwise."""
    return next((ctype for magic, ctype in SIGNATURES.items() if head.startswith(magic)), None)


def _refuse(message: Any, code: str, field: str = FIELD) -> ValidationFailed:
    return ValidationFailed(message, code=code, field=field)


def _max_bytes() -> int:
    return int(settings.WALLET_UPLOAD_MAX_BYTES)


def _too_large() -> ValidationFailed:
    mb = _max_bytes() / (1024 * 1024)
    return _refuse(_("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": f"{mb:g}"}, "file_too_large")


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    sha256: str


def _check_image(content: bytes, content_type: str) -> None:
    broken = _refuse(_("Tệp ảnh bị hỏng hoặc không đọc được."), "file_damaged")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format != PILLOW_FORMATS[content_type]:
                raise broken
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _refuse(
                    _("Ảnh quá lớn (quá nhiều điểm ảnh): hãy chụp lại với độ phân giải thấp hơn."),
                    "image_too_big",
                )
            probe.verify()
    except ValidationFailed:
        raise
    except Image.DecompressionBombError:
        raise _refuse(
            _("Ảnh quá lớn (quá nhiều điểm ảnh): hãy chụp lại với độ phân giải thấp hơn."),
            "image_too_big",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise broken from None


def check_file(upload: IO[bytes], *, name: str, size: int | None = None) -> CheckedFile:
    """The file's bytes and its type, or ValidationFailed (field ``file``) saying what is
    wrong with it. Reads at most ``WALLET_UPLOAD_MAX_BYTES + 1`` bytes."""
    limit = _max_bytes()
    if size is not None and size > limit:
        raise _too_large()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        raise _refuse(
            _("Chỉ nhận tệp PDF, JPEG hoặc PNG (phần mở rộng .pdf, .jpg, .jpeg, .png)."),
            "file_extension",
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_large()
    if not content:
        raise _refuse(_("Tệp rỗng: hãy chọn lại tệp."), "file_empty")
    sniffed = sniff(content[:16])
    if sniffed is None:
        raise _refuse(
            _(
                "Nội dung tệp không phải PDF, JPEG hoặc PNG: tệp không đúng như phần mở rộng "
                "“.%(ext)s” của nó."
            )
            % {"ext": extension},
            "file_not_what_it_says",
        )
    if sniffed != EXTENSIONS[extension]:
        raise _refuse(
            _(
                "Tệp không đúng như phần mở rộng “.%(ext)s” của nó: nội dung là tệp %(kind)s. "
                "Hãy đổi tên tệp cho đúng hoặc chọn tệp khác."
            )
            % {"ext": extension, "kind": sniffed.split("/")[1].upper()},
            "file_not_what_it_says",
        )
    if sniffed == "application/pdf":
        if b"%%EOF" not in content[-PDF_TAIL:]:
            raise _refuse(_("Tệp PDF bị cắt cụt hoặc bị hỏng."), "file_damaged")
    else:
        _check_image(content, sniffed)
    return CheckedFile(content, sniffed, hashlib.sha256(content).hexdigest())


def _clean_text(value: str, *, field: str, max_len: int, required: bool) -> str:
    value = " ".join(str(value or "").split())
    if required and not value:
        raise _refuse(_("Trường này là bắt buộc."), "required", field)
    if len(value) > max_len:
        raise _refuse(_("Quá dài (tối đa %(n)d ký tự).") % {"n": max_len}, "too_long", field)
    return value


def _number_doc_type(doc_type: str) -> str:
    """The doc type as a number part: lower case ``[a-z0-9_]`` only, "other" when none."""
    cleaned = re.sub(r"[^a-z0-9_]", "", str(doc_type or "").lower())
    return cleaned or "other"


def _new_number(doc_type: str) -> str:
    """``CITIZEN-<doc_type>-<12 upper-case hex digits>``."""
    serial = secrets.token_hex(SERIAL_BYTES).upper()
    return f"{NUMBER_ISSUER}-{_number_doc_type(doc_type)}-{serial}"


def upload_scan(
    person: Person,
    *,
    file: IO[bytes],
    title: str,
    doc_type: str,
    claimed_issuer: str,
    issue_date: dt.date | None = None,
    note: str = "",
) -> Document:
    """Add a scan of a paper to the citizen's own wallet, marked unverified.

    ``file`` is an uploaded file (``name`` and ``size`` are read when present). Raises
    ValidationFailed naming the field at fault; nothing is stored then.
    """
    title = _clean_text(title, field="title", max_len=MAX_TITLE, required=True)
    claimed_issuer = _clean_text(
        claimed_issuer, field="claimed_issuer", max_len=MAX_TITLE, required=True
    )
    note = _clean_text(note, field="note", max_len=MAX_NOTE, required=False)
    doc_type = str(doc_type or "").strip()
    if not DOC_TYPE.fullmatch(doc_type):
        raise _refuse(
            _("Loại giấy tờ không hợp lệ (chữ thường không dấu, chữ số, dấu gạch dưới)."),
            "invalid_doc_type",
            "doc_type",
        )
    if issue_date is not None and issue_date > timezone.localdate():
        raise _refuse(_("Ngày cấp không được ở tương lai."), "date_in_future", "issue_date")
    checked = check_file(
        file, name=str(getattr(file, "name", "") or ""), size=getattr(file, "size", None)
    )
    user = person.eid_account.user if hasattr(person, "eid_account") else None
    data: dict[str, Any] = {}
    if issue_date is not None:
        data["issue_date"] = issue_date.isoformat()
    if note:
        data["note"] = note
    stored: list[str] = []
    try:
        with transaction.atomic():
            document = Document(
                kind=DocumentKind.UPLOADED,
                holder=person,
                doc_type=doc_type,
                title_vi=title,
                title_en=title,
                claimed_issuer=claimed_issuer,
                issued_at=timezone.now().replace(microsecond=0),
                data=data,
                status=DocumentStatus.VALID,
                content_type=checked.content_type,
                file_size=len(checked.content),
                sha256=checked.sha256,
                upload_state=UploadState.UNVERIFIED,
            )

            def draw() -> None:
                document.number = _new_number(doc_type)

            insert_numbered(document, draw)
            # Written last, after every check; removed below if the transaction fails.
            document.file.save("scan", ContentFile(checked.content), save=False)
            stored.append(str(document.file.name))
            document.save(update_fields=["file"])
            DocumentEvent.objects.create(
                document=document,
                kind=EventKind.UPLOADED,
                actor_label=(user.get_username() if user is not None else "")[:150],
                detail={"content_type": checked.content_type, "size": len(checked.content)},
            )
            record_change(
                user,
                action="upload_document",
                obj=document,
                person_id=person.pk,
                changes={
                    "number": [None, document.number],
                    "doc_type": [None, doc_type],
                    "upload_state": [None, UploadState.UNVERIFIED.value],
                },
                reason=note,
            )
    except BaseException:
        for name in stored:
            document.file.storage.delete(name)
        raise
    return document


def own_person_id(actor: Actor | None) -> int | None:
    """The registry person of an officer's e-ID account (a User has no direct link to a
    person: ``EidAccount(user, person)`` makes it), or None."""
    if actor is None or not actor.is_authenticated:
        return None
    found: int | None = (
        EidAccount.objects.filter(user_id=actor.pk).values_list("person_id", flat=True).first()
    )
    return found


def _own_document() -> PermissionDenied:
    return PermissionDenied(
        _("Cán bộ không được tự xác thực bản chụp giấy tờ của chính mình."),
        code="own_document",
    )


@requires(Perm.DOSSIER_PROCESS)
def check_upload(actor: Actor, *, number: str, verified: bool, note: str) -> Document:
    """Mark a scan verified (it matches the original or the registry) or rejected (the
    note says why). The officer's agency jurisdiction must contain the holder's
    residence: otherwise NotFound, as for a missing scan. An officer never checks their
    own scan (the holder is the person of their e-ID account): PermissionDenied
    ``own_document``."""
    note = _clean_text(note, field="note", max_len=MAX_NOTE, required=not verified)
    with transaction.atomic():
        document = (
            selectors.uploads_for(actor)
            .select_for_update(of=("self",))
            .filter(number=number)
            .first()
        )
        if document is None:
            raise NotFound(_("Không tìm thấy giấy tờ."), code="document_not_found")
        if document.holder_id == own_person_id(actor):
            raise _own_document()
        if document.upload_state != UploadState.UNVERIFIED:
            raise Conflict(_("Bản chụp này đã được xử lý."), code="already_checked")
        target = UploadState.VERIFIED if verified else UploadState.REJECTED
        user = actor if isinstance(actor, User) else None
        document.upload_state = target
        document.checked_by = user
        document.checked_at = timezone.now()
        document.check_note = note
        document.save(update_fields=["upload_state", "checked_by", "checked_at", "check_note"])
        DocumentEvent.objects.create(
            document=document,
            kind=EventKind.UPLOAD_VERIFIED if verified else EventKind.UPLOAD_REJECTED,
            actor_label=(actor.get_username() if user is not None else "")[:150],
            detail={"note": note},
        )
        record_change(
            user,
            action="check_upload",
            obj=document,
            person_id=document.holder_id,
            changes={"upload_state": [UploadState.UNVERIFIED.value, target.value]},
            reason=note,
        )
    return document


__all__ = ["check_file", "check_upload", "own_person_id", "sniff", "upload_scan"]

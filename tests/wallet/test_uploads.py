"""Uploaded scans: judged by their bytes; nothing stored on error; checked by an officer
of the holder's jurisdiction."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.identity.models import EidAccount
from congdan.wallet import services
from congdan.wallet.models import Document, DocumentEvent, DocumentKind, EventKind, UploadState
from congdan.wallet.services import uploads
from tests.wallet.conftest import Family

if TYPE_CHECKING:
    from tests.conftest import World

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 200, 200)).save(out, format=fmt)
    return out.getvalue()


def png_bomb() -> bytes:
    """A small PNG that claims 30000 × 30000 pixels (900 M): a decompression bomb."""
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _upload(family: Family, name: str, content: bytes, **changes: Any) -> Document:
    arguments: dict[str, Any] = {
        "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        "title": "Bằng tốt nghiệp đại học",
        "doc_type": "diploma",
        "claimed_issuer": "Đại học Đà Nẵng",
    }
    arguments.update(changes)
    return services.upload_scan(family.father, **arguments)


# --- accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "ctype"),
    [
        ("bang.pdf", PDF, "application/pdf"),
        ("bang.PDF", PDF, "application/pdf"),
        ("bang.jpg", image_bytes("JPEG"), "image/jpeg"),
        ("bang.jpeg", image_bytes("JPEG"), "image/jpeg"),
        ("bang.png", image_bytes("PNG"), "image/png"),
    ],
)
def test_accepted(family: Family, media: Path, name: str, content: bytes, ctype: str) -> None:
    document = _upload(family, name, content, note="Bản gốc ở nhà")
    document.refresh_from_db()
    assert document.kind == DocumentKind.UPLOADED
    assert document.upload_state == UploadState.UNVERIFIED
    assert document.holder == family.father
    assert document.credential == ""
    assert document.issuer is None
    assert document.claimed_issuer == "Đại học Đà Nẵng"
    assert re.fullmatch(r"CITIZEN-diploma-[0-9A-F]{12}", document.number)
    assert document.content_type == ctype
    assert document.file_size == len(content)
    assert len(document.sha256) == 64
    assert document.data == {"note": "Bản gốc ở nhà"}
    # Stored under a random name, never the uploaded one.
    assert name not in document.file.name
    assert document.file.name.startswith(f"wallet/{family.father.pk}/")
    with document.file.open("rb") as handle:
        assert handle.read() == content
    assert len(_files(media)) == 1
    assert DocumentEvent.objects.filter(document=document, kind=EventKind.UPLOADED).exists()
    assert ChangeRecord.objects.filter(
        action="upload_document", person_id=family.father.pk
    ).exists()


def test_issue_date_is_kept(family: Family) -> None:
    import datetime as dt

    document = _upload(family, "a.pdf", PDF, issue_date=dt.date(2015, 6, 30))
    assert document.data["issue_date"] == "2015-06-30"


# --- refused: nothing stored ---------------------------------------------------------------


def _refused(family: Family, media: Path, name: str, content: bytes, **changes: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        _upload(family, name, content, **changes)
    assert not Document.objects.exists()
    assert _files(media) == []
    return str(caught.value.code)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("bang.pdf", b"", "file_empty"),
        ("bang.pdf", b"MZ\x90\x00 this is an exe", "file_not_what_it_says"),
        ("bang.pdf", b"<html><script>alert(1)</script></html>", "file_not_what_it_says"),
        ("bang.pdf", image_bytes("PNG"), "file_not_what_it_says"),
        ("bang.png", PDF, "file_not_what_it_says"),
        ("bang.jpg", image_bytes("PNG"), "file_not_what_it_says"),
        ("bang.exe", PDF, "file_extension"),
        ("bang", PDF, "file_extension"),
        ("bang.pdf", PDF[:20], "file_damaged"),  # truncated: no %%EOF
        ("bang.png", image_bytes("PNG")[:40], "file_damaged"),
        ("bang.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "file_damaged"),
    ],
)
def test_refused_files(family: Family, media: Path, name: str, content: bytes, code: str) -> None:
    assert _refused(family, media, name, content) == code


def test_wrong_extension_message_is_clear(family: Family) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _upload(family, "anh.pdf", image_bytes("PNG"))
    message = str(caught.value.message)
    assert "không đúng như phần mở rộng" in message
    assert ".pdf" in message and "PNG" in message
    assert caught.value.field == "file"


def test_decompression_bomb(family: Family, media: Path) -> None:
    assert _refused(family, media, "bom.png", png_bomb()) == "image_too_big"


def test_oversized_is_refused_without_reading_it_all(
    family: Family, media: Path, settings: Any
) -> None:
    settings.WALLET_UPLOAD_MAX_BYTES = 1000
    content = PDF + b"0" * 5000

    class Counting(io.BytesIO):
        read_sizes: list[int] = []

        def read(self, size: int | None = -1) -> bytes:
            self.read_sizes.append(-1 if size is None else size)
            return super().read(size)

    handle = Counting(content)
    handle.name = "lon.pdf"  # type: ignore[attr-defined]  # what an uploaded file has
    with pytest.raises(ValidationFailed) as caught:
        services.upload_scan(
            family.father, file=handle, title="Lớn", doc_type="other", claimed_issuer="X"
        )
    assert caught.value.code == "file_too_large"
    assert handle.read_sizes == [1001]  # one bounded read
    assert handle.tell() == 1001
    # An uploaded file declares its size: refused before any read.
    assert _refused(family, media, "lon.pdf", content) == "file_too_large"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"claimed_issuer": ""}, "claimed_issuer"),
        ({"doc_type": "Bằng cấp"}, "doc_type"),
        ({"title": "x" * 201}, "title"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_refused_fields(family: Family, media: Path, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _upload(family, "a.pdf", PDF, **changes)
    assert caught.value.field == field
    assert not Document.objects.exists()
    assert _files(media) == []


def test_future_issue_date(family: Family, media: Path) -> None:
    import datetime as dt

    from django.utils import timezone

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        _upload(family, "a.pdf", PDF, issue_date=tomorrow)
    assert caught.value.field == "issue_date"


def test_a_rollback_removes_the_file(
    family: Family, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(uploads, "record_change", fail)
    with pytest.raises(RuntimeError):
        _upload(family, "a.pdf", PDF)
    assert not Document.objects.exists()
    assert _files(media) == []


def test_the_transaction_commits_the_row_and_the_file(family: Family, media: Path) -> None:
    with transaction.atomic():
        document = _upload(family, "a.pdf", PDF)
    assert Document.objects.filter(pk=document.pk).exists()
    assert len(_files(media)) == 1


# --- officer check -------------------------------------------------------------------------


def test_officer_verifies(family: Family) -> None:
    document = _upload(family, "a.pdf", PDF)
    checked = services.check_upload(
        family.officer, number=document.number, verified=True, note="Đối chiếu bản gốc"
    )
    assert checked.upload_state == UploadState.VERIFIED
    assert checked.checked_by == family.officer
    assert checked.checked_at is not None
    assert checked.check_note == "Đối chiếu bản gốc"
    event = DocumentEvent.objects.get(document=document, kind=EventKind.UPLOAD_VERIFIED)
    assert event.actor_label == family.officer.username
    assert ChangeRecord.objects.filter(action="check_upload", person_id=family.father.pk).exists()
    with pytest.raises(Conflict):
        services.check_upload(family.officer, number=document.number, verified=False, note="x")


def test_officer_rejects_with_a_reason(family: Family) -> None:
    document = _upload(family, "a.pdf", PDF)
    with pytest.raises(ValidationFailed) as caught:
        services.check_upload(family.officer, number=document.number, verified=False, note=" ")
    assert caught.value.field == "note"
    checked = services.check_upload(
        family.officer, number=document.number, verified=False, note="Không khớp bản gốc"
    )
    assert checked.upload_state == UploadState.REJECTED
    assert DocumentEvent.objects.filter(kind=EventKind.UPLOAD_REJECTED).exists()


def test_provincial_officer_covers_the_commune(family: Family, world: World) -> None:
    document = _upload(family, "a.pdf", PDF)
    services.check_upload(world.province_officer, number=document.number, verified=True, note="")


def test_officer_outside_jurisdiction(family: Family, world: World) -> None:
    document = _upload(family, "a.pdf", PDF)
    with pytest.raises(NotFound):
        services.check_upload(
            world.other_commune_officer, number=document.number, verified=True, note=""
        )
    document.refresh_from_db()
    assert document.upload_state == UploadState.UNVERIFIED


def test_a_citizen_cannot_check(family: Family) -> None:
    document = _upload(family, "a.pdf", PDF)
    with pytest.raises(PermissionDenied):
        services.check_upload(
            family.father_account.user, number=document.number, verified=True, note=""
        )


def test_issued_documents_are_not_uploads(family: Family) -> None:
    from tests.wallet.conftest import issue

    document = issue(family, holder=family.father)
    with pytest.raises(NotFound):
        services.check_upload(family.officer, number=document.number, verified=True, note="")


def test_upload_numbers_name_the_citizen_and_the_type() -> None:
    assert re.fullmatch(r"CITIZEN-diploma-[0-9A-F]{12}", uploads._new_number("diploma"))
    assert uploads._number_doc_type("Land-Use Cert!") == "landusecert"
    assert uploads._number_doc_type("") == "other"
    assert uploads._number_doc_type("--") == "other"
    assert re.fullmatch(r"CITIZEN-other-[0-9A-F]{12}", uploads._new_number(""))


def test_an_officer_cannot_check_their_own_scan(family: Family, world: World) -> None:
    """The officer's e-ID account's person is the holder (User and Person are linked only
    through EidAccount)."""
    EidAccount.objects.filter(pk=family.father_account.pk).update(user=family.officer)
    document = _upload(family, "a.pdf", PDF)
    for verified, note in ((True, ""), (False, "Không khớp")):
        with pytest.raises(PermissionDenied) as caught:
            services.check_upload(
                family.officer, number=document.number, verified=verified, note=note
            )
        assert caught.value.code == "own_document"
    document.refresh_from_db()
    assert document.upload_state == UploadState.UNVERIFIED
    # Another officer of the jurisdiction may.
    services.check_upload(world.province_officer, number=document.number, verified=True, note="")

"""The wallet pages: my documents (cards, table, filters), a document (fields, verdict,
share form, shares, history), a share (link, QR), uploading a scan, the officers' upload
queue and check; allowed / denied / someone else's → 404 for each."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from congdan.audit.models import AccessLogEntry
from congdan.core.models import AgencyKind
from congdan.identity.models import EidAccount
from congdan.wallet import jose, sdjwt, services
from congdan.wallet.models import Document, DocumentEvent, EventKind, Share, UploadState
from tests import factories
from tests.identity.helpers import make_account, portal_login
from tests.wallet.conftest import Family, issue
from tests.wallet.test_sharing import driving_licence, judicial_record, turned_18

if TYPE_CHECKING:
    from tests.conftest import World

LIST = reverse("wallet:documents")
UPLOAD = reverse("wallet:upload")
QUEUE = reverse("wallet:office_uploads")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _detail(document: Document) -> str:
    return reverse("wallet:document", args=[document.number])


def _download(document: Document) -> str:
    return reverse("wallet:document_download", args=[document.number])


def _share_post(document: Document) -> str:
    return reverse("wallet:document_share", args=[document.number])


def _share(share: Share) -> str:
    return reverse("wallet:share", args=[share.document.number, share.pk])


def _revoke(share: Share) -> str:
    return reverse("wallet:share_revoke", args=[share.document.number, share.pk])


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def father(client: Client, family: Family) -> Client:
    return portal_login(client, family.father_account)


def _assert_to_portal_login(response: HttpResponseBase) -> None:
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("identity:portal_login")


def _upload(family: Family) -> Document:
    return services.upload_scan(
        family.father,
        file=SimpleUploadedFile("bang.pdf", PDF),
        title="Bằng tốt nghiệp",
        doc_type="diploma",
        claimed_issuer="Đại học Đà Nẵng",
    )


def _share_of(family: Family, document: Document, **changes: Any) -> Share:
    arguments: dict[str, Any] = {
        "number": document.number,
        "claims": ["full_name", "portrait"],
        "valid_minutes": 60,
    }
    arguments.update(changes)
    return services.create_share(family.father, **arguments)


# --- who may open what ---------------------------------------------------------------------


def test_anonymous_goes_to_login(client: Client, family: Family) -> None:
    document = driving_licence(family)
    share = _share_of(family, document)
    scan = _upload(family)
    for url in (
        LIST,
        UPLOAD,
        _detail(document),
        _download(document),
        _share(share),
        reverse("wallet:document_scan", args=[scan.number]),
    ):
        _assert_to_portal_login(client.get(url))
    _assert_to_portal_login(client.post(_share_post(document), {"claims": ["full_name"]}))
    _assert_to_portal_login(client.post(_revoke(share)))
    assert Share.objects.count() == 1
    assert Share.objects.get().revoked_at is None


def test_an_officer_is_not_a_citizen(client: Client, family: Family) -> None:
    document = issue(family)
    client.force_login(family.officer)
    for url in (LIST, _detail(document), UPLOAD):
        _assert_to_portal_login(client.get(url))


def test_another_citizen_gets_404(client: Client, family: Family) -> None:
    document = driving_licence(family)
    child_doc = issue(family)
    share = _share_of(family, document)
    scan = _upload(family)
    portal_login(client, family.neighbour_account)
    for url in (
        _detail(document),
        _detail(child_doc),
        _download(document),
        _share(share),
        reverse("wallet:document_scan", args=[scan.number]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            _share_post(document), {"claims": ["full_name"], "valid_minutes": "60"}
        ).status_code
        == 404
    )
    assert client.post(_revoke(share)).status_code == 404
    assert Share.objects.count() == 1
    assert Share.objects.get().revoked_at is None
    html = client.get(LIST).content.decode()
    assert family.child.full_name not in html
    assert document.number not in html


def test_unknown_number_is_404(father: Client, family: Family) -> None:
    assert father.get(reverse("wallet:document", args=["nope"])).status_code == 404
    document = driving_licence(family)
    assert father.get(reverse("wallet:share", args=[document.number, 999])).status_code == 404


def test_pages_are_get_only(father: Client, family: Family) -> None:
    document = issue(family)
    assert father.post(LIST).status_code == 405
    assert father.post(_detail(document)).status_code == 405
    assert father.get(_share_post(document)).status_code == 405


# --- the list ------------------------------------------------------------------------------


def test_list_shows_cards_then_other_documents_then_children(
    father: Client, family: Family
) -> None:
    licence = driving_licence(family)
    residence = issue(
        family,
        holder=family.father,
        doc_type="residence_proof",
        title_vi="Giấy xác nhận cư trú cũ",
        title_en="Old residence proof",
    )
    child_doc = issue(family)
    scan = _upload(family)
    response = father.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Giấy tờ của tôi" in html
    # The licence as a card (pink), with the holder's name, number, photo and status.
    assert "wallet-card wallet-card-pink" in html
    card = html[html.index("wallet-card-pink") : html.index("Giấy tờ khác")]
    assert licence.number in card
    assert family.father.full_name in card
    assert "Số giấy phép lái xe" in card and "480123456789" in card
    assert '<img class="wallet-card-photo" src="data:image/jpeg;base64,' in card
    assert "Còn hiệu lực" in card
    # Then the other documents in a table, the scan marked as such.
    others = html[html.index("Giấy tờ khác") :]
    assert residence.number in others
    assert scan.number in others
    assert "Bản chụp" in others and "Chưa xác thực" in others
    assert "Đại học Đà Nẵng" in others
    assert "Giấy tờ của con chưa thành niên" in html
    assert _detail(child_doc) in html
    assert UPLOAD in html


def test_cards_follow_the_integrated_order(father: Client, family: Family) -> None:
    """The ID card leads even when a licence is newer (doctypes.INTEGRATED order; the
    list is otherwise newest first)."""
    card = services.create_issued(
        actor=None,
        actor_label="test",
        holder=family.father,
        doc_type="id_card",
        title_vi="Thẻ căn cước",
        title_en="Identity card",
        issuer=factories.make_agency(None, kind=AgencyKind.POLICE),
        data={"full_name": family.father.full_name, "id_number": family.father.id_number},
        source_ref="",
        integrated=True,
    )
    Document.objects.filter(pk=card.pk).update(issued_at=timezone.now() - dt.timedelta(days=9))
    licence = driving_licence(family)
    html = father.get(LIST).content.decode()
    assert html.index(card.number) < html.index(licence.number)


def test_list_when_empty(father: Client, family: Family) -> None:
    response = father.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bạn chưa có giấy tờ điện tử nào." in html
    assert "Tải lên bản chụp" in html


def test_list_in_english(father: Client, family: Family) -> None:
    issue(family)
    father.cookies["django_language"] = "en"
    response = father.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Birth certificate" in response.content.decode()


def test_list_filters(father: Client, family: Family) -> None:
    licence = driving_licence(family)
    birth = issue(family, holder=family.father)
    revoked = issue(
        family,
        holder=family.father,
        doc_type="marriage_certificate",
        title_vi="Giấy chứng nhận kết hôn",
        title_en="Marriage certificate",
    )
    services.revoke_document(family.officer, number=revoked.number, reason="Cấp nhầm")
    expired = issue(
        family,
        holder=family.father,
        doc_type="permit",
        title_vi="Giấy phép tạm",
        title_en="Temporary permit",
    )
    Document.objects.filter(pk=expired.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    child_doc = issue(family)
    scan = _upload(family)
    everything = {licence, birth, revoked, expired, child_doc, scan}

    def shown(**params: str) -> set[Document]:
        response = father.get(LIST, params)
        assert response.status_code == 200
        html = response.content.decode()
        return {d for d in everything if _detail(d) in html}

    assert shown() == everything
    assert shown(kind="uploaded") == {scan}
    assert shown(kind="issued") == everything - {scan}
    assert shown(doc_type="driving_licence") == {licence}
    assert shown(status="revoked") == {revoked}
    assert shown(status="expired") == {expired}
    assert shown(status="valid") == {licence, birth, child_doc, scan}
    assert shown(holder="me") == everything - {child_doc}
    assert shown(holder=str(family.child.pk)) == {child_doc}
    # Text search on title or number, ignoring case and diacritics.
    assert shown(q="giay phep lai") == {licence}
    assert shown(q="KẾT HÔN") == {revoked}
    assert shown(q=scan.number[-6:].lower()) == {scan}
    assert shown(q="no such thing") == set()
    assert (
        "Không có giấy tờ nào khớp với bộ lọc." in father.get(LIST, {"q": "zzz"}).content.decode()
    )
    # Unknown values are ignored, not an error.
    assert shown(kind="bogus", status="nope", holder="x") == everything


# --- a document ----------------------------------------------------------------------------


def test_detail_of_an_issued_document(father: Client, family: Family) -> None:
    document = issue(family)
    response = father.get(_detail(document))
    assert response.status_code == 200
    html = response.content.decode()
    assert document.number in html
    assert "Giấy khai sinh" in html
    assert "Chữ ký số hợp lệ" in html
    assert "Chữ ký số không hợp lệ" not in html
    assert family.agency.name in html
    assert family.child.id_number in html
    assert family.child.birth_date.strftime("%d/%m/%Y") in html  # an ISO date, shown
    assert "Họ tên cha" in html
    assert "Đủ 14 tuổi trở lên" not in html  # a newborn: no age claims
    assert _download(document) in html
    assert "Chia sẻ" in html and _share_post(document) in html
    assert "Cấp giấy tờ" in html  # history
    assert response["Cache-Control"].startswith("max-age=0")


def test_detail_shows_the_portrait_as_an_image(father: Client, family: Family) -> None:
    document = driving_licence(family)
    html = father.get(_detail(document)).content.decode()
    assert '<img class="wallet-portrait" src="data:image/jpeg;base64,' in html
    assert f'alt="Ảnh chân dung của {family.father.full_name}"' in html
    # The share form lists the disclosable claims with their labels.
    assert 'name="claims" value="full_name"' in html
    assert 'name="claims" value="portrait"' in html
    assert 'name="claims" value="age_over_18"' in html
    assert "Đủ 18 tuổi trở lên" in html
    assert 'name="valid_minutes"' in html


def test_detail_labels_known_fields(father: Client, family: Family) -> None:
    document = issue(
        family, data={"sex": "F", "procedure": "khai_sinh", "custom_field": True, "empty": None}
    )
    html = father.get(_detail(document)).content.decode()
    assert "<dd>Nữ</dd>" in html
    assert "<dt>Thủ tục</dt>" in html
    assert "<dt>Custom field</dt><dd>Có</dd>" in html
    assert "<dt>Empty</dt><dd>—</dd>" in html


def test_detail_of_a_tampered_document(father: Client, family: Family) -> None:
    document = issue(family)
    Document.objects.filter(pk=document.pk).update(data={"full_name": "Người khác"})
    html = father.get(_detail(document)).content.decode()
    assert "Chữ ký số không hợp lệ" in html
    assert "Chữ ký số hợp lệ<" not in html


def test_detail_of_a_revoked_document(father: Client, family: Family) -> None:
    document = issue(family)
    services.revoke_document(family.officer, number=document.number, reason="Cấp nhầm")
    html = father.get(_detail(document)).content.decode()
    assert "Đã thu hồi" in html
    assert "Cấp nhầm" in html
    assert "Giấy tờ đã bị cơ quan cấp thu hồi." in html
    assert _share_post(document) not in html  # cannot be shared


def test_detail_of_a_suspended_document(father: Client, family: Family) -> None:
    document = issue(family)
    services.suspend_document(family.officer, number=document.number, reason="Đang xác minh")
    html = father.get(_detail(document)).content.decode()
    assert "Tạm đình chỉ" in html
    assert "Đang xác minh" in html
    assert _share_post(document) not in html


def test_detail_of_a_jws_document_offers_to_share_it_whole(father: Client, family: Family) -> None:
    document = judicial_record(family)
    html = father.get(_detail(document)).content.decode()
    assert "chia sẻ toàn bộ" in html
    assert 'name="claims"' not in html
    response = father.post(_share_post(document), {"valid_minutes": "15"})
    assert response.status_code == 302
    assert set(Share.objects.get().claims) >= {"full_name", "criminal_record"}


def test_detail_of_an_upload(father: Client, family: Family) -> None:
    scan = _upload(family)
    html = father.get(_detail(scan)).content.decode()
    assert "Chưa xác thực" in html
    assert "Đại học Đà Nẵng" in html
    assert reverse("wallet:document_scan", args=[scan.number]) in html
    assert _share_post(scan) not in html
    assert _download(scan) not in html
    assert father.get(_download(scan)).status_code == 404


def test_the_holder_views_their_scan(father: Client, family: Family) -> None:
    scan = _upload(family)
    response = father.get(reverse("wallet:document_scan", args=[scan.number]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]  # FileResponse
    assert response["Content-Type"] == "application/pdf"
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert response["X-Content-Type-Options"] == "nosniff"
    issued = issue(family, holder=family.father)
    assert father.get(reverse("wallet:document_scan", args=[issued.number])).status_code == 404


def test_download_is_the_credential(father: Client, family: Family) -> None:
    document = issue(family)
    response = father.get(_download(document))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/dc+sd-jwt"
    assert response["Content-Disposition"] == f'attachment; filename="{document.number}.sd-jwt"'
    assert response.content.decode() == document.credential
    assert "jwks.json" in response["Link"]


def test_the_mother_sees_her_childs_document(client: Client, family: Family) -> None:
    document = issue(family)
    portal_login(client, make_account(family.mother, phone="0987000004"))
    assert client.get(_detail(document)).status_code == 200
    assert AccessLogEntry.objects.filter(person_id=family.child.pk, view="wallet_document").exists()


# --- sharing -------------------------------------------------------------------------------


def test_share_form_post_then_the_share_page(father: Client, family: Family) -> None:
    document = driving_licence(family)
    response = father.post(
        _share_post(document),
        {"claims": ["full_name", "portrait"], "valid_minutes": "1440", "note": "Khách sạn"},
    )
    assert response.status_code == 302
    share = Share.objects.get()
    assert response["Location"] == _share(share)
    assert share.claims == ["full_name", "portrait"]
    assert dt.timedelta(hours=23) < share.expires_at - timezone.now() <= dt.timedelta(days=1)
    assert share.note == "Khách sạn"
    parsed = sdjwt.split(share.presentation)
    assert len(parsed.disclosures) == 2

    page = father.get(_share(share))
    assert page.status_code == 200
    html = page.content.decode()
    link = f"{django_settings.CONGDAN_PUBLIC_URL}/v/{share.token}/"
    assert link in html
    assert "<svg" in html and 'class="qr-code"' in html
    assert "Họ, chữ đệm và tên" in html and "Ảnh chân dung" in html
    assert "Số giấy phép lái xe" not in html
    assert "Thu hồi" in html
    kind = "presentation" if share.fits_qr else "link"
    assert f'data-content="{kind}"' in html
    assert page["Cache-Control"].startswith("max-age=0")


def test_the_qr_holds_the_presentation_when_it_fits(father: Client, family: Family) -> None:
    document = issue(family, holder=family.father)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=15
    )
    assert share.fits_qr
    html = father.get(_share(share)).content.decode()
    assert 'data-content="presentation"' in html
    assert "kiểm tra được cả khi không có mạng" in html
    # The same content as text, to send or paste into a verifier page.
    assert f'readonly spellcheck="false">{share.presentation}</textarea>' in html


def test_the_qr_holds_the_link_when_too_long(father: Client, family: Family) -> None:
    document = driving_licence(family)
    share = _share_of(family, document)
    Share.objects.filter(pk=share.pk).update(fits_qr=False)
    html = father.get(_share(share)).content.decode()
    assert 'data-content="link"' in html
    assert "mã QR này chứa đường dẫn" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"valid_minutes": "60"}, "Chọn ít nhất một trường để chia sẻ."),
        ({"claims": ["passport"], "valid_minutes": "60"}, "passport"),
        ({"claims": ["full_name"], "valid_minutes": "99999"}, "valid_minutes"),
        ({"claims": ["full_name"], "valid_minutes": "60", "note": "x" * 121}, "note"),
    ],
)
def test_share_form_errors(
    father: Client, family: Family, data: dict[str, Any], message: str
) -> None:
    document = driving_licence(family)
    response = father.post(_share_post(document), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "error-summary" in html
    assert message in html or f'id="id_{message}"' in html
    assert not Share.objects.exists()


def test_shares_are_listed_on_the_document(father: Client, family: Family) -> None:
    document = driving_licence(family)
    active = _share_of(family, document, note="Ngân hàng A")
    past = _share_of(family, document, note="Khách sạn B")
    services.revoke_share(family.father, share_id=past.pk)
    html = father.get(_detail(document)).content.decode()
    assert "Các lượt chia sẻ" in html
    assert "Ngân hàng A" in html and "Khách sạn B" in html
    assert _revoke(active) in html
    assert _revoke(past) not in html
    assert "Thu hồi chia sẻ" in html  # history label
    assert html.index("Thu hồi chia sẻ") < html.index("Cấp giấy tờ")  # newest first


def test_revoke_post(father: Client, family: Family) -> None:
    document = driving_licence(family)
    share = _share_of(family, document)
    response = father.post(_revoke(share))
    assert response.status_code == 302
    assert response["Location"] == _share(share)
    share.refresh_from_db()
    assert share.revoked_at is not None
    html = father.get(_share(share)).content.decode()
    assert "Bạn đã thu hồi lượt chia sẻ này" in html
    assert "<svg" not in html
    # Again: a clear message, not an error page.
    again = father.post(_revoke(share), follow=True)
    assert "Lượt chia sẻ đã được thu hồi trước đó." in again.content.decode()
    # From the document page, back to it.
    other = _share_of(family, document)
    response = father.post(_revoke(other), {"next": "document"})
    assert response["Location"] == _detail(document)
    assert father.get(_revoke(other)).status_code == 405


def test_the_other_parent_cannot_revoke_a_share_they_did_not_make(
    client: Client, family: Family
) -> None:
    document = issue(family)
    share = _share_of(family, document, claims=["full_name"])
    portal_login(client, make_account(family.mother, phone="0987000004"))
    html = client.get(_share(share)).content.decode()
    assert _revoke(share) not in html
    client.post(_revoke(share))
    share.refresh_from_db()
    assert share.revoked_at is None


# --- upload --------------------------------------------------------------------------------


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def test_upload_page_and_post(father: Client, family: Family, media: Path) -> None:
    page = father.get(UPLOAD)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="file"' in html
    response = father.post(
        UPLOAD,
        {
            "file": SimpleUploadedFile("giay.png", _png(), content_type="image/png"),
            "doc_type": "birth_certificate",
            "title": "",
            "claimed_issuer": "UBND phường Hải Châu",
            "issue_date": "2010-05-04",
        },
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert response["Location"] == _detail(document)
    assert document.title_vi == "Giấy khai sinh"  # the type's name when left empty
    assert document.upload_state == UploadState.UNVERIFIED
    assert document.data["issue_date"] == "2010-05-04"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("giay.pdf", _png(), "không đúng như phần mở rộng"),
        ("giay.pdf", b"not a pdf at all", "không đúng như phần mở rộng"),
        ("giay.exe", PDF, "Chỉ nhận tệp PDF, JPEG hoặc PNG"),
    ],
)
def test_upload_errors_are_clear(
    father: Client, media: Path, name: str, content: bytes, message: str
) -> None:
    response = father.post(
        UPLOAD,
        {
            "file": SimpleUploadedFile(name, content),
            "doc_type": "other",
            "title": "Giấy khác",
            "claimed_issuer": "Ai đó",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "error-summary" in html
    assert not Document.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True


def test_upload_other_needs_a_title(father: Client, family: Family) -> None:
    response = father.post(
        UPLOAD,
        {"file": SimpleUploadedFile("a.pdf", PDF), "doc_type": "other", "claimed_issuer": "X"},
    )
    assert response.status_code == 400
    assert "Nhập tên giấy tờ." in response.content.decode()


def test_upload_too_large(father: Client, family: Family, settings: Any) -> None:
    settings.WALLET_UPLOAD_MAX_BYTES = 100
    response = father.post(
        UPLOAD,
        {
            "file": SimpleUploadedFile("a.pdf", PDF + b" " * 200),
            "doc_type": "diploma",
            "claimed_issuer": "X",
        },
    )
    assert response.status_code == 400
    assert "Tệp quá lớn" in response.content.decode()


# --- officer pages -------------------------------------------------------------------------


def _check(document: Document) -> str:
    return reverse("wallet:office_upload", args=[document.number])


def _office_scan(document: Document) -> str:
    return reverse("wallet:office_upload_scan", args=[document.number])


def test_officer_queue_and_check(client: Client, family: Family) -> None:
    scan = _upload(family)
    client.force_login(family.officer)
    html = client.get(QUEUE).content.decode()
    assert scan.number in html and family.father.full_name in html
    assert _check(scan) in html
    page = client.get(_check(scan))
    assert page.status_code == 200
    assert _office_scan(scan) in page.content.decode()
    file = client.get(_office_scan(scan))
    assert file.status_code == 200
    assert {"private", "no-store"} <= set(file["Cache-Control"].replace(" ", "").split(","))
    assert b"".join(file.streaming_content) == PDF  # type: ignore[attr-defined]  # FileResponse
    assert AccessLogEntry.objects.filter(
        person_id=family.father.pk, view="wallet_upload_scan", actor=family.officer
    ).exists()
    # Rejecting needs a note.
    response = client.post(_check(scan), {"decision": "reject", "note": ""})
    assert response.status_code == 400
    response = client.post(_check(scan), {"decision": "verify", "note": "Khớp bản gốc"})
    assert response.status_code == 302
    scan.refresh_from_db()
    assert scan.upload_state == UploadState.VERIFIED
    assert scan.checked_by == family.officer
    assert _check(scan) not in client.get(QUEUE).content.decode()
    # The citizen sees it verified.
    citizen = portal_login(Client(), family.father_account)
    assert "Đã xác thực" in citizen.get(_detail(scan)).content.decode()


def test_officer_nav_links_the_queue(client: Client, family: Family) -> None:
    client.force_login(family.officer)
    assert QUEUE in client.get(QUEUE).content.decode()


def test_officer_outside_jurisdiction_gets_404(
    client: Client, family: Family, world: World
) -> None:
    scan = _upload(family)
    client.force_login(world.other_commune_officer)
    assert scan.number not in client.get(QUEUE).content.decode()
    assert client.get(_check(scan)).status_code == 404
    assert client.get(_office_scan(scan)).status_code == 404
    assert client.post(_check(scan), {"decision": "verify"}).status_code == 404
    scan.refresh_from_db()
    assert scan.upload_state == UploadState.UNVERIFIED


def test_officer_pages_denied_without_permission(
    client: Client, family: Family, world: World
) -> None:
    scan = _upload(family)
    for url in (QUEUE, _check(scan), _office_scan(scan)):
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
    client.force_login(world.nobody)
    for url in (QUEUE, _check(scan), _office_scan(scan)):
        assert client.get(url).status_code == 403
    assert client.post(_check(scan), {"decision": "verify"}).status_code == 403
    # A citizen's user has no officer permission either.
    citizen = portal_login(Client(), family.father_account)
    assert citizen.get(QUEUE).status_code == 403
    assert citizen.post(_check(scan), {"decision": "verify"}).status_code == 403
    scan.refresh_from_db()
    assert scan.upload_state == UploadState.UNVERIFIED


def test_an_issued_document_is_not_in_the_check_pages(client: Client, family: Family) -> None:
    document = issue(family, holder=family.father)
    client.force_login(family.officer)
    assert client.get(_check(document)).status_code == 404


def test_a_huge_upload_is_refused_before_its_body_is_read(
    father: Client, family: Family, settings: Any
) -> None:
    settings.WALLET_UPLOAD_MAX_BYTES = 1000
    response = father.post(
        UPLOAD,
        {
            "file": SimpleUploadedFile("a.pdf", PDF + b" " * 200_000),
            "doc_type": "diploma",
            "claimed_issuer": "X",
        },
    )
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.content.decode()
    assert not Document.objects.exists()


def test_upload_still_checks_csrf(client: Client, family: Family) -> None:
    csrf_client = portal_login(Client(enforce_csrf_checks=True), family.father_account)
    response = csrf_client.post(
        UPLOAD,
        {"file": SimpleUploadedFile("a.pdf", PDF), "doc_type": "diploma", "claimed_issuer": "X"},
    )
    assert response.status_code == 403
    assert not Document.objects.exists()


def test_an_officer_does_not_check_their_own_scan(client: Client, family: Family) -> None:
    """Their e-ID account's person is the holder: the page has no form, a POST is a 403
    (PermissionDenied ``own_document``), the queue marks it."""
    EidAccount.objects.filter(pk=family.father_account.pk).update(user=family.officer)
    scan = _upload(family)
    client.force_login(family.officer)
    assert "Của bạn" in client.get(QUEUE).content.decode()
    page = client.get(_check(scan))
    assert page.status_code == 200
    html = page.content.decode()
    assert "bản chụp giấy tờ của chính bạn" in html
    assert 'name="decision"' not in html
    assert _office_scan(scan) in html
    for data in ({"decision": "verify", "note": ""}, {"decision": "reject", "note": "x"}):
        assert client.post(_check(scan), data).status_code == 403
    scan.refresh_from_db()
    assert scan.upload_state == UploadState.UNVERIFIED


def test_a_missing_stored_scan_is_a_404(father: Client, family: Family) -> None:
    scan = _upload(family)
    scan.file.storage.delete(scan.file.name)
    assert father.get(reverse("wallet:document_scan", args=[scan.number])).status_code == 404
    client = Client()
    client.force_login(family.officer)
    assert client.get(_office_scan(scan)).status_code == 404


def test_the_share_form_offers_an_age_reached_since_issue(
    client: Client, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = turned_18(family, monkeypatch)
    holder = portal_login(client, EidAccount.objects.get(person=document.holder))
    html = holder.get(_detail(document)).content.decode()
    assert 'value="age_over_18"' in html
    assert DocumentEvent.objects.filter(document=document, kind=EventKind.REFRESHED).exists()
    response = holder.post(
        _share_post(document), {"claims": ["age_over_18"], "valid_minutes": "15"}
    )
    assert response.status_code == 302
    assert Share.objects.get(document=document).claims == ["age_over_18"]


def test_the_share_post_refreshes_the_age_claims_too(
    client: Client, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = turned_18(family, monkeypatch)
    holder = portal_login(client, EidAccount.objects.get(person=document.holder))
    response = holder.post(
        _share_post(document), {"claims": ["age_over_18"], "valid_minutes": "15"}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("credential", ["x" * (jose.MAX_TOKEN + 10), "not.a.jws~", "~~"])
def test_an_unreadable_stored_credential_shows_the_document_without_sharing(
    father: Client, family: Family, credential: str
) -> None:
    document = driving_licence(family)
    Document.objects.filter(pk=document.pk).update(credential=credential)
    response = father.get(_detail(document))
    assert response.status_code == 200
    html = response.content.decode()
    assert document.number in html
    assert "không chia sẻ được" in html
    assert 'name="claims"' not in html
    response = father.post(_share_post(document), {"claims": ["full_name"], "valid_minutes": "15"})
    assert response.status_code == 400
    assert "không chia sẻ được" in response.content.decode()
    assert not Share.objects.exists()
    assert father.get(LIST).status_code == 200

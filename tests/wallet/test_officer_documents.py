"""Officers change the status of documents their own agency issued (/office/documents/):
find by number or by the holder's ID number, read (access-logged), suspend, reinstate,
revoke with a reason; another agency's document is a 404. Also the dossier page's
download of an attached scan (the wallet's safe scan response)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.core.errors import PermissionDenied
from congdan.core.models import AgencyKind
from congdan.core.permissions import Role
from congdan.procedures.views import officer as procedures_officer
from congdan.wallet import services
from congdan.wallet.models import Document, DocumentEvent, DocumentStatus, EventKind
from congdan.wallet.views import officer as wallet_officer
from tests import factories
from tests.identity.helpers import portal_login
from tests.wallet.conftest import Family, issue

if TYPE_CHECKING:
    from tests.conftest import World

SEARCH = reverse("wallet:office_documents")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _page(document: Document) -> str:
    return reverse("wallet:office_document", args=[document.number])


def _status(document: Document) -> str:
    return reverse("wallet:office_document_status", args=[document.number])


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def officer(client: Client, family: Family) -> Client:
    client.force_login(family.officer)
    return client


def _reads(document: Document, view: str = "wallet_office_document") -> int:
    return AccessLogEntry.objects.filter(person_id=document.holder_id, view=view).count()


# --- finding -----------------------------------------------------------------------------


def test_search_page_and_nav_link(officer: Client) -> None:
    response = officer.get(SEARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Giấy tờ do cơ quan cấp" in html
    assert f'href="{SEARCH}"' in html  # the nav link, next to the uploads queue
    assert reverse("wallet:office_uploads") in html


def test_find_by_exact_number_opens_the_document(officer: Client, family: Family) -> None:
    document = issue(family)
    response = officer.get(SEARCH, {"q": f"  {document.number} "})
    assert response.status_code == 302
    assert response["Location"] == _page(document)
    # Not a prefix search.
    html = officer.get(SEARCH, {"q": document.number[:-1]}).content.decode()
    assert "Không tìm thấy giấy tờ nào" in html


def test_find_by_id_number_lists_the_agencys_documents_of_that_person(
    officer: Client, family: Family
) -> None:
    first = issue(family, holder=family.father)
    second = issue(family, holder=family.father, source_ref="HS-2")
    elsewhere = services.create_issued(
        actor=None,
        actor_label="test",
        holder=family.father,
        doc_type="driving_licence",
        title_vi="Giấy phép lái xe",
        title_en="Driving licence",
        issuer=factories.make_agency(None, kind=AgencyKind.TRANSPORT),
        data={"full_name": family.father.full_name},
        source_ref="",
    )
    other_person = issue(family, holder=family.child)
    before = _reads(first, "wallet_office_documents")
    html = officer.get(SEARCH, {"q": family.father.id_number}).content.decode()
    assert first.number in html and second.number in html
    assert _page(first) in html
    assert elsewhere.number not in html
    assert other_person.number not in html
    assert _reads(first, "wallet_office_documents") == before + 1
    entry = AccessLogEntry.objects.filter(view="wallet_office_documents").latest("id")
    assert entry.actor == family.officer
    assert entry.purpose == "document_status"
    assert entry.fields == "wallet_document"


def test_another_agencys_document_is_not_found(
    client: Client, family: Family, world: World
) -> None:
    document = issue(family)
    other = factories.make_user(
        Role.OFFICER, agency=factories.make_agency(world.commune, kind=AgencyKind.JUSTICE)
    )
    client.force_login(other)
    html = client.get(SEARCH, {"q": document.number}).content.decode()
    assert "Không tìm thấy giấy tờ nào" in html
    assert document.number not in client.get(SEARCH, {"q": family.child.id_number}).content.decode()
    assert client.get(_page(document)).status_code == 404
    response = client.post(_status(document), {"action": "revoke", "reason": "Sai"})
    assert response.status_code == 404
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID
    assert _reads(document) == 0


def test_an_upload_is_not_an_agency_document(officer: Client, family: Family) -> None:
    scan = services.upload_scan(
        family.father,
        file=SimpleUploadedFile("a.pdf", PDF),
        title="Bằng",
        doc_type="diploma",
        claimed_issuer="Trường",
    )
    assert officer.get(_page(scan)).status_code == 404


def test_empty_search_is_a_form_error(officer: Client) -> None:
    response = officer.get(SEARCH, {"q": "  "})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()


# --- the document page -------------------------------------------------------------------


def test_document_page_is_read_only_and_logged(officer: Client, family: Family) -> None:
    document = issue(family)
    services.create_share(
        family.father,
        number=document.number,
        claims=["full_name"],
        valid_minutes=60,
        note="Ngân hàng riêng tư",
    )
    before = _reads(document)
    response = officer.get(_page(document))
    assert response.status_code == 200
    html = response.content.decode()
    assert document.number in html
    assert family.child.full_name in html and family.child.id_number in html
    assert "Còn hiệu lực" in html
    assert 'value="suspend"' in html and 'value="revoke"' in html
    assert 'value="reinstate"' not in html
    # The holder's shares and their notes are not the issuer's business.
    assert "Ngân hàng riêng tư" not in html
    assert "Cấp giấy tờ" in html
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert _reads(document) == before + 1
    entry = AccessLogEntry.objects.filter(view="wallet_office_document").latest("id")
    assert (entry.actor, entry.channel, entry.fields, entry.purpose) == (
        family.officer,
        "ui",
        "wallet_document",
        "document_status",
    )


def test_suspend_reinstate_revoke(officer: Client, family: Family) -> None:
    document = issue(family)
    response = officer.post(_status(document), {"action": "suspend", "reason": "Đang xác minh"})
    assert response.status_code == 302 and response["Location"] == _page(document)
    document.refresh_from_db()
    assert document.status == DocumentStatus.SUSPENDED
    assert document.suspended_by == family.officer
    html = officer.get(_page(document)).content.decode()
    assert "Đang xác minh" in html
    assert 'value="reinstate"' in html and 'value="suspend"' not in html

    officer.post(_status(document), {"action": "reinstate", "reason": "Đã xác minh xong"})
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID

    officer.post(_status(document), {"action": "revoke", "reason": "Cấp nhầm"})
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED
    assert document.revocation_reason == "Cấp nhầm"
    kinds = list(DocumentEvent.objects.filter(document=document).values_list("kind", flat=True))
    assert {EventKind.SUSPENDED, EventKind.REINSTATED, EventKind.REVOKED} <= set(kinds)
    assert ChangeRecord.objects.filter(action="revoke_document", person_id=document.holder_id)
    html = officer.get(_page(document)).content.decode()
    assert "không thay đổi được trạng thái" in html
    assert 'name="action"' not in html
    # The holder sees it revoked.
    citizen = portal_login(Client(), family.father_account)
    detail = citizen.get(reverse("wallet:document", args=[document.number])).content.decode()
    assert "Cấp nhầm" in detail


def test_reason_is_required(officer: Client, family: Family) -> None:
    document = issue(family)
    for data in ({"action": "revoke", "reason": ""}, {"action": "revoke", "reason": "   "}):
        response = officer.post(_status(document), data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "error-summary" in html and "Nhập lý do." in html
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


def test_a_change_the_status_does_not_allow_is_a_form_error(
    officer: Client, family: Family
) -> None:
    document = issue(family)
    response = officer.post(_status(document), {"action": "reinstate", "reason": "Thử"})
    assert response.status_code == 400
    assert "Chỉ khôi phục được giấy tờ đang bị tạm đình chỉ." in response.content.decode()
    services.revoke_document(family.officer, number=document.number, reason="Cấp nhầm")
    response = officer.post(_status(document), {"action": "revoke", "reason": "Lần nữa"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Giấy tờ đã bị thu hồi trước đó." in html
    response = officer.post(_status(document), {"action": "delete", "reason": "x"})
    assert response.status_code == 400


def test_not_issuer_from_the_service_is_a_404(
    officer: Client, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service decides too (the agency may change between the read and the call)."""
    document = issue(family)

    def not_issuer(actor: Any, *, number: str, reason: str) -> Document:
        raise PermissionDenied("x", code="not_issuer")

    monkeypatch.setitem(wallet_officer.STATUS_SERVICES, "revoke", not_issuer)
    response = officer.post(_status(document), {"action": "revoke", "reason": "Sai"})
    assert response.status_code == 404


def test_denied_without_permission(client: Client, family: Family, world: World) -> None:
    document = issue(family)
    for url in (SEARCH, _page(document)):
        assert Client().get(url).status_code == 302
    client.force_login(world.nobody)
    assert client.get(SEARCH).status_code == 403
    assert client.get(_page(document)).status_code == 403
    assert client.post(_status(document), {"action": "revoke", "reason": "x"}).status_code == 403
    citizen = portal_login(Client(), family.father_account)
    assert citizen.get(_page(document)).status_code == 403
    assert citizen.post(_status(document), {"action": "revoke", "reason": "x"}).status_code == 403
    assert client.get(_status(document)).status_code in (403, 405)
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


def test_a_user_without_agency_finds_nothing(client: Client, family: Family) -> None:
    document = issue(family)
    client.force_login(factories.make_user(Role.ADMIN))
    assert client.get(_page(document)).status_code == 404
    assert document.number not in client.get(SEARCH, {"q": family.child.id_number}).content.decode()


# --- the dossier page's scan download ------------------------------------------------------


def _attached(monkeypatch: pytest.MonkeyPatch, document: Document) -> str:
    """Stand in for the procedures selector (tested in tests/procedures): the view's file
    branch only."""
    monkeypatch.setattr(
        procedures_officer.selectors,
        "wallet_attachment_for_officer",
        lambda actor, code, attachment_id: SimpleNamespace(
            wallet_document=Document.objects.get(pk=document.pk)
        ),
    )
    return reverse("procedures:office_wallet_document", args=["HS0000000001", 1])


def test_dossier_scan_download_is_the_wallets_safe_response(
    officer: Client, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = services.upload_scan(
        family.father,
        file=SimpleUploadedFile("a.pdf", PDF),
        title="Bằng",
        doc_type="diploma",
        claimed_issuer="Trường",
    )
    url = _attached(monkeypatch, scan)
    response = officer.get(url, {"file": "1"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]  # FileResponse
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("inline;")
    # The stored file is gone: a 404, not a 500.
    scan.file.storage.delete(scan.file.name)
    assert officer.get(url, {"file": "1"}).status_code == 404
    # An issued document has no scan.
    url = _attached(monkeypatch, issue(family))
    assert officer.get(url, {"file": "1"}).status_code == 404

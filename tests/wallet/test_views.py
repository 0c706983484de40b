"""The citizen's document pages: list, detail, signed JSON; 404 for anyone else's."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from jwcrypto import jws

from congdan.identity import keys
from congdan.wallet import services, signing
from congdan.wallet.models import Document
from tests.identity.helpers import portal_login
from tests.wallet.conftest import Family, issue

if TYPE_CHECKING:
    from tests.conftest import World

LIST = reverse("wallet:documents")


def _detail(document: Document) -> str:
    return reverse("wallet:document", args=[document.number])


def _download(document: Document) -> str:
    return reverse("wallet:document_download", args=[document.number])


@pytest.fixture
def father(client: Client, family: Family) -> Client:
    return portal_login(client, family.father_account)


def _assert_to_portal_login(response: HttpResponseBase) -> None:
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("identity:portal_login")


def test_anonymous_goes_to_login(client: Client, family: Family) -> None:
    document = issue(family)
    for url in (LIST, _detail(document), _download(document)):
        _assert_to_portal_login(client.get(url))


def test_an_officer_is_not_a_citizen(client: Client, family: Family) -> None:
    document = issue(family)
    client.force_login(family.officer)
    for url in (LIST, _detail(document)):
        _assert_to_portal_login(client.get(url))


def test_list_shows_own_and_childrens_documents(father: Client, family: Family) -> None:
    issue(
        family,
        holder=family.father,
        doc_type="residence_confirmation",
        title_vi="Xác nhận thông tin cư trú",
        title_en="Residence confirmation",
    )
    child_doc = issue(family)
    response = father.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Giấy tờ của tôi" in html
    assert "Xác nhận thông tin cư trú" in html
    assert "Giấy tờ của con chưa thành niên" in html
    assert "Nguyễn Minh Khang" in html
    assert _detail(child_doc) in html


def test_list_when_empty(father: Client, family: Family) -> None:
    response = father.get(LIST)
    assert response.status_code == 200
    assert "Bạn chưa có giấy tờ điện tử nào." in response.content.decode()


def test_list_in_english(father: Client, family: Family) -> None:
    issue(family)
    father.cookies["django_language"] = "en"
    response = father.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Birth certificate" in response.content.decode()


def test_detail(father: Client, family: Family) -> None:
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
    assert family.child.birth_date.strftime("%d/%m/%Y") in html  # an ISO date field, shown
    assert "Họ tên cha" in html
    assert _download(document) in html
    assert response["Cache-Control"].startswith("max-age=0")


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


def test_download_is_the_signed_json(father: Client, family: Family) -> None:
    document = issue(family)
    response = father.get(_download(document))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="{document.number}.json"'
    body = json.loads(response.content)
    assert body["document"]["number"] == document.number
    assert body["document"]["holder"] == {"id_number": family.child.id_number}
    assert body["status"] == "valid"
    assert body["signature"]["jwks_uri"].endswith(reverse("identity:oidc_jwks"))
    # Anyone can check it with the published key named by kid.
    token = jws.JWS()
    token.deserialize(body["signature"]["jws"])
    key = keys.key_for_kid(body["signature"]["kid"])
    assert key is not None
    token.verify(key, alg="RS256")
    assert json.loads(token.payload) == body["document"]
    assert token.payload == signing.canonical(body["document"])


def test_another_citizen_gets_404(client: Client, family: Family) -> None:
    document = issue(family)
    portal_login(client, family.neighbour_account)
    assert client.get(_detail(document)).status_code == 404
    assert client.get(_download(document)).status_code == 404
    assert family.child.full_name not in client.get(LIST).content.decode()


def test_unknown_number_is_404(father: Client, family: Family) -> None:
    assert father.get(reverse("wallet:document", args=["nope"])).status_code == 404


def test_pages_are_get_only(father: Client, family: Family) -> None:
    document = issue(family)
    assert father.post(LIST).status_code == 405
    assert father.post(_detail(document)).status_code == 405


def test_the_mother_sees_her_childs_document(client: Client, world: World, family: Family) -> None:
    from tests.identity.helpers import make_account

    document = issue(family)
    portal_login(client, make_account(family.mother, phone="0987000004"))
    assert client.get(_detail(document)).status_code == 200

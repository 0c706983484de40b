"""Citizen pages of the wallet: my documents, one document, its signed JSON.

Views parse, call the selectors, render. A document the citizen may not see is a 404.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from congdan.core.errors import NotFound
from congdan.identity.decorators import citizen_required
from congdan.identity.models import EidAccount
from congdan.registry.models import Person, Sex
from congdan.wallet import signing
from congdan.wallet.models import Document
from congdan.wallet.selectors import (
    documents_for_citizen,
    get_document_for_citizen,
    verify_document,
)

# Labels of the fields procedure specs commonly put in a document; any other field is
# shown under its code.
FIELD_LABELS = {
    "full_name": _("Họ, chữ đệm và tên"),
    "id_number": _("Số định danh cá nhân"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "birth_place": _("Nơi sinh"),
    "ethnicity": _("Dân tộc"),
    "nationality": _("Quốc tịch"),
    "father_name": _("Họ tên cha"),
    "mother_name": _("Họ tên mẹ"),
    "card_number": _("Số thẻ"),
    "address": _("Địa chỉ"),
    "registration_place": _("Nơi đăng ký"),
    "registration_date": _("Ngày đăng ký"),
    "valid_from": _("Có giá trị từ"),
    "valid_until": _("Có giá trị đến"),
    "procedure": _("Thủ tục"),
    "dossier": _("Hồ sơ"),
    "child_id_number": _("Số định danh cá nhân của trẻ"),
    "household_code": _("Số hộ"),
    "social_insurance_number": _("Mã số bảo hiểm xã hội"),
}


def _person(request: HttpRequest) -> Person:
    account: EidAccount = request.eid_account  # type: ignore[attr-defined]  # set by citizen_required
    return account.person


def _document(request: HttpRequest, number: str) -> Document:
    try:
        return get_document_for_citizen(_person(request), number)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def _display(key: str, value: Any) -> Any:
    if key == "sex" and value in Sex.values:
        return Sex(value).label
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _fields(document: Document) -> list[tuple[Any, Any]]:
    return [
        (FIELD_LABELS.get(key, key.replace("_", " ")), _display(key, value))
        for key, value in document.data.items()
    ]


@never_cache
@require_GET
@citizen_required
def document_list(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    documents = documents_for_citizen(person)
    return render(
        request,
        "wallet/document_list.html",
        {
            "person": person,
            "own": [d for d in documents if d.holder_id == person.pk],
            "children": [d for d in documents if d.holder_id != person.pk],
        },
    )


@never_cache
@require_GET
@citizen_required
def document_detail(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    return render(
        request,
        "wallet/document_detail.html",
        {
            "document": document,
            "fields": _fields(document),
            "signature_valid": verify_document(document),
            "kid": signing.header_of(document.signature).get("kid", ""),
            "is_child": document.holder_id != _person(request).pk,
        },
    )


@never_cache
@require_GET
@citizen_required
def document_download(request: HttpRequest, number: str) -> HttpResponse:
    """The signed JSON: the content, its JWS (the payload inside is what was signed) and
    where to find the public key."""
    document = _document(request, number)
    header = signing.header_of(document.signature)
    body = {
        "format": signing.FORMAT,
        "document": signing.content_of(document),
        "status": document.status,
        "signature": {
            "jws": document.signature,
            "alg": header.get("alg", ""),
            "kid": header.get("kid", ""),
            "jwks_uri": request.build_absolute_uri(reverse("identity:oidc_jwks")),
        },
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"),
        content_type="application/json; charset=utf-8",
    )
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", document.number)
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    return response

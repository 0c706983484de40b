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
from congdan.wallet import keys
from congdan.wallet.doctypes import field_label
from congdan.wallet.models import CredentialFormat, Document
from congdan.wallet.selectors import (
    documents_for_citizen,
    get_document_for_citizen,
    verify_document,
)

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
        (field_label(key), _display(key, value))
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
            "verdict": verify_document(document),
            "is_child": document.holder_id != _person(request).pk,
        },
    )


@never_cache
@require_GET
@citizen_required
def document_download(request: HttpRequest, number: str) -> HttpResponse:
    """The credential as issued: an SD-JWT VC (``<JWT>~<disclosures>~``) or a compact
    JWS, as a file a verifier or another wallet can read."""
    document = _document(request, number)
    if not document.credential or document.issuer is None:
        raise Http404
    media = (
        "application/dc+sd-jwt"
        if document.credential_format == CredentialFormat.SD_JWT_VC
        else "application/jwt"
    )
    response = HttpResponse(document.credential.encode("ascii"), content_type=media)
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", document.number)
    suffix = "sd-jwt" if document.credential_format == CredentialFormat.SD_JWT_VC else "jwt"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{suffix}"'
    response["Link"] = f'<{keys.jwks_uri(document.issuer)}>; rel="jwks"'
    return response

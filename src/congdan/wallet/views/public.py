"""Public issuer endpoints: the issuer identifier, its JWKS, its status lists, and the
JWT VC Issuer Metadata. No login; cacheable (keys for an hour, status lists for
``statuslist.TTL`` seconds so a revocation reaches verifiers within a minute)."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from congdan.core.models import Agency
from congdan.wallet import keys, statuslist
from congdan.wallet.models import StatusList

KEYS_MAX_AGE = 3600


def _json(body: Any, *, max_age: int, content_type: str = "application/json") -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type=content_type)
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"  # offline verifiers fetch from any page
    return response


def _agency(code: str) -> Agency:
    return get_object_or_404(Agency, code=code)


@require_GET
def issuer(request: HttpRequest, code: str) -> HttpResponse:
    return _json(keys.issuer_metadata(_agency(code)), max_age=KEYS_MAX_AGE)


@require_GET
def issuer_metadata(request: HttpRequest, code: str) -> HttpResponse:
    return _json(keys.issuer_metadata(_agency(code)), max_age=KEYS_MAX_AGE)


@require_GET
def issuer_jwks(request: HttpRequest, code: str) -> HttpResponse:
    agency = _agency(code)
    # No key is made here: a public GET writes nothing (an agency that never issued
    # publishes an empty set).
    return _json(keys.jwks(agency), max_age=KEYS_MAX_AGE, content_type="application/jwk-set+json")


@require_GET
def status_list(request: HttpRequest, code: str, number: int) -> HttpResponse:
    found = StatusList.objects.select_related("agency").filter(agency__code=code, number=number)
    status = found.first()
    if status is None:
        raise Http404
    response = HttpResponse(statuslist.token(status), content_type="application/statuslist+jwt")
    response["Cache-Control"] = f"public, max-age={statuslist.TTL}"
    response["Access-Control-Allow-Origin"] = "*"
    return response

"""The member organisations' API (mounted at ``/api/v1/exchange/``).

Authentication: a client-credentials access token (scope ``exchange:query``) of a member
subsystem. Every call names its purpose (``X-Purpose`` header or ``purpose`` field); the
grant decides which fields come back. Refusal codes: ``policy`` module docstring and
docs/exchange.md.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, Path, Query, Router, Schema

from congdan.core.errors import ValidationFailed
from congdan.exchange import catalogue, policy, selectors
from congdan.exchange.models import DataService, ServiceKind
from congdan.exchange.openapi import service_openapi

router = Router(auth=policy.ExchangeAuth())

PURPOSE = Header(
    None,
    alias="X-Purpose",
    description="Purpose code of the call (e.g. `kyc_account_opening`); required.",
)
ID_NUMBER = Path(..., description="Personal ID number: 12 digits.", examples=["048090000123"])


class ErrorOut(Schema):
    code: str
    message: str


def errors(*statuses: int) -> dict[int, Any]:
    """The error responses of an operation, for the OpenAPI description."""
    return dict.fromkeys(statuses, ErrorOut)


ERRORS = errors(401, 403, 404, 422, 429)


class PurposeOut(Schema):
    code: str
    name: str
    legal_basis: str
    requires_consent: bool


class ServiceOut(Schema):
    code: str
    kind: str
    name: str
    description: str
    fields: list[str]
    purposes: list[PurposeOut]
    openapi: str


class LookupParams(Schema):
    service: str = Field("person-basic", max_length=40, description="A lookup service's code.")
    fields: str = Field(
        "", max_length=400, description="Comma-separated fields (default: all the grant allows)."
    )


class LookupOut(Schema):
    service: str
    purpose: str
    fields: list[str]
    person: dict[str, Any]


class VerifyIn(Schema):
    id_number: str = Field(..., max_length=20)
    attributes: dict[str, Any] = Field(
        ..., description="Attributes to compare, e.g. {full_name, birth_date}."
    )
    purpose: str | None = Field(None, max_length=60)


class VerifyOut(Schema):
    id_number: str
    results: dict[str, str]
    all_match: bool


def _service_out(service: DataService, request: HttpRequest) -> ServiceOut:
    spec = catalogue.SERVICE_BY_CODE.get(service.code)
    return ServiceOut(
        code=service.code,
        kind=service.kind,
        name=str(spec.name) if spec else service.name,
        description=str(spec.description) if spec else service.description,
        fields=list(service.fields),
        purposes=[
            PurposeOut(
                code=p.code,
                name=p.name,
                legal_basis=p.legal_basis,
                requires_consent=p.requires_consent,
            )
            for p in service.purposes.order_by("code")
        ],
        openapi=request.build_absolute_uri(
            f"/api/v1/exchange/services/{service.code}/openapi.json"
        ),
    )


@router.get(
    "/services",
    response={200: list[ServiceOut], **ERRORS},
    auth=None,
    summary="The data-service catalogue (public)",
)
def list_services(request: HttpRequest) -> list[ServiceOut]:
    return [
        _service_out(service, request)
        for service in DataService.objects.filter(active=True).order_by("code")
    ]


@router.get(
    "/services/{code}/openapi.json",
    auth=None,
    summary="OpenAPI description of one data service (public)",
    response={200: dict[str, Any], **ERRORS},
)
def service_description(request: HttpRequest, code: str = Path(..., max_length=40)) -> Any:
    service = policy.service_by_code(code)
    return service_openapi(service, base_url=request.build_absolute_uri("/api/v1/exchange"))


def _fields_param(raw: str) -> list[str] | None:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    return names or None


@router.get(
    "/persons/{id_number}",
    response={200: LookupOut, **ERRORS},
    summary="Look up a person for a lookup service (granted fields only)",
)
def lookup_person(
    request: HttpRequest,
    id_number: str = ID_NUMBER,
    params: Query[LookupParams] = ...,  # type: ignore[assignment]  # ninja fills it
    x_purpose: str | None = PURPOSE,
) -> LookupOut:
    caller = policy.caller_of(request)
    service = policy.service_by_code(params.service)
    if service.kind != ServiceKind.LOOKUP:
        raise ValidationFailed(
            _("Dịch vụ %(service)s không phải dịch vụ tra cứu; dùng địa chỉ của dịch vụ đó.")
            % {"service": service.code},
            code="wrong_service_kind",
        )
    auth = policy.authorize(
        caller, service=service.code, purpose=x_purpose, fields=_fields_param(params.fields)
    )
    person = selectors.lookup(auth, id_number)
    return LookupOut(
        service=auth.service.code,
        purpose=auth.purpose.code,
        fields=list(auth.fields),
        person=person,
    )


@router.post(
    "/verify",
    response={200: VerifyOut, **ERRORS},
    summary="Verify attributes of a person: match / no_match each, no data disclosed",
)
def verify_person(
    request: HttpRequest, body: VerifyIn, x_purpose: str | None = PURPOSE
) -> dict[str, Any]:
    caller = policy.caller_of(request)
    selectors.check_attributes(body.attributes)
    auth = policy.authorize(
        caller,
        service="verify-identity",
        purpose=body.purpose or x_purpose,
        fields=list(body.attributes),
    )
    return selectors.verify(auth, body.id_number, body.attributes)

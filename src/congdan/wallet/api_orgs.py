"""Wallet endpoints for organisations' systems (mounted at ``/api/v1/wallet/``).

Authentication: a client-credentials access token from ``/o/token/``
(``identity.api_auth.ClientCredentialsAuth``). Issuers (scope ``wallet:issue``, bound to
an agency) push documents and change their status; requesters (scope ``wallet:read``)
pull a citizen's documents with the citizen's consent. Handlers parse, call a service
and shape the answer; every error is ``{"code", "message"}``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ninja import Field, Header, Query, Router, Schema, Status

from congdan.identity.api_auth import ClientActor, ClientCredentialsAuth
from congdan.wallet.services import consents, pushing

if TYPE_CHECKING:
    from django.http import HttpRequest

    from congdan.wallet.models import Document

router = Router()

ISSUE = ClientCredentialsAuth("wallet:issue")
READ = ClientCredentialsAuth("wallet:read")


class ErrorOut(Schema):
    code: str
    message: str


class PushIn(Schema):
    holder_id_number: str = Field(pattern=r"^\d{12}$", description="personal ID number")
    doc_type: str = Field(min_length=1, max_length=40, description="e.g. driving_licence")
    title_vi: str = Field("", max_length=200)
    title_en: str = Field("", max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, description="the document's fields")
    valid_until: dt.date | None = None
    source_ref: str = Field("", max_length=80)
    integrated: bool = False


class PushOut(Schema):
    number: str
    credential: str
    credential_format: str
    status: str


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class IssuedOut(Schema):
    number: str
    doc_type: str
    title_vi: str
    title_en: str
    holder_id_number: str
    issued_at: dt.datetime
    valid_until: dt.date | None
    status: str
    credential_format: str
    suspended_at: dt.datetime | None
    revoked_at: dt.datetime | None


class PulledOut(Schema):
    number: str
    doc_type: str
    credential: str
    credential_format: str
    status: str


class PullParams(Schema):
    doc_type: str = Field(min_length=1, max_length=40)
    purpose: str = Field("", max_length=200)


def _client(request: HttpRequest) -> ClientActor:
    client = request.auth  # type: ignore[attr-defined]  # set by ClientCredentialsAuth
    assert isinstance(client, ClientActor)  # noqa: S101 -- the auth class guarantees it
    return client


def _pushed(document: Document) -> dict[str, Any]:
    return {
        "number": document.number,
        "credential": document.credential,
        "credential_format": document.credential_format,
        "status": document.effective_status,
    }


def _issued(document: Document) -> dict[str, Any]:
    return {
        "number": document.number,
        "doc_type": document.doc_type,
        "title_vi": document.title_vi,
        "title_en": document.title_en,
        "holder_id_number": document.holder.id_number,
        "issued_at": document.issued_at,
        "valid_until": document.valid_until,
        "status": document.effective_status,
        "credential_format": document.credential_format,
        "suspended_at": document.suspended_at,
        "revoked_at": document.revoked_at,
    }


ERRORS: dict[int, type[Schema]] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


@router.post(
    "/documents",
    auth=ISSUE,
    response={201: PushOut, **ERRORS},
    summary="Issue a document to a citizen's wallet (issuer, scope wallet:issue)",
)
def push(request: HttpRequest, body: PushIn) -> Status:
    document = pushing.push_document(
        _client(request),
        holder_id_number=body.holder_id_number,
        doc_type=body.doc_type,
        title_vi=body.title_vi,
        title_en=body.title_en,
        data=body.data,
        valid_until=body.valid_until,
        source_ref=body.source_ref,
        integrated=body.integrated,
    )
    return Status(201, _pushed(document))


@router.get(
    "/documents/{number}",
    auth=ISSUE,
    response={200: IssuedOut, **ERRORS},
    summary="Status of a document this agency issued (issuer, scope wallet:issue)",
)
def issued(request: HttpRequest, number: str) -> dict[str, Any]:
    return _issued(pushing.read_issued_document(_client(request), number))


def _change(request: HttpRequest, number: str, change: str, body: ReasonIn) -> dict[str, Any]:
    document = pushing.change_document_status(
        _client(request), number=number, change=change, reason=body.reason
    )
    return _issued(document)


@router.post(
    "/documents/{number}/revoke",
    auth=ISSUE,
    response={200: IssuedOut, **ERRORS},
    summary="Revoke a document (final)",
)
def revoke(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _change(request, number, "revoke", body)


@router.post(
    "/documents/{number}/suspend",
    auth=ISSUE,
    response={200: IssuedOut, **ERRORS},
    summary="Suspend a valid document",
)
def suspend(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _change(request, number, "suspend", body)


@router.post(
    "/documents/{number}/reinstate",
    auth=ISSUE,
    response={200: IssuedOut, **ERRORS},
    summary="Make a suspended document valid again",
)
def reinstate(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    return _change(request, number, "reinstate", body)


@router.get(
    "/holders/{id_number}/documents",
    auth=READ,
    response={200: list[PulledOut], **ERRORS},
    summary="Pull a citizen's documents of one type with their consent (scope wallet:read)",
)
def pull(
    request: HttpRequest,
    id_number: str,
    params: Query[PullParams],
    x_purpose: str = Header("", alias="X-Purpose", max_length=200),
) -> list[dict[str, Any]]:
    documents = consents.pull_documents(
        _client(request),
        id_number=id_number,
        doc_type=params.doc_type,
        purpose=params.purpose or x_purpose,
    )
    return [
        {
            "number": d.number,
            "doc_type": d.doc_type,
            "credential": d.credential,
            "credential_format": d.credential_format,
            "status": d.effective_status,
        }
        for d in documents
    ]


__all__ = ["router"]

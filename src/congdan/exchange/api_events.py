"""Relationships and the change-notification pull feed, for member systems (mounted at
``/api/v1/exchange/``).

Authentication: a client-credentials token of a member subsystem
(``policy.ExchangeAuth``). Every call names its purpose (``X-Purpose`` header or
``purpose`` parameter) and is authorized for the ``person-events`` service.

- ``POST /relationships`` ``{"id_number", "reference"?}`` records the member's
  relationship with a person (201 when new, 200 when it already existed);
- ``DELETE /relationships/{id_number}`` ends it (204);
- ``GET /relationships?after=&limit=`` lists the active ones (cursor paging);
- ``GET /events?after=&limit=`` is the pull feed (``exchange.notifications``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ninja import Field, Header, Query, Router, Schema, Status

from congdan.exchange import notifications, policy
from congdan.exchange.api import errors
from congdan.exchange.services import relationships

if TYPE_CHECKING:
    from django.http import HttpRequest

router = Router(auth=policy.ExchangeAuth())

MAX_CURSOR = 2**63 - 1  # a 64-bit id


ERRORS = errors(401, 403, 404, 409, 422, 429)


class RelationshipIn(Schema):
    id_number: str = Field(max_length=20, description="personal ID number (12 digits)")
    reference: str = Field("", max_length=80, description="the member's customer/contract no.")
    purpose: str = Field("", max_length=60, description="instead of the X-Purpose header")


class RelationshipOut(Schema):
    id_number: str
    reference: str
    created_at: dt.datetime
    created: bool


class RelationshipItem(Schema):
    id_number: str
    reference: str
    created_at: dt.datetime


class RelationshipPageOut(Schema):
    relationships: list[RelationshipItem]
    next: int | None = Field(description="cursor of the next page; null on the last page")


class PageParams(Schema):
    after: int = Field(
        0, ge=0, le=MAX_CURSOR, description="cursor: the `next` of the previous page"
    )
    limit: int = Field(100, ge=1, le=1000)
    purpose: str = Field("", max_length=60)


class EventOut(Schema):
    id: int
    kind: str = Field(description="death | residence_change | name_change")
    id_number: str
    event_date: dt.date
    recorded_at: dt.datetime


class FeedOut(Schema):
    events: list[EventOut]
    next: int = Field(description="cursor for the next call (`after`)")


def _authorize(request: HttpRequest, purpose: str) -> policy.Authorization:
    return policy.authorize(
        policy.caller_of(request), service=notifications.SERVICE, purpose=purpose
    )


@router.post(
    "/relationships",
    response={200: RelationshipOut, 201: RelationshipOut, **ERRORS},
    summary="Record a relationship with a person (for change notifications)",
)
def record(
    request: HttpRequest,
    body: RelationshipIn,
    x_purpose: str = Header("", alias="X-Purpose", max_length=200),
) -> Status:
    auth = _authorize(request, body.purpose or x_purpose)
    done = relationships.record_relationship(
        auth, id_number=body.id_number, reference=body.reference
    )
    rel = done.relationship
    return Status(
        201 if done.created else 200,
        {
            "id_number": body.id_number.strip(),
            "reference": rel.reference,
            "created_at": rel.created_at,
            "created": done.created,
        },
    )


@router.delete(
    "/relationships/{id_number}",
    response={204: None, **ERRORS},
    summary="End the relationship with a person",
)
def end(
    request: HttpRequest,
    id_number: str,
    purpose: str = "",
    x_purpose: str = Header("", alias="X-Purpose", max_length=200),
) -> Status:
    auth = _authorize(request, purpose or x_purpose)
    relationships.end_relationship(auth, id_number=id_number[:20])
    return Status(204, None)


@router.get(
    "/relationships",
    response={200: RelationshipPageOut, **ERRORS},
    summary="The member's active relationships (cursor paging)",
)
def listing(
    request: HttpRequest,
    params: Query[PageParams],
    x_purpose: str = Header("", alias="X-Purpose", max_length=200),
) -> dict[str, Any]:
    auth = _authorize(request, params.purpose or x_purpose)
    page = relationships.list_relationships(auth.caller, after=params.after, limit=params.limit)
    return {"relationships": page.items, "next": page.next}


@router.get(
    "/events",
    response={200: FeedOut, **ERRORS},
    summary="Change notifications about related persons (pull feed with a cursor)",
)
def events(
    request: HttpRequest,
    params: Query[PageParams],
    x_purpose: str = Header("", alias="X-Purpose", max_length=200),
) -> dict[str, Any]:
    auth = _authorize(request, params.purpose or x_purpose)
    return notifications.feed(auth, after=params.after, limit=params.limit)


__all__ = ["router"]

"""A member's recorded relationships with persons (its customers, insured persons …).

A relationship is what entitles a member to change notifications about a person
(``exchange.notifications``). The member records it through the API under a call
authorized for the ``person-events`` service; only a person the registry holds can be
recorded, and recording is an access to that person's data (the citizen's data tracker
shows it, field ``relationship``). Recording again is idempotent (the reference is
updated when a new one is given); ending keeps the row, with ``ended_at``, as history.

The actor of these functions is the member's authorized call (``policy.Authorization``):
``policy.authorize`` has already checked the grant, the purpose and the rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Outcome
from congdan.core.errors import NotFound, ValidationFailed
from congdan.exchange import policy
from congdan.exchange.models import Relationship
from congdan.exchange.policy import Authorization, Caller
from congdan.registry.models import Person
from congdan.registry.selectors import check_id_number_format

LOG_FIELDS = ("relationship",)
MAX_REFERENCE = 80
MAX_PAGE = 1000


def _checked_reference(reference: str | None) -> str:
    value = (reference or "").strip()
    if len(value) > MAX_REFERENCE or not value.isprintable():
        raise ValidationFailed(
            _("Mã tham chiếu không hợp lệ (ký tự in được, tối đa %(max)d ký tự).")
            % {"max": MAX_REFERENCE},
            code="invalid_reference",
            field="reference",
        )
    return value


def _person_id(id_number: str) -> int:
    number = check_id_number_format(id_number)
    pk = Person.objects.filter(id_number=number).values_list("pk", flat=True).first()
    if pk is None:
        raise NotFound(_("Không tìm thấy công dân có số định danh này."), code="person_not_found")
    return int(pk)


@dataclass(frozen=True)
class Recorded:
    relationship: Relationship
    created: bool


def record_relationship(
    auth: Authorization, *, id_number: str, reference: str | None = None
) -> Recorded:
    """Record (or confirm) the member's relationship with the person holding
    ``id_number``; one access-log entry either way."""
    ref = _checked_reference(reference)
    person_id = _person_id(id_number)
    member = auth.caller.member
    created = False
    with transaction.atomic():
        existing = (
            Relationship.objects.select_for_update()
            .filter(member=member, person_id=person_id, ended_at__isnull=True)
            .first()
        )
        if existing is None:
            try:
                with transaction.atomic():
                    existing = Relationship.objects.create(
                        member=member, person_id=person_id, reference=ref
                    )
                created = True
            except IntegrityError:  # a concurrent call recorded it first
                existing = Relationship.objects.get(
                    member=member, person_id=person_id, ended_at__isnull=True
                )
        if not created and ref and existing.reference != ref:
            existing.reference = ref
            existing.save(update_fields=["reference"])
        policy.log(auth, [person_id], outcome=Outcome.OK, fields=LOG_FIELDS)
    return Recorded(existing, created)


def end_relationship(auth: Authorization, *, id_number: str) -> Relationship:
    """End the member's active relationship with the person: no more notifications."""
    number = check_id_number_format(id_number)
    with transaction.atomic():
        relationship = (
            Relationship.objects.select_for_update()
            .filter(member=auth.caller.member, person__id_number=number, ended_at__isnull=True)
            .first()
        )
        if relationship is None:
            raise NotFound(
                _("Tổ chức không có quan hệ đang hiệu lực với công dân này."),
                code="relationship_not_found",
            )
        relationship.ended_at = timezone.now()
        relationship.save(update_fields=["ended_at"])
    return relationship


@dataclass(frozen=True)
class RelationshipPage:
    items: list[dict[str, object]]
    next: int | None


def list_relationships(caller: Caller, *, after: int = 0, limit: int = 100) -> RelationshipPage:
    """The member's active relationships, oldest first, after the cursor ``after`` (a
    relationship id); ``next`` is None on the last page. Returns only what the member
    itself recorded (ID numbers and references), so it is not logged as an access."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(
        Relationship.objects.filter(member=caller.member, ended_at__isnull=True, pk__gt=after)
        .order_by("pk")
        .values("pk", "person__id_number", "reference", "created_at")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items: list[dict[str, object]] = [
        {
            "id_number": row["person__id_number"],
            "reference": row["reference"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]
    return RelationshipPage(items=items, next=int(rows[-1]["pk"]) if more else None)

"""Citizens' consents for member organisations (issue 6, part 4).

Some purposes need the citizen's consent (``ServicePurpose.requires_consent``: a bank's
full-profile eKYC, change notifications to a bank): the member's call is refused with
``consent_required`` unless the person holds an active consent for that member × service
× purpose. The citizen grants one here, for 1–365 days, and revokes it at any time.

Granting and revoking are the citizen's own acts on their own person: a change record
each (who, old → new, legal basis of the purpose), no access-log entry. The policy checks
consent live (``policy.has_consent``), so no cache needs clearing.

The offers a citizen may consent to are the (member, service, purpose) triples an active
member holds a grant for, valid today, whose purpose needs consent; the grant's fields
are shown so the citizen knows what the member will receive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import record_change
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.exchange.models import (
    AccessGrant,
    Consent,
    DataService,
    Member,
    MemberStatus,
    ServicePurpose,
)
from congdan.identity.models import AccountStatus
from congdan.identity.selectors import account_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User
    from congdan.registry.models import Person

MIN_DAYS = 1
MAX_DAYS = 365
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Offer:
    """What a citizen may consent to: a member may use a service for a purpose that needs
    consent, and would receive ``fields``."""

    member: Member
    service: DataService
    purpose: ServicePurpose
    fields: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.member.code}|{self.service.code}|{self.purpose.code}"


def person_of(actor: User | AnonymousUser | None) -> Person:
    """The person of an active e-ID account: only a citizen consents, for themself."""
    account = account_of(actor)
    if account is None or account.status != AccountStatus.ACTIVE:
        raise PermissionDenied(
            _("Chỉ công dân có tài khoản định danh điện tử mới thực hiện được thao tác này."),
            code="citizen_required",
        )
    return account.person


def offers(today: dt.date | None = None) -> list[Offer]:
    """Every (member, service, purpose) an active member holds a grant for today, whose
    purpose needs consent, with the union of the granted fields (in catalogue order)."""
    day = today or timezone.localdate()
    grants = (
        AccessGrant.objects.filter(
            member__status=MemberStatus.ACTIVE,
            purpose__requires_consent=True,
            service__active=True,
            revoked_at__isnull=True,
            valid_from__lte=day,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("member", "service", "purpose")
        .order_by("member__name", "service__code", "purpose__code", "pk")
    )
    found: dict[tuple[int, int, int], tuple[AccessGrant, list[str]]] = {}
    for grant in grants:
        key = (grant.member_id, grant.service_id, grant.purpose_id)
        first, fields = found.setdefault(key, (grant, []))
        fields.extend(f for f in grant.fields if f not in fields)
    result = []
    for first, fields in found.values():
        order = list(first.service.fields)
        ordered = tuple(sorted(fields, key=lambda f: order.index(f) if f in order else len(order)))
        result.append(Offer(first.member, first.service, first.purpose, ordered))
    return result


def find_offer(member_code: str, service: str, purpose: str) -> Offer | None:
    for offer in offers():
        if (offer.member.code, offer.service.code, offer.purpose.code) == (
            member_code,
            service,
            purpose,
        ):
            return offer
    return None


def consents_of(person: Person) -> list[Consent]:
    """The person's consents, newest first (active, expired and revoked)."""
    return list(
        Consent.objects.filter(person=person)
        .select_related("member", "service", "purpose")
        .order_by("-granted_at", "-id")
    )


def grant_consent(
    actor: User | AnonymousUser | None,
    *,
    member_code: str,
    service: str,
    purpose: str,
    days: int,
) -> Consent:
    """The citizen lets ``member_code`` use ``service`` for ``purpose`` about them for
    ``days`` days. An active consent for the same triple is renewed to the new end."""
    person = person_of(actor)
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationFailed(
            _("Thời hạn phải từ %(min)d đến %(max)d ngày.") % {"min": MIN_DAYS, "max": MAX_DAYS},
            code="invalid_days",
            field="days",
        )
    member = Member.objects.filter(code=member_code, status=MemberStatus.ACTIVE).first()
    if member is None:
        raise ValidationFailed(
            _("Không tìm thấy tổ chức thành viên này."), code="unknown_member", field="offer"
        )
    data_service = DataService.objects.filter(code=service, active=True).first()
    service_purpose = (
        ServicePurpose.objects.filter(service=data_service, code=purpose).first()
        if data_service is not None
        else None
    )
    if data_service is None or service_purpose is None:
        raise ValidationFailed(
            _("Dịch vụ hoặc mục đích không có trong danh mục."),
            code="unknown_purpose",
            field="offer",
        )
    if not service_purpose.requires_consent:
        raise ValidationFailed(
            _("Mục đích này không dựa trên sự đồng ý của công dân."),
            code="consent_not_applicable",
            field="offer",
        )
    if find_offer(member.code, data_service.code, service_purpose.code) is None:
        raise ValidationFailed(
            _("Tổ chức này không được cấp quyền dùng dịch vụ cho mục đích này."),
            code="no_grant",
            field="offer",
        )
    now = timezone.now()
    until = now + dt.timedelta(days=days)
    with transaction.atomic():
        current = (
            Consent.objects.select_for_update()
            .filter(
                person=person,
                member=member,
                service=data_service,
                purpose=service_purpose,
                revoked_at__isnull=True,
                valid_until__gt=now,
            )
            .order_by("-granted_at", "-id")
            .first()
        )
        if current is not None:
            old = current.valid_until
            current.valid_until = until
            current.save(update_fields=["valid_until"])
            record_change(
                actor,
                action="exchange_consent_renew",
                obj=current,
                person_id=person.pk,
                changes={"valid_until": [old.isoformat(), until.isoformat()]},
                reason="citizen_consent",
                legal_basis=service_purpose.legal_basis,
            )
            return current
        consent = Consent.objects.create(
            person=person,
            member=member,
            service=data_service,
            purpose=service_purpose,
            granted_at=now,
            valid_until=until,
        )
        record_change(
            actor,
            action="exchange_consent_grant",
            obj=consent,
            person_id=person.pk,
            changes={
                "member": [None, member.code],
                "service": [None, data_service.code],
                "purpose": [None, service_purpose.code],
                "valid_until": [None, until.isoformat()],
            },
            reason="citizen_consent",
            legal_basis=service_purpose.legal_basis,
        )
    return consent


def revoke_consent(actor: User | AnonymousUser | None, *, consent_id: int) -> Consent:
    """The citizen withdraws an active consent at once. Someone else's consent, or one
    already revoked or expired, is a NotFound."""
    person = person_of(actor)
    now = timezone.now()
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .filter(pk=consent_id, person=person, revoked_at__isnull=True, valid_until__gt=now)
            .first()
        )
        if consent is None:
            raise NotFound(_("Không tìm thấy sự đồng ý này."), code="consent_not_found")
        consent.revoked_at = now
        consent.save(update_fields=["revoked_at"])
        record_change(
            actor,
            action="exchange_consent_revoke",
            obj=consent,
            person_id=person.pk,
            changes={"revoked_at": [None, now.isoformat()]},
            reason="citizen_consent",
        )
    return consent

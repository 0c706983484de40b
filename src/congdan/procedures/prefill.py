"""Once-only: what the state already knows, for the logged-in applicant.

``resolve`` answers a prefill source of a spec (``applicant.full_name``,
``subject.death_date`` …) from the registry and the e-ID account; ``linked_persons``
lists the persons the registry links to the applicant (children, relatives) — the only
persons an applicant may name as the subject of an application; ``state_holds`` decides
whether a document need not be asked for.

Reading a relative's data for a form is an access to that person's data: the callers
log it (``log_prefill``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.registry.models import (
    HouseholdMembership,
    IdentityCard,
    Person,
    Relationship,
    VitalStatus,
)

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from congdan.identity.models import EidAccount

REGISTRY = _("Cơ sở dữ liệu quốc gia về dân cư")
EID = _("Tài khoản định danh điện tử")


def source_label(source: str) -> Promise:
    return EID if source in ("applicant.phone", "applicant.email") else REGISTRY


def years_between(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass
class Applicant:
    """The applicant as the registry and the e-ID account know them."""

    person: Person
    account: EidAccount | None = None
    _membership: HouseholdMembership | None = field(default=None, init=False)
    _membership_loaded: bool = field(default=False, init=False)

    @property
    def membership(self) -> HouseholdMembership | None:
        if not self._membership_loaded:
            self._membership = (
                HouseholdMembership.objects.select_related(
                    "household__address", "household__commune"
                )
                .filter(person=self.person, until__isnull=True)
                .first()
            )
            self._membership_loaded = True
        return self._membership

    def spouse(self) -> Person | None:
        if self.person.spouse_id is not None:
            return self.person.spouse
        return Person.objects.filter(spouse=self.person).first()


def _child_relationship(applicant: Applicant) -> str:
    """The relationship to the head of household of a child of the applicant."""
    membership = applicant.membership
    if membership is None:
        return ""
    mapping: dict[str, str] = {
        Relationship.HEAD: Relationship.CHILD,
        Relationship.SPOUSE: Relationship.CHILD,
        Relationship.CHILD: Relationship.GRANDCHILD,
        Relationship.CHILD_IN_LAW: Relationship.GRANDCHILD,
    }
    return mapping.get(membership.relationship, Relationship.OTHER_RELATIVE)


def _marital_status(applicant: Applicant) -> str:
    return "married" if applicant.spouse() is not None else "single"


def _valid_card(person: Person) -> IdentityCard | None:
    return person.cards.filter(status="valid").order_by("-issue_date").first()


def _person_value(person: Person, attribute: str, applicant: Applicant | None) -> Any:
    simple = {
        "full_name": lambda: person.full_name,
        "id_number": lambda: person.id_number,
        "birth_date": person.birth_date.isoformat,
        "sex": lambda: person.sex,
        "ethnicity": lambda: person.ethnicity.code,
        "death_date": lambda: person.death_date.isoformat() if person.death_date else "",
        "residence_commune": lambda: (
            person.residence_commune.code if person.residence_commune is not None else ""
        ),
        "permanent_address": lambda: _permanent_address(person),
    }
    if attribute in simple:
        return simple[attribute]()
    if applicant is None:
        return ""
    derived = {
        "phone": lambda: applicant.account.phone if applicant.account else "",
        "email": lambda: applicant.account.email if applicant.account else "",
        "household_code": lambda: (
            applicant.membership.household.code if applicant.membership else ""
        ),
        "marital_status": lambda: _marital_status(applicant),
        "spouse_full_name": lambda: getattr(applicant.spouse(), "full_name", ""),
        "spouse_id_number": lambda: getattr(applicant.spouse(), "id_number", ""),
        "child_relationship_to_head": lambda: _child_relationship(applicant),
        "card_number": lambda: getattr(_valid_card(person), "number", ""),
        "card_issue_date": lambda: (
            card.issue_date.isoformat() if (card := _valid_card(person)) else ""
        ),
    }
    return derived[attribute]()


def _permanent_address(person: Person) -> str:
    residence = (
        person.residences.filter(kind="permanent", ended_on__isnull=True)
        .select_related("address")
        .first()
    )
    return residence.address.text if residence else ""


def resolve(source: str, applicant: Applicant, subject: Person | None) -> Any:
    """The value of a prefill source; "" when the state does not hold it."""
    whose, _dot, attribute = source.partition(".")
    if whose == "applicant":
        return _person_value(applicant.person, attribute, applicant)
    if subject is None:
        return ""
    return _person_value(subject, attribute, None)


def prefill_values(
    fields: list[Any], applicant: Applicant, subject: Person | None
) -> dict[str, tuple[Any, str]]:
    """``{field name: (value, source)}`` for the fields with a source the state holds."""
    values: dict[str, tuple[Any, str]] = {}
    for spec in fields:
        if spec.prefill is None:
            continue
        if spec.prefill.startswith("subject.") and subject is None:
            continue
        value = resolve(spec.prefill, applicant, subject)
        if value not in ("", None):
            values[spec.name] = (value, spec.prefill)
    return values


# --- links between the applicant and the subject -----------------------------------------


def linked_persons(
    applicant: Person,
    relation: str,
    *,
    vital_status: str | None = None,
    max_age_years: int | None = None,
    today: dt.date | None = None,
) -> list[Person]:
    """The persons the registry links to ``applicant`` by ``relation``.

    ``child``: persons whose father or mother is the applicant. ``relative``: spouse,
    parents, children and the members of the applicant's current household.
    """
    today = today or timezone.localdate()
    if relation == "child":
        query = Q(father=applicant) | Q(mother=applicant)
    else:
        ids = {applicant.father_id, applicant.mother_id, applicant.spouse_id}
        household = (
            HouseholdMembership.objects.filter(person=applicant, until__isnull=True)
            .values_list("household_id", flat=True)
            .first()
        )
        if household is not None:
            ids.update(
                HouseholdMembership.objects.filter(
                    household_id=household, until__isnull=True
                ).values_list("person_id", flat=True)
            )
        # A relative who died was a member until death: find the last household too.
        query = (
            Q(pk__in=[i for i in ids if i])
            | Q(father=applicant)
            | Q(mother=applicant)
            | Q(spouse=applicant)
        )
        if household is not None:
            query |= Q(
                memberships__household_id=household,
                vital_status=VitalStatus.DECEASED,
            )
    persons = Person.objects.filter(query, status="active").exclude(pk=applicant.pk).distinct()
    if vital_status is not None:
        persons = persons.filter(vital_status=vital_status)
    result = list(persons.order_by("birth_date", "id"))
    if max_age_years is not None:
        result = [p for p in result if years_between(p.birth_date, today) < max_age_years]
    return result


def log_prefill(actor: Any, person: Person, procedure_code: str, fields: list[str]) -> None:
    """A relative's data shown in (or used for) an application is an access to it."""
    log_access(
        actor,
        person_ids=[person.pk],
        channel=Channel.PORTAL,
        view=f"procedures:{procedure_code}",
        fields=fields or ["id_number", "full_name"],
        purpose="prefill",
    )


# --- documents the state holds ------------------------------------------------------------


def state_holds(
    condition: str, applicant: Applicant, subject: Person | None, *, in_bundle: bool
) -> bool:
    checks = {
        "earlier_part_of_bundle": lambda: in_bundle,
        "applicant_has_valid_card": lambda: _valid_card(applicant.person) is not None,
        "applicant_has_permanent_residence": lambda: applicant.membership is not None,
        "parents_married_in_registry": lambda: applicant.spouse() is not None,
        "subject_in_registry": lambda: subject is not None or in_bundle,
        "subject_death_recorded": lambda: (
            (subject is not None and subject.is_deceased) or in_bundle
        ),
    }
    check = checks.get(condition)
    return bool(check and check())

"""Deny-by-default querysets of persons and households scoped to an actor.

A commune officer sees persons whose permanent residence is in the commune and persons
holding a current temporary residence there; a provincial officer the same for every
commune of the province; national stewards and admins everything; anyone else nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from congdan.core.jurisdiction import Jurisdiction, jurisdiction_of
from congdan.geo.models import AdministrativeUnit
from congdan.registry.models import Household, Person, Residence, ResidenceKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User


def _temporary_residents(j: Jurisdiction) -> QuerySet[Residence]:
    current = Residence.objects.filter(kind=ResidenceKind.TEMPORARY, ended_on__isnull=True)
    if j.is_province:
        # Commune ids as literals: lets PostgreSQL use the (commune, kind, ended_on) index
        # instead of hashing every temporary residence joined to units.
        communes = list(
            AdministrativeUnit.objects.filter(parent=j.unit).values_list("pk", flat=True)
        )
        return current.filter(commune_id__in=communes)
    return current.filter(commune=j.unit)


def persons_for(actor: User | AnonymousUser | None) -> QuerySet[Person]:
    j = jurisdiction_of(actor)
    qs = Person.objects.all()
    if j.national:
        return qs
    if j.none:
        return qs.none()
    own = Q(residence_province=j.unit) if j.is_province else Q(residence_commune=j.unit)
    temporary = Q(pk__in=_temporary_residents(j).values("person_id"))
    return qs.filter(own | temporary)


def can_see(actor: User | AnonymousUser | None, person: Person) -> bool:
    """The same rule as ``persons_for`` for one fetched person, without a scoped query.

    Used by exact lookups: fetch by the unique ID number, then decide here; the
    temporary-residence query runs only for persons living elsewhere.
    """
    j = jurisdiction_of(actor)
    if j.national:
        return True
    if j.none or j.unit is None:
        return False
    own = person.residence_province_id if j.is_province else person.residence_commune_id
    if own == j.unit.pk:
        return True
    return _temporary_residents(j).filter(person_id=person.pk).exists()


def households_for(actor: User | AnonymousUser | None) -> QuerySet[Household]:
    j = jurisdiction_of(actor)
    qs = Household.objects.all()
    if j.national:
        return qs
    if j.none:
        return qs.none()
    return qs.filter(commune__parent=j.unit) if j.is_province else qs.filter(commune=j.unit)

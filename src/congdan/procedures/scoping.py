"""Which dossiers an officer may see and act on (deny by default).

An officer works on the dossiers of their agency's kind (police, justice …) whose unit
lies in their agency's jurisdiction: a commune office sees its commune, a provincial
one its province and the communes in it. Admins see every dossier. Drafts are the
citizen's own and never in a queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from congdan.core.jurisdiction import jurisdiction_of
from congdan.core.permissions import Perm, Role, has_perm
from congdan.procedures.models import Dossier, DossierStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

NOT_IN_QUEUES = (DossierStatus.DRAFT,)


def dossiers_for(actor: User | AnonymousUser | None) -> QuerySet[Dossier]:
    queryset = Dossier.objects.exclude(status__in=NOT_IN_QUEUES)
    if not has_perm(actor, Perm.DOSSIER_PROCESS):
        return Dossier.objects.none()
    if getattr(actor, "role", "") == Role.ADMIN:
        return queryset
    agency = getattr(actor, "agency", None)
    j = jurisdiction_of(actor)
    if agency is None or j.none:
        return Dossier.objects.none()
    queryset = queryset.filter(agency_kind=agency.kind)
    if j.national:
        return queryset
    if j.is_province:
        return queryset.filter(Q(unit=j.unit) | Q(unit__parent=j.unit))
    return queryset.filter(unit=j.unit)


def can_act_on(actor: User | AnonymousUser | None, dossier: Dossier) -> bool:
    return dossiers_for(actor).filter(pk=dossier.pk).exists()

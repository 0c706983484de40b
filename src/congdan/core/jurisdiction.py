"""Who may see what, geographically.

An officer's or a leader's jurisdiction is their agency's unit (a current province or
commune). Admins, and stewards and leaders of an agency without a unit, are national.
Anyone else has no jurisdiction at all: deny by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from congdan.core.permissions import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User
    from congdan.geo.models import AdministrativeUnit


@dataclass(frozen=True)
class Jurisdiction:
    national: bool = False
    unit: AdministrativeUnit | None = None

    @property
    def none(self) -> bool:
        return not self.national and self.unit is None

    @property
    def is_province(self) -> bool:
        return self.unit is not None and self.unit.level == "province"

    def covers(self, unit: AdministrativeUnit | None) -> bool:
        """Whether a current-scheme commune (or province) lies within this jurisdiction."""
        if self.national:
            return True
        if self.unit is None or unit is None:
            return False
        if unit.pk == self.unit.pk:
            return True
        return self.is_province and unit.parent_id == self.unit.pk


NOWHERE = Jurisdiction()
EVERYWHERE = Jurisdiction(national=True)


def jurisdiction_of(user: User | AnonymousUser | None) -> Jurisdiction:
    if user is None or not user.is_authenticated or not user.is_active:
        return NOWHERE
    role = getattr(user, "role", "")
    agency = getattr(user, "agency", None)
    if role == Role.ADMIN:
        return EVERYWHERE
    if role not in (Role.OFFICER, Role.STEWARD, Role.LEADER) or agency is None or not agency.active:
        return NOWHERE
    if agency.jurisdiction_id is None:
        # A steward or a leader of a national agency (a ministry) sees the whole country.
        return EVERYWHERE if role in (Role.STEWARD, Role.LEADER) else NOWHERE
    return Jurisdiction(unit=agency.jurisdiction)

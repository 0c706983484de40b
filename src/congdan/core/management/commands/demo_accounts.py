"""``congdan demo_accounts``: the four demo accounts of ``make demo``.

Creates (or resets) a commune police officer, a provincial officer, a national data
steward and an administrator, with agencies bound to the seeded province, and prints
them with a person to look for. For demonstrations only: refuses to run unless
CONGDAN_DEMO=1 or DEBUG is on, because it sets known passwords.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.registry.models import CardStatus, IdentityCard, Person, VitalStatus

DEMO_PASSWORD = "congdan-demo-2026"  # noqa: S105 -- documented demo password, refused outside demo mode


class Command(BaseCommand):
    help = "Create the demo accounts (commune officer, provincial officer, steward, admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", default="48", help="current province code")
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or os.environ.get("CONGDAN_DEMO") == "1"):
            raise CommandError("demo_accounts sets known passwords: run it with CONGDAN_DEMO=1")
        province = AdministrativeUnit.objects.filter(
            scheme="2025", level="province", code=options["province"]
        ).first()
        if province is None:
            raise CommandError(f"unknown current province code {options['province']!r}")
        busiest = (
            Person.objects.filter(residence_province=province, vital_status=VitalStatus.ALIVE)
            .values("residence_commune")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if busiest is None:
            raise CommandError("no persons in this province: run `congdan seed` first")
        commune = AdministrativeUnit.objects.get(pk=busiest["residence_commune"])
        with transaction.atomic():
            accounts = [
                self._account(
                    "canbo.xa",
                    Role.OFFICER,
                    Agency.objects.update_or_create(
                        code=f"CA-X-{commune.code}",
                        defaults={
                            "name": f"Công an {commune.name}",
                            "kind": AgencyKind.POLICE,
                            "jurisdiction": commune,
                        },
                    )[0],
                    "Cán bộ Công an xã",
                ),
                self._account(
                    "canbo.tinh",
                    Role.OFFICER,
                    Agency.objects.update_or_create(
                        code=f"CA-T-{province.code}",
                        defaults={
                            "name": f"Công an {province.name}",
                            "kind": AgencyKind.POLICE,
                            "jurisdiction": province,
                        },
                    )[0],
                    "Cán bộ Công an tỉnh",
                ),
                self._account(
                    "quanly.dulieu",
                    Role.STEWARD,
                    Agency.objects.update_or_create(
                        code="TTDLQG-DC",
                        defaults={
                            "name": "Trung tâm dữ liệu quốc gia về dân cư",
                            "kind": AgencyKind.MINISTRY,
                            "jurisdiction": None,
                        },
                    )[0],
                    "Cán bộ quản lý dữ liệu",
                ),
                self._account("quantri", Role.ADMIN, None, "Quản trị hệ thống"),
            ]
        sample = (
            Person.objects.filter(residence_commune=commune, vital_status=VitalStatus.ALIVE)
            .order_by("id")
            .first()
        )
        out = self.stdout
        out.write("")
        out.write(f"congdan demo: {options['url']}")
        out.write(f"  password for every demo account: {DEMO_PASSWORD}")
        for user, label, scope in accounts:
            out.write(f"  {user.username:<15} {label:<25} {scope}")
        if sample is not None:
            out.write(
                f"  try: log in as canbo.xa, search “{sample.name_search}” "
                f"(finds {sample.full_name}, {sample.id_number})"
            )
        newcomer = self._citizen_to_register(commune)
        if newcomer is not None:
            person, card = newcomer
            out.write("")
            out.write("  e-ID: register this seeded citizen at level 1 (/id/register/):")
            out.write(
                f"    ID number {person.id_number} · {person.full_name} · born "
                f"{person.birth_date:%d/%m/%Y}; codes sent by SMS appear at /dev/outbox"
            )
            out.write(
                f"    level 2: canbo.xa verifies the chip card {card.number} "
                f"issued {card.issue_date:%d/%m/%Y} at /id/officer/level2/"
            )
        out.write("")

    def _citizen_to_register(self, commune: AdministrativeUnit) -> tuple[Person, Any] | None:
        """An adult of the officer's commune with a valid chip card and no e-ID yet."""
        today = timezone.localdate()
        card = (
            IdentityCard.objects.filter(
                person__residence_commune=commune,
                person__vital_status=VitalStatus.ALIVE,
                person__birth_date__lte=today.replace(year=today.year - 18),
                person__birth_date_precision="day",
                person__eid_account__isnull=True,
                status=CardStatus.VALID,
            )
            .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gt=today))
            .select_related("person")
            .order_by("person_id")
            .first()
        )
        return (card.person, card) if card is not None else None

    def _account(
        self, username: str, role: str, agency: Agency | None, label: str
    ) -> tuple[User, str, str]:
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "role": role,
                "agency": agency,
                "is_staff": role in (Role.STEWARD, Role.ADMIN),
                "is_superuser": role == Role.ADMIN,
                "is_active": True,
                "first_name": label,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        scope = agency.jurisdiction.name if agency and agency.jurisdiction else "toàn quốc"
        return user, label, scope

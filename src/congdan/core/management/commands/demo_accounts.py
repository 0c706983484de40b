"""``congdan demo_accounts``: the demo accounts of ``make demo``.

Creates (or resets) a commune police officer, a provincial officer, a commune justice
officer, a provincial social-insurance officer, a national data steward and an
administrator, with agencies bound to the seeded province, and a level-2 e-ID account
for a married parent of the commune (to try the birth bundle) with every integrated
document in their wallet, and the demo wallet issuer and requester systems; prints them
with a person to look for. For demonstrations only: refuses to run unless
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
                self._account(
                    "tuphap.xa",
                    Role.OFFICER,
                    Agency.objects.update_or_create(
                        code=f"TP-X-{commune.code}",
                        defaults={
                            "name": f"UBND {commune.name} (tư pháp - hộ tịch)",
                            "kind": AgencyKind.JUSTICE,
                            "jurisdiction": commune,
                        },
                    )[0],
                    "Công chức tư pháp - hộ tịch",
                ),
                self._account(
                    "bhxh.tinh",
                    Role.OFFICER,
                    Agency.objects.update_or_create(
                        code=f"BHXH-{province.code}",
                        defaults={
                            "name": f"Bảo hiểm xã hội {province.name}",
                            "kind": AgencyKind.SOCIAL_INSURANCE,
                            "jurisdiction": province,
                        },
                    )[0],
                    "Cán bộ bảo hiểm xã hội tỉnh",
                ),
                self._account("quantri", Role.ADMIN, None, "Quản trị hệ thống"),
                self._account("baove.dulieu", Role.DPO, None, "Cán bộ bảo vệ dữ liệu cá nhân"),
                self._account(
                    "lanhdao.tinh",
                    Role.LEADER,
                    Agency.objects.update_or_create(
                        code=f"UBND-T-{province.code}",
                        defaults={
                            "name": f"Ủy ban nhân dân {province.name}",
                            "kind": AgencyKind.PEOPLES_COMMITTEE,
                            "jurisdiction": province,
                        },
                    )[0],
                    "Lãnh đạo tỉnh (Đề án 06)",
                ),
                self._account(
                    "lanhdao.xa",
                    Role.LEADER,
                    Agency.objects.update_or_create(
                        code=f"UBND-X-{commune.code}",
                        defaults={
                            "name": f"Ủy ban nhân dân {commune.name}",
                            "kind": AgencyKind.PEOPLES_COMMITTEE,
                            "jurisdiction": commune,
                        },
                    )[0],
                    "Lãnh đạo xã (Đề án 06)",
                ),
            ]
            parent = self._demo_parent(commune)
        wallet_clients = self._wallet(province, parent)
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
        if parent is not None:
            out.write("")
            out.write("  citizen (e-ID level 2) for the birth bundle, at /services/birth_bundle/:")
            out.write(
                f"    log in at /id/login/ with {parent.id_number} ({parent.full_name}) and "
                f"the demo password; the SMS code is at /dev/outbox. Then tuphap.xa, "
                f"canbo.xa and bhxh.tinh approve their parts under “Hồ sơ thủ tục”."
            )
        if parent is not None:
            out.write(
                "    their wallet (ID card, health insurance card, driving licence, vehicle "
                "registration, vaccination, residence confirmation, judicial record) is at "
                "/me/documents/; consents for requester systems at /me/documents/consents/."
            )
        if wallet_clients:
            out.write("")
            out.write("  wallet systems (client credentials at /o/token/, API at /api/v1/wallet/):")
            for spec, created in wallet_clients:
                out.write(
                    f"    {spec['name']}: client_id={spec['client_id']} "
                    f"client_secret={spec['client_secret']} scope={' '.join(spec['scopes'])}"
                    + (f" agency={spec['agency']}" if spec["agency"] else "")
                    + f" ({'created' if created else 'already there'})"
                )
        self._exchange(parent)
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

    def _exchange(self, citizen: Person | None) -> None:
        """The demo member organisations and a walk-through of the bank's calls."""
        from congdan.exchange.demo import (  # noqa: PLC0415 -- optional part
            ensure_demo_members,
            seed_traffic,
        )

        out = self.stdout
        out.write("")
        out.write(
            "  data exchange (client credentials at /o/token/ with scope exchange:query, "
            "API at /api/v1/exchange/, docs/exchange.md):"
        )
        for spec, created in ensure_demo_members():
            out.write(
                f"    {spec.name} ({settings.EXCHANGE_INSTANCE}/{spec.member_class}/{spec.code}/"
                f"{spec.subsystem}): "
                f"client_id={spec.client_id} client_secret={spec.client_secret}"
                f" ({'created' if created else 'already there'})"
            )
        traffic = seed_traffic()
        if traffic:
            out.write(
                f"    {traffic:,} synthetic lookups over the last 30 days for the supervision "
                "pages (one of each anomaly yesterday)"
            )
        if citizen is not None:
            out.write(
                f"    try: {self._python()} examples/bank_exchange.py --id-number "
                f"{citizen.id_number} --name '{citizen.full_name}' "
                f"--birth-date {citizen.birth_date:%Y-%m-%d}"
            )
            out.write(
                "    (verifies, then asks for the profile: refused until the citizen consents "
                "at /me/data/consents/; she sees both calls at /me/data/access/; "
                "baove.dulieu supervises at /supervision/access/)"
            )

    @staticmethod
    def _python() -> str:
        return ".venv/bin/python"

    def _wallet(
        self, province: AdministrativeUnit, parent: Person | None
    ) -> list[tuple[dict[str, Any], bool]]:
        """The wallet's issuing agencies, the demo citizen's integrated documents (with a
        portrait and the residence and judicial record certificates) and the demo issuer
        and requester systems."""
        from congdan.identity.services.clients import ensure_demo_wallet_clients  # noqa: PLC0415 -- the wallet is optional to the rest of this command
        from congdan.wallet.seed import ensure_agencies, ensure_demo_documents  # noqa: PLC0415 -- idem

        ensure_agencies(province)
        if parent is not None:
            ensure_demo_documents([parent], province_code=province.code)
        return ensure_demo_wallet_clients()

    def _demo_parent(self, commune: AdministrativeUnit) -> Person | None:
        """A married woman of the commune with a level-2 account and the demo password."""
        from congdan.identity.models import AccountStatus, EidAccount, EidLevel  # noqa: PLC0415 -- identity is optional to the rest of this command

        today = timezone.localdate()
        person = (
            Person.objects.filter(
                residence_commune=commune,
                vital_status=VitalStatus.ALIVE,
                sex="F",
                spouse__isnull=False,
                birth_date__lte=today.replace(year=today.year - 20),
                birth_date__gte=today.replace(year=today.year - 40),
            )
            .filter(Q(eid_account__isnull=True) | Q(eid_account__user__username__isnull=False))
            .order_by("id")
            .first()
        )
        if person is None:
            return None
        user, _created = User.objects.update_or_create(
            username=person.id_number,
            defaults={
                "first_name": person.full_name,
                "role": "",
                "agency": None,
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        now = timezone.now()
        EidAccount.objects.update_or_create(
            person=person,
            defaults={
                "user": user,
                "level": EidLevel.LEVEL2,
                "status": AccountStatus.ACTIVE,
                "phone": "0900000001",
                "phone_verified_at": now,
                "activated_at": now,
                "level2_at": now,
            },
        )
        return person

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
                "is_staff": role in (Role.STEWARD, Role.ADMIN, Role.DPO),
                "is_superuser": role == Role.ADMIN,
                "is_active": True,
                "first_name": label,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        scope = agency.jurisdiction.name if agency and agency.jurisdiction else "toàn quốc"
        return user, label, scope

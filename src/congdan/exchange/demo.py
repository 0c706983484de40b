"""Demo member organisations (``congdan demo_accounts``): a bank with an eKYC system and
a health-insurance agency, their grants, known client credentials. Demo mode only."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import AccessLogEntry, Channel
from congdan.core.calendar import is_working_day
from congdan.core.errors import ValidationFailed
from congdan.exchange.catalogue import ensure_catalogue
from congdan.exchange.models import AccessGrant, DataService, Member, ServicePurpose, Subsystem
from congdan.exchange.services import grants, members
from congdan.identity.services.clients import demo_mode
from congdan.registry.models import Person


@dataclass(frozen=True)
class DemoMember:
    code: str
    member_class: str
    kind: str
    name: str
    subsystem: str
    subsystem_name: str
    client_id: str
    client_secret: str
    grants: tuple[tuple[str, str, tuple[str, ...]], ...]


DEMO_MEMBERS: tuple[DemoMember, ...] = (
    DemoMember(
        code="NHDEMO",
        member_class="COM",
        kind="bank",
        name="Ngân hàng TMCP Demo",
        subsystem="ekyc",
        subsystem_name="Hệ thống định danh khách hàng (eKYC)",
        client_id="demo-bank-ekyc",
        client_secret="demo-bank-ekyc-secret-not-for-production",  # noqa: S106 -- public demo credential
        grants=(
            (
                "verify-identity",
                "kyc_account_opening",
                ("full_name", "birth_date", "sex", "card_number"),
            ),
            ("card-status", "kyc_account_opening", ("card_status", "card_expiry_date")),
            (
                "person-basic",
                "kyc_full_profile",
                ("id_number", "full_name", "birth_date", "sex", "nationality", "home_town"),
            ),
            (
                "person-residence",
                "kyc_full_profile",
                ("permanent_address", "permanent_commune", "permanent_province"),
            ),
            ("person-events", "customer_update", ("death", "residence_change", "name_change")),
        ),
    ),
    DemoMember(
        code="BHXHVN",
        member_class="GOV",
        kind="ministry",
        name="Bảo hiểm xã hội Việt Nam",
        subsystem="bhyt",
        subsystem_name="Hệ thống quản lý thẻ bảo hiểm y tế",
        client_id="demo-bhxh-bhyt",
        client_secret="demo-bhxh-bhyt-secret-not-for-production",  # noqa: S106 -- public demo credential
        grants=(
            (
                "person-basic",
                "health_insurance",
                ("id_number", "full_name", "birth_date", "sex", "vital_status", "death_date"),
            ),
            ("person-residence", "health_insurance", ("permanent_address", "permanent_commune")),
            ("person-events", "health_insurance", ("death", "residence_change", "name_change")),
        ),
    ),
)


def ensure_demo_members() -> list[tuple[DemoMember, bool]]:
    """Make the demo members, subsystems and grants if missing. (spec, created) pairs."""
    if not demo_mode():
        raise ValidationFailed(
            _("Chỉ tạo thành viên demo khi bật CONGDAN_DEMO hoặc DEBUG."), code="demo_only"
        )
    ensure_catalogue()
    out = []
    with transaction.atomic():
        for spec in DEMO_MEMBERS:
            member = Member.objects.filter(code=spec.code).first()
            created = member is None
            if member is None:
                member = members.register_member(
                    None,
                    code=spec.code,
                    name=spec.name,
                    kind=spec.kind,
                    member_class=spec.member_class,
                )
            if not Subsystem.objects.filter(member=member, code=spec.subsystem).exists():
                members.add_subsystem(
                    None,
                    member=member,
                    code=spec.subsystem,
                    name=spec.subsystem_name,
                    client_id=spec.client_id,
                    client_secret=spec.client_secret,
                )
            for service_code, purpose_code, fields in spec.grants:
                service = DataService.objects.get(code=service_code)
                purpose = ServicePurpose.objects.get(service=service, code=purpose_code)
                if not AccessGrant.objects.filter(
                    member=member, service=service, purpose=purpose, revoked_at__isnull=True
                ).exists():
                    grants.grant_access(
                        None,
                        member=member,
                        service=service,
                        purpose=purpose,
                        fields=fields,
                        note="demo",
                    )
            out.append((spec, created))
    return out


# --- synthetic traffic for the supervision pages ------------------------------------------


@dataclass(frozen=True)
class Calls:
    member: str
    member_class: str
    subsystem: str
    service: str
    purpose: str
    fields: str
    outcome: str
    per_day: int = 0

    def entry(self, person_id: int, at: dt.datetime) -> AccessLogEntry:
        identifier = (
            f"{settings.EXCHANGE_INSTANCE}/{self.member_class}/{self.member}/{self.subsystem}"
        )
        return AccessLogEntry(
            at=at,
            actor=None,
            actor_label=identifier,
            organisation=self.member,
            person_id=person_id,
            subsystem=identifier,
            channel=Channel.EXCHANGE,
            view=self.service,
            fields=self.fields,
            purpose=self.purpose,
            request_id="demo-seed",
            outcome=self.outcome,
        )


VERIFY = Calls(
    "NHDEMO", "COM", "ekyc", "verify-identity", "kyc_account_opening",
    "full_name,birth_date", "verified", 160,
)  # fmt: skip
CARDS = Calls(
    "NHDEMO", "COM", "ekyc", "card-status", "kyc_account_opening",
    "card_status,card_expiry_date", "ok", 40,
)  # fmt: skip
INSURANCE = Calls(
    "BHXHVN", "GOV", "bhyt", "person-basic", "health_insurance",
    "id_number,full_name,birth_date,sex,vital_status,death_date", "ok", 90,
)  # fmt: skip


def _moment(day: dt.date, hour: float) -> dt.datetime:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=timezone.get_default_timezone())
    return start + dt.timedelta(hours=hour)


def _consecutive_run(numbered: list[tuple[int, str]], length: int) -> list[int]:
    """Ids of the first ``length`` persons whose ID numbers follow one another."""
    run: list[int] = []
    previous = -2
    for pk, number in numbered:
        value = int(number)
        run = [*run, pk] if value == previous + 1 else [pk]
        previous = value
        if len(run) == length:
            return run
    return []


def seed_traffic(*, days: int = 30, seed: int = 1) -> int:
    """A month of plausible lookups by the demo members, so the data-protection officer's
    volumes and anomaly rules have something to show: working-hour traffic with a weekly
    rhythm and, on the last full day, one case of each anomaly (a volume spike, a
    sequential scan, many members on one person, off-hours reads). Written once: returns 0
    when the log already holds this traffic. Demo mode only."""
    if not demo_mode():
        raise ValidationFailed(_("Chỉ tạo dữ liệu demo khi bật CONGDAN_DEMO."), code="demo_only")
    if AccessLogEntry.objects.filter(channel=Channel.EXCHANGE, request_id="demo-seed").exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 -- synthetic demo data, not security
    numbered = list(Person.objects.order_by("id_number").values_list("id", "id_number")[:20_000])
    if len(numbered) < 100:  # too small a population to look real
        return 0
    ids = [pk for pk, _number in numbered]
    today = timezone.localdate()
    rows: list[AccessLogEntry] = []
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        factor = 1.0 if is_working_day(day) else 0.15
        for calls in (VERIFY, CARDS, INSURANCE):
            count = int(calls.per_day * factor * rng.uniform(0.8, 1.2))
            rows.extend(
                calls.entry(rng.choice(ids), _moment(day, rng.uniform(7.5, 18.5)))
                for _i in range(count)
            )
    last = today - dt.timedelta(days=1)
    rows += [  # a volume spike of the bank's verifications
        VERIFY.entry(rng.choice(ids), _moment(last, rng.uniform(8, 17)))
        for _i in range(VERIFY.per_day * 4)
    ]
    rows += [  # consecutive ID numbers, one after the other
        CARDS.entry(person, _moment(last, 14 + offset / 600))
        for offset, person in enumerate(_consecutive_run(numbered, 30))
    ]
    rows += [  # reads late in the evening
        INSURANCE.entry(rng.choice(ids), _moment(last, rng.uniform(20, 23.5))) for _i in range(70)
    ]
    target = rng.choice(ids)  # one person read by many members
    for code in ("NHDEMO", "BHXHVN", "VIETTEL", "VNA", "MOJ"):
        rows.append(
            Calls(code, "COM", "main", "person-basic", "public_service", "full_name", "ok").entry(
                target, _moment(last, 10)
            )
        )
    rows.sort(key=lambda row: row.at)
    AccessLogEntry.objects.bulk_create(rows, batch_size=2000)
    return len(rows)

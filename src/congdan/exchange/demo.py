"""Demo member organisations (``congdan demo_accounts``): a bank with an eKYC system and
a health-insurance agency, their grants, known client credentials. Demo mode only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.exchange.catalogue import ensure_catalogue
from congdan.exchange.models import AccessGrant, DataService, Member, ServicePurpose, Subsystem
from congdan.exchange.services import grants, members
from congdan.identity.services.clients import demo_mode


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

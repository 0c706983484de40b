"""Granting and revoking access in the admin (audited, refused with a form error, denied
to those without ``exchange:grant:manage``), and the demo members."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from congdan.audit.models import ChangeRecord
from congdan.core.permissions import Role
from congdan.exchange.demo import DEMO_MEMBERS, ensure_demo_members
from congdan.exchange.models import AccessGrant, DataService, Member, ServicePurpose, Subsystem
from congdan.exchange.services import members
from tests import factories
from tests.conftest import World
from tests.exchange.conftest import SECRET, token_for


@pytest.fixture
def dpo(world: World) -> object:
    return factories.make_user(Role.DPO, unit=None, username="dpo")


@pytest.fixture
def member(catalogue: None) -> Member:
    return members.register_member(
        None, code="air1", name="Hãng bay", kind="airline", member_class="COM"
    )


def _grant_form(member: Member, fields: str) -> dict[str, object]:
    service = DataService.objects.get(code="card-status")
    purpose = ServicePurpose.objects.get(service=service, code="boarding_check")
    return {
        "member": member.pk,
        "subsystem": "",
        "service": service.pk,
        "purpose": purpose.pk,
        "valid_from": "2026-01-01",
        "valid_until": "",
        "note": "Công văn 123/BCA",
        "fields_text": fields,
    }


def test_dpo_grants_and_revokes_in_the_admin(client: Client, dpo: object, member: Member) -> None:
    client.force_login(dpo)  # type: ignore[arg-type]  # a User
    response = client.post(
        "/admin/exchange/accessgrant/add/", _grant_form(member, "card_status, card_number")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = AccessGrant.objects.get(member=member)
    assert grant.fields == ["card_status", "card_number"]
    record = ChangeRecord.objects.get(action="exchange_grant", object_id=grant.pk)
    assert record.actor_label == "dpo"
    assert record.reason == "Công văn 123/BCA"
    assert "Thông tư 42/2023" in record.legal_basis
    # Existing grants are read-only: no edit, only the revoke action.
    assert client.post(f"/admin/exchange/accessgrant/{grant.pk}/change/", {}).status_code == 403
    response = client.post(
        "/admin/exchange/accessgrant/",
        {"action": "revoke", "_selected_action": [grant.pk]},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert ChangeRecord.objects.filter(action="exchange_grant_revoke", object_id=grant.pk).exists()


def test_a_field_outside_the_service_is_a_form_error(
    client: Client, dpo: object, member: Member
) -> None:
    client.force_login(dpo)  # type: ignore[arg-type]  # a User
    response = client.post("/admin/exchange/accessgrant/add/", _grant_form(member, "salary"))
    assert response.status_code == 200
    assert "salary" in response.content.decode()
    assert not AccessGrant.objects.exists()


def test_members_and_grants_are_closed_to_others(
    client: Client, world: World, member: Member
) -> None:
    for user in (world.steward, world.province_officer):
        client.force_login(user)
        assert client.get("/admin/exchange/accessgrant/").status_code in {302, 403}
        assert client.get("/admin/exchange/member/").status_code in {302, 403}
        response = client.post(
            "/admin/exchange/accessgrant/add/", _grant_form(member, "card_status")
        )
        assert response.status_code in {302, 403}
    assert not AccessGrant.objects.exists()


def test_admin_adds_a_subsystem_and_shows_its_secret_once(
    client: Client, dpo: object, member: Member
) -> None:
    client.force_login(dpo)  # type: ignore[arg-type]  # a User
    response = client.post(
        "/admin/exchange/member/",
        {"action": "add_subsystem", "_selected_action": [member.pk]},
        follow=True,
    )
    text = response.content.decode()
    subsystem = Subsystem.objects.get(member=member)
    assert subsystem.identifier in text
    assert "client_secret" in text
    assert subsystem.application is not None
    assert subsystem.application.client_secret not in text  # only the hash is stored


def test_demo_members_are_idempotent_and_usable(db: None, client: Client, settings: Any) -> None:
    settings.DEBUG = True  # demo data is refused outside DEBUG / CONGDAN_DEMO
    first = ensure_demo_members()
    assert all(created for _spec, created in first)
    second = ensure_demo_members()
    assert not any(created for _spec, created in second)
    bank = DEMO_MEMBERS[0]
    assert AccessGrant.objects.filter(member__code=bank.code).count() == len(bank.grants)
    token = token_for(client, bank.client_id, bank.client_secret)
    response = client.get(
        "/api/v1/exchange/persons/048090000001?service=person-basic",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_PURPOSE="kyc_full_profile",
    )
    # Under a purpose needing consent, an unknown number answers like a known one without
    # consent: the member learns nothing about which numbers exist.
    assert response.json()["code"] == "consent_required"
    assert SECRET  # the fixtures' own secret is unrelated to the demo's


def test_demo_traffic_shows_each_anomaly_yesterday(world: World, settings: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from congdan.exchange import anomalies
    from congdan.exchange.demo import seed_traffic
    from congdan.registry.models import Person

    settings.DEBUG = True  # demo data is refused outside DEBUG / CONGDAN_DEMO
    commune = world.commune
    # A population with consecutive ID numbers, as the seed allocates them.
    for _i in range(120):
        factories.make_person(commune, card=False)
    assert Person.objects.count() >= 120
    written = seed_traffic(days=30)
    assert written > 3000
    assert seed_traffic(days=30) == 0  # once only
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    rules = {finding.rule for finding in anomalies.run_all(yesterday)}
    assert rules == {"volume", "sequential", "many_members", "off_hours"}

"""Making e-ID accounts and portal sessions in tests (shared by the identity tests)."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from congdan.core.models import User
from congdan.identity.decorators import PORTAL_SESSION_KEY
from congdan.identity.models import AccountStatus, EidAccount, EidLevel
from congdan.registry.models import Person

PASSWORD = "Mat-khau-thu-2026"


def make_account(
    person: Person,
    *,
    level: int = EidLevel.LEVEL1,
    status: str = AccountStatus.ACTIVE,
    phone: str = "0912345678",
    password: str = PASSWORD,
) -> EidAccount:
    """An account made directly (registration itself is tested through its service)."""
    user = User.objects.create_user(
        username=person.id_number, password=password, first_name=person.full_name
    )
    now = timezone.now()
    return EidAccount.objects.create(
        user=user,
        person=person,
        level=level,
        status=status,
        phone=phone,
        phone_verified_at=now,
        activated_at=now if status == AccountStatus.ACTIVE else None,
        level2_at=now if level == EidLevel.LEVEL2 else None,
    )


def portal_login(client: Client, account: EidAccount) -> Client:
    """Log a citizen in to the portal as if the OIDC flow had completed.

    Tests of the flow itself go through the real endpoints (tests/identity/test_oidc*).
    """
    client.force_login(account.user)
    session = client.session
    session[PORTAL_SESSION_KEY] = {
        "uid": account.user.pk,
        "sub": str(account.public_id),
        "acr": f"level{account.level}",
    }
    session.save()
    return client

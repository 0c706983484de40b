"""Level 2 (in-person verification) and deactivation on death."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from congdan.audit.services import diff, record_change
from congdan.identity.models import AccountStatus, EidAccount, UserSession, VerificationStatus

if TYPE_CHECKING:
    from congdan.core.models import User


def end_all_sessions_and_tokens(user: User) -> None:
    """Log the user out everywhere and revoke every OAuth token they hold (no transaction
    of its own: the caller's)."""
    now = timezone.now()
    keys = list(
        UserSession.objects.filter(user=user, ended_at__isnull=True).values_list(
            "session_key", flat=True
        )
    )
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
    get_refresh_token_model().objects.filter(user=user, revoked__isnull=True).update(revoked=now)
    get_access_token_model().objects.filter(user=user).delete()


def deactivate_for_death(*, person_id: int, actor: Any = None) -> EidAccount | None:
    """Deactivate the e-ID of a person the registry recorded as dead (registry event)."""
    with transaction.atomic():
        account = (
            EidAccount.objects.select_for_update()
            .select_related("user")
            .filter(person_id=person_id)
            .first()
        )
        if account is None or account.status == AccountStatus.DEACTIVATED:
            return account
        before = {"status": account.status}
        account.status = AccountStatus.DEACTIVATED
        account.status_reason = gettext_noop("Công dân đã chết")
        account.status_changed_at = timezone.now()
        account.save(update_fields=["status", "status_reason", "status_changed_at"])
        account.user.is_active = False
        account.user.save(update_fields=["is_active"])
        account.level2.filter(status=VerificationStatus.PENDING).update(
            status=VerificationStatus.CANCELLED, decided_at=timezone.now()
        )
        end_all_sessions_and_tokens(account.user)
        record_change(
            actor,
            action="eid_deactivate_death",
            obj=account,
            changes=diff(before, {"status": account.status}),
            person_id=person_id,
            reason="person_died",
            legal_basis="Nghị định 69/2024/NĐ-CP",
        )
    return account

"""Reads of the identity app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from congdan.identity.models import EidAccount

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User


def account_of(user: User | AnonymousUser | None) -> EidAccount | None:
    """The e-ID account of a logged-in user, or None (officers have none)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return EidAccount.objects.select_related("person").get(user_id=user.pk)
    except EidAccount.DoesNotExist:
        return None

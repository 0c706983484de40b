"""Registry events the identity app reacts to (connected in IdentityConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from congdan.registry.signals import person_died


@receiver(person_died, dispatch_uid="identity.deactivate_on_death")
def deactivate_on_death(sender: Any, person: Any, actor: Any = None, **kwargs: Any) -> None:
    from congdan.identity.services.level2 import deactivate_for_death  # noqa: PLC0415 -- services import registry models; keep app loading light

    deactivate_for_death(person_id=person.pk, actor=actor)


@receiver(user_logged_out, dispatch_uid="identity.end_tracked_session")
def end_tracked_session(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Every logout path (portal, RP-initiated, officer) ends the tracked session row."""
    if request is not None and hasattr(request, "session"):
        from congdan.identity.services.accounts import end_current_session  # noqa: PLC0415 -- as above

        end_current_session(request)

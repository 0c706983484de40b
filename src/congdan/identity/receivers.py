"""Registry events the identity app reacts to (connected in IdentityConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from congdan.registry.signals import person_died


@receiver(person_died, dispatch_uid="identity.deactivate_on_death")
def deactivate_on_death(sender: Any, person: Any, actor: Any = None, **kwargs: Any) -> None:
    from congdan.identity.services.level2 import deactivate_for_death  # noqa: PLC0415 -- services import registry models; keep app loading light

    deactivate_for_death(person_id=person.pk, actor=actor)

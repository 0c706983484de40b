"""``congdan identity_purge``: delete pending e-ID registrations older than 24 hours."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from congdan.identity.services.accounts import purge_stale_pending


class Command(BaseCommand):
    help = "Delete e-ID registrations left pending (phone never verified) for over 24 hours."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_stale_pending()
        self.stdout.write(f"purged {purged} pending registration(s)")

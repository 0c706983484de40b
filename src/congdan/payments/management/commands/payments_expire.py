"""``congdan payments_expire``: close pending payments past their time (run it every few
minutes from cron or a systemd timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from congdan.payments.services import expire_payments


class Command(BaseCommand):
    help = (
        "Close pending payments past their expiry time, after checking each with the "
        "gateway (a payment the gateway reports paid is marked paid)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        closed = expire_payments()
        self.stdout.write(f"closed {closed} expired payment(s)")

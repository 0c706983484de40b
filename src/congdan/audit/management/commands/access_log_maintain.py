"""``congdan access_log_maintain``: create the access log's monthly partitions ahead
(PostgreSQL) and apply retention (``CONGDAN_ACCESS_LOG_RETENTION_MONTHS``); optionally
seal pending entries too. ``congdan worker`` runs the same functions in its loop."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from congdan.audit import partitions, sealing


class Command(BaseCommand):
    help = (
        "Create the access log's partitions ahead of time (PostgreSQL) and remove months "
        "older than the retention; with --seal, also seal pending entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seal", action="store_true", help="then seal all entries old enough to seal"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = partitions.maintain()
        self.stdout.write(
            f"access log maintenance: {done} partition(s) created or month(s) removed"
        )
        if options["seal"]:
            total = 0
            while sealed := sealing.seal_pending():
                total += sealed
            self.stdout.write(f"access log: sealed {total} item(s) (entries, empty months)")

"""``congdan seed_documents``: issue the integrated documents of the seeded population
(ID cards, health insurance cards, driving licences …) into the wallet (wallet.seed).

Idempotent: a person who already has an integrated document of a type gets no other.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.wallet.seed import Stats, seed_documents


class Command(BaseCommand):
    help = (
        "Issue the integrated documents (ID card, health insurance card, driving licence, "
        "vehicle registration, vaccination certificate) of the synthetic population into "
        "the wallet; makes the issuing agencies when missing. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--province", default=None, help="current (2025) province code; default: everyone"
        )
        parser.add_argument("--limit", type=int, default=None, help="at most N persons")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="signing processes (default: one per core for 10,000 persons or more; 0: none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError(f"--limit must be at least 1 (got {limit})")
        quiet = options["verbosity"] == 0
        show = not quiet and sys.stdout.isatty()

        def progress(stats: Stats) -> None:
            if show:
                self.stdout.write(
                    f"\r  {stats.persons:,} persons, {stats.total:,} documents", ending=""
                )
                self.stdout.flush()

        try:
            stats = seed_documents(
                province_code=(options["province"] or "").strip() or None,
                limit=limit,
                seed=options["seed"],
                progress=progress,
                workers=options["workers"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if show:
            self.stdout.write("")
        if quiet:
            return
        rate = stats.total / stats.seconds if stats.seconds else 0.0
        self.stdout.write(
            f"Seeded {stats.total:,} documents for {stats.persons:,} persons in "
            f"{stats.seconds:.1f} s ({rate:,.0f} documents/s); "
            f"{stats.agencies_created} agencies created"
        )
        for doc_type, count in sorted(stats.created.items()):
            self.stdout.write(f"  {doc_type:<28} {count:>9,}")

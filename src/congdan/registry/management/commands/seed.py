"""``congdan seed``: load a synthetic population for one province (see registry.seed)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.registry.seed import SeedError, parse_ethnicity_mix, seed_population


class Command(BaseCommand):
    help = (
        "Generate a synthetic, internally consistent population (persons, households, "
        "residences, identity cards, civil events) for one current province and load it "
        "in one transaction. Deterministic for a given --seed on a fresh database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--province",
            required=True,
            help="code of a current (2025) province, e.g. 48 for Đà Nẵng",
        )
        parser.add_argument(
            "--people", type=int, default=10_000, help="persons to create (default 10000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--ethnicity-mix",
            default=None,
            metavar="CODE=WEIGHT,...",
            help='ethnic groups and weights, e.g. "01=0.9,02=0.05,03=0.05" '
            "(default: the 2019 census shares)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=50_000,
            help="persons (with their rows) written per COPY/INSERT batch (default 50000)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    def handle(self, *args: Any, **options: Any) -> None:
        people: int = options["people"]
        batch_size: int = options["batch_size"]
        if people < 1:
            raise CommandError(f"--people must be at least 1 (got {people})")
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1 (got {batch_size})")
        quiet = options["quiet"] or options["verbosity"] == 0
        try:
            mix = (
                parse_ethnicity_mix(options["ethnicity_mix"])
                if options["ethnicity_mix"] is not None
                else None
            )
            stats = seed_population(
                province_code=options["province"].strip(),
                people=people,
                seed=options["seed"],
                ethnicity_mix=mix,
                progress=not quiet and sys.stdout.isatty(),
                batch_size=batch_size,
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        if quiet:
            return
        self.stdout.write(
            f"Seeded province {stats.province_code} ({stats.vendor}, seed {stats.seed}) "
            f"in {stats.seconds:.1f} s: {stats.persons_per_second:,.0f} persons/s "
            f"(generation {stats.generate_seconds:.1f} s, loading {stats.load_seconds:.1f} s)"
        )
        for label, count in (
            ("persons", stats.persons),
            ("households", stats.households),
            ("addresses", stats.addresses),
            ("household memberships", stats.memberships),
            ("residences", stats.residences),
            ("identity cards", stats.identity_cards),
            ("civil events", stats.civil_events),
        ):
            self.stdout.write(f"  {label:<22} {count:>12,}")
        self.stdout.write(f"  {'rows in all':<22} {stats.rows:>12,}")

"""``congdan seed_monitoring``: a year of synthetic dossiers, e-ID registrations, lookups,
working groups and programme tasks for a seeded province (see monitoring.seed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.monitoring.seed import SeedError, seed_monitoring


class Command(BaseCommand):
    help = (
        "Generate a year of synthetic monitoring data (dossiers, e-ID accounts, lookups, "
        "working groups, programme tasks) for the seeded population of one province, then "
        "refresh the daily facts. Deterministic for a given --seed and day; a second run "
        "adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", required=True, help="current province code, e.g. 48")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--days", type=int, default=365, help="days ending yesterday (default 365)"
        )
        parser.add_argument(
            "--no-refresh", action="store_true", help="do not refresh the daily facts"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stats = seed_monitoring(
                province_code=str(options["province"]).strip(),
                seed=options["seed"],
                days=options["days"],
                refresh=not options["no_refresh"],
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] == 0:
            return
        if stats.skipped:
            self.stdout.write(
                f"Province {stats.province_code} already has seeded monitoring data: nothing added."
            )
            self._hint()
            return
        self.stdout.write(
            f"Seeded monitoring data for province {stats.province_code}, "
            f"{stats.start} to {stats.end}, in {stats.seconds:.1f} s "
            + (
                f"({stats.generate_seconds:.1f} s writing, the rest refreshing the facts)"
                if stats.facts_refreshed
                else "(facts not refreshed)"
            )
        )
        for label, count in sorted(stats.created.items()):
            self.stdout.write(f"  {label:<16} {count:>10,}")
        self._hint()

    def _hint(self) -> None:
        self.stdout.write(
            "  programme monitoring: log in as lanhdao.tinh (or lanhdao.xa) → /monitoring/: "
            "the online dossier rate per commune against the 40 % target, drill-down, "
            "Excel export; overdue tasks by agency at /monitoring/tasks/agencies/"
        )

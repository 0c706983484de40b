"""``congdan load_units``: (re)load administrative units; safe to run any number of times."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from congdan.geo.loader import load_units
from congdan.geo.models import AdministrativeUnit


class Command(BaseCommand):
    help = "Load or refresh administrative units (2025 and legacy schemes) from packaged data."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            counts = load_units(AdministrativeUnit)
        elapsed = time.perf_counter() - started
        for key, value in counts.items():
            self.stdout.write(f"{key:>20}: {value:,}")
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.2f} s."))

"""``congdan worker``: the background worker.

It loops over the apps' pollers — plain functions that do one bounded batch of work in
their own short transactions and return how many items they handled — sealing the
access log, publishing and delivering change notifications, running batch
verifications, keeping partitions and retention, refreshing the monitoring facts and
sending task reminders. When a round handled nothing it sleeps
``--interval`` seconds. Several workers may run at once: each poller locks what it takes
(docs/decisions/0010-pollers-instead-of-a-task-queue.md).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

logger = logging.getLogger("congdan.worker")

# (dotted path, minimum seconds between two runs)
POLLERS: tuple[tuple[str, float], ...] = (
    ("congdan.exchange.batch.run_next_job", 0.0),
    ("congdan.exchange.notifications.dispatch_events", 2.0),
    ("congdan.exchange.notifications.deliver_due", 1.0),
    ("congdan.audit.sealing.seal_pending", 10.0),
    ("congdan.audit.partitions.maintain", 3600.0),
    ("congdan.exchange.ratelimit.prune", 300.0),
    ("congdan.monitoring.facts.refresh_recent", 300.0),
    ("congdan.monitoring.reminders.send_due", 3600.0),
)


def load_pollers() -> list[tuple[str, Callable[[], int], float]]:
    return [(path, import_string(path), every) for path, every in POLLERS]


def run_round(
    pollers: list[tuple[str, Callable[[], int], float]], last_run: dict[str, float]
) -> int:
    """Run every poller that is due once; returns the items handled in all."""
    handled = 0
    for path, poller, every in pollers:
        now = time.monotonic()
        if now - last_run.get(path, -1e9) < every:
            continue
        last_run[path] = now
        if not connection.in_atomic_block:  # a test's transaction, or a caller's
            close_old_connections()
        try:
            handled += poller() or 0
        except Exception:
            # One failing poller must not stop the others; the traceback is logged (the
            # masking filter keeps secrets out) and the poller is retried next round.
            logger.exception("poller %s failed", path)
    return handled


class Command(BaseCommand):
    help = "Run the background worker (sealing, notifications, batch jobs, retention)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="idle sleep, seconds")
        parser.add_argument("--once", action="store_true", help="run every poller once, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        pollers = load_pollers()
        last_run: dict[str, float] = {}
        if options["once"]:
            handled = run_round(pollers, last_run)
            self.stdout.write(f"worker: {handled} item(s) handled")
            return
        stopping = False

        def stop(_signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"congdan worker: {len(pollers)} pollers")
        while not stopping:
            if run_round(pollers, last_run) == 0:
                time.sleep(options["interval"])

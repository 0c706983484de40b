"""``congdan serve``: the production-style server (granian, several workers, DEBUG off)."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Serve congdan with granian (WSGI), several worker processes, static files by whitenoise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("CONGDAN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("CONGDAN_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("CONGDAN_WORKERS", str(max(2, (os.cpu_count() or 1))))),
            help="worker processes (default: number of CPUs, at least 2)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("CONGDAN_THREADS", "4")),
            help="blocking threads per worker",
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            raise CommandError(
                "congdan serve is the production server and runs with CONGDAN_DEBUG off; "
                "use `congdan runserver` for development."
            )
        granian = shutil.which("granian", path=os.path.dirname(sys.executable)) or shutil.which(
            "granian"
        )
        if granian is None:
            raise CommandError("granian is not installed in this environment")
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            granian,
            "--interface",
            "wsgi",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
            "--workers",
            str(options["workers"]),
            "--blocking-threads",
            str(options["threads"]),
            "--no-ws",
            "congdan.wsgi:application",
        ]
        self.stdout.write(
            f"congdan: serving http://{options['host']}:{options['port']}/ with "
            f"{options['workers']} workers × {options['threads']} threads (granian)"
        )
        sys.stdout.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
        os.execv(granian, argv)  # noqa: S606 -- replaces this process with the server

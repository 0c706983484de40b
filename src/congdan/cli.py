"""The ``congdan`` console script: Django's manage.py with congdan's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
    # Imported after DJANGO_SETTINGS_MODULE is set.
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    argv = list(argv if argv is not None else sys.argv)
    # `congdan verify-access-log` is `congdan verify_access_log` (the spelling);
    # Django's own commands have no hyphens or underscores to confuse.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()

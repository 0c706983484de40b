"""The ``congdan`` console script: Django's manage.py with congdan's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
    # Imported after DJANGO_SETTINGS_MODULE is set.
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(argv if argv is not None else sys.argv)


if __name__ == "__main__":
    main()

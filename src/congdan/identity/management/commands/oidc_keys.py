"""``congdan oidc_keys list|rotate``: the ID-token signing keys (docs/oidc.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from congdan.identity import keys
from congdan.identity.models import SigningKey
from congdan.identity.services.clients import rotate_signing_key


class Command(BaseCommand):
    help = "List or rotate the OpenID Connect ID-token signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rotate":
            new = rotate_signing_key(None)
            self.stdout.write(f"new signing key: {new.kid}")
            self.stdout.write(
                "previous keys stay published until their ID tokens have expired "
                f"({int(keys.retirement_grace().total_seconds())} s)"
            )
        else:
            keys.current_key()  # made on first use
        published = set(keys.published_keys().values_list("pk", flat=True))
        for key in SigningKey.objects.order_by("-created_at", "-id"):
            if key.retired_at is None:
                state = "signing"
            elif key.pk in published:
                state = f"retired, published until {key.retire_after:%Y-%m-%d %H:%M} UTC"
            else:
                state = "retired, no longer published"
            self.stdout.write(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M} UTC  {state}")

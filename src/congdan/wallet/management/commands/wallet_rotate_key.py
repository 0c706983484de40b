"""``congdan wallet_rotate_key <agency code>``: retire an agency's document-signing key
and make a new one. Both stay in the agency's JWKS, so documents signed before keep
verifying (docs/wallet.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.core.models import Agency
from congdan.wallet import keys
from congdan.wallet.models import IssuerKey


class Command(BaseCommand):
    help = "Rotate an agency's wallet document-signing key (ES256); old keys stay published."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("agency", help="the agency code (core.Agency.code)")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with code {options['agency']!r}")
        new = keys.rotate(agency)
        self.stdout.write(f"new signing key for {agency.code}: {new.kid}")
        for key in IssuerKey.objects.filter(agency=agency).order_by("-created_at", "-id"):
            state = (
                "signing"
                if key.retired_at is None
                else f"retired {key.retired_at:%Y-%m-%d %H:%M} UTC"
            )
            self.stdout.write(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M} UTC  {state}")
        self.stdout.write(f"JWKS: {keys.jwks_uri(agency)}")

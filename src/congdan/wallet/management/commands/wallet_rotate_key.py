"""``congdan wallet_rotate_key <agency code>``: retire an agency's document-signing key
and make a new one. Both stay in the agency's JWKS, so documents signed before keep
verifying (docs/wallet.md). ``--compromised`` withdraws the old keys from the JWKS at
once: the documents they signed stop verifying and must be issued again."""

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
        parser.add_argument(
            "--compromised",
            action="store_true",
            help="the old keys leaked: remove them from the JWKS now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with code {options['agency']!r}")
        new = keys.rotate(agency, compromised=options["compromised"])
        self.stdout.write(f"new signing key for {agency.code}: {new.kid}")
        for key in IssuerKey.objects.filter(agency=agency).order_by("-created_at", "-id"):
            if key.compromised_at is not None:
                state = f"compromised {key.compromised_at:%Y-%m-%d %H:%M} UTC (unpublished)"
            elif key.retired_at is None:
                state = "signing"
            else:
                state = f"retired {key.retired_at:%Y-%m-%d %H:%M} UTC"
            self.stdout.write(f"{key.kid}  created {key.created_at:%Y-%m-%d %H:%M} UTC  {state}")
        self.stdout.write(f"JWKS: {keys.jwks_uri(agency)}")

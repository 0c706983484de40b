"""``congdan exchange_webhook MEMBER URL``: a webhook endpoint for a member's change
notifications; prints the signing secret once (docs/exchange.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.core.errors import DomainError
from congdan.exchange import notifications
from congdan.exchange.models import Member


class Command(BaseCommand):
    help = "Create a webhook endpoint for a member organisation and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("member", help="member code, e.g. NHDEMO")
        parser.add_argument("url", help="http(s) URL that receives the signed POSTs")

    def handle(self, *args: Any, **options: Any) -> None:
        member = Member.objects.filter(code=options["member"]).first()
        if member is None:
            raise CommandError(f"no member with code {options['member']!r}")
        try:
            new = notifications.create_endpoint(None, member=member, url=options["url"])
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(f"endpoint {new.endpoint.pk} for {member.identifier}: {new.endpoint.url}")
        self.stdout.write(f"signing secret (shown once, store it now): {new.secret}")

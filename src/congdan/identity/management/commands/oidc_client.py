"""``congdan oidc_client create|ensure-demo``: register relying parties from the shell.

``create`` prints the client id and (for a confidential client) the secret, which is
shown only once: the database keeps a hash. ``--agency CODE`` names the agency a
client-credentials system acts for (required with the ``wallet:issue`` scope).
``ensure-demo`` makes the two demo relying parties with fixed ids and secrets, only with
DEBUG or CONGDAN_DEMO on.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.core.errors import DomainError
from congdan.core.models import Agency
from congdan.identity.services import clients


class Command(BaseCommand):
    help = "Register an OpenID Connect relying party, or the demo ones."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register a relying party")
        create.add_argument("--name", required=True)
        create.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        create.add_argument(
            "--post-logout-redirect-uri", action="append", default=[], dest="post_logout"
        )
        create.add_argument(
            "--scopes", default="openid profile", help="space- or comma-separated scope names"
        )
        create.add_argument("--level", type=int, choices=[1, 2], default=1)
        kind = create.add_mutually_exclusive_group()
        kind.add_argument("--public", action="store_true")
        kind.add_argument("--confidential", action="store_true")
        create.add_argument(
            "--client-credentials",
            action="store_true",
            help=(
                "a member-organisation system (grant client_credentials; scopes "
                "registry:read, wallet:issue, wallet:read)"
            ),
        )
        create.add_argument("--organisation", default="")
        create.add_argument("--sector", default="", help="sector identifier for pairwise subjects")
        create.add_argument("--client-id", default=None)
        create.add_argument(
            "--agency",
            default=None,
            metavar="CODE",
            help="code of the agency the system acts for (required for scope wallet:issue)",
        )
        sub.add_parser("ensure-demo", help="the two demo relying parties (DEBUG/CONGDAN_DEMO only)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "ensure-demo":
                self._ensure_demo()
            else:
                self._create(options)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc

    def _create(self, options: dict[str, Any]) -> None:
        scopes = options["scopes"].replace(",", " ").split()
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"].strip()).first()
            if agency is None:
                raise CommandError(f"unknown agency code {options['agency']!r}")
        registered = clients.create_client(
            None,
            name=options["name"],
            redirect_uris=options["redirect_uris"],
            post_logout_redirect_uris=options["post_logout"],
            scopes=scopes,
            required_level=options["level"],
            confidential=not options["public"],
            organisation=options["organisation"],
            sector_identifier=options["sector"],
            client_credentials=options["client_credentials"],
            client_id=options["client_id"],
            agency=agency,
        )
        self.stdout.write(f"client_id: {registered.application.client_id}")
        if registered.client_secret:
            self.stdout.write(f"client_secret: {registered.client_secret}")
            self.stdout.write("(the secret is shown only now; the database keeps a hash)")

    def _ensure_demo(self) -> None:
        if not clients.demo_mode():
            raise CommandError("ensure-demo sets known secrets: run it with CONGDAN_DEMO=1")
        for spec, created in clients.ensure_demo_clients():
            self.stdout.write(
                f"{spec['name']}: client_id={spec['client_id']} "
                f"client_secret={spec['client_secret']} "
                f"redirect_uri={spec['redirect_uris'][0]} level={int(spec['required_level'])} "
                f"({'created' if created else 'already there'})"
            )

"""``congdan verify_access_log`` (also ``congdan verify-access-log``): check the sealed
access log — every non-pruned segment, the hash chain, the signatures — and exit
non-zero naming each segment that differs (docs/access-log.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from congdan.audit import sealing


class Command(BaseCommand):
    help = (
        "Verify the tamper-evident access log: recompute each sealed segment, the hash "
        "chain and the seal signatures. Exits 1 naming any segment that differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="check only the segments of this month (YYYY-MM)")
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="HEX",
            help="also trust this Ed25519 public key (of an earlier seal secret); repeatable",
        )
        parser.add_argument(
            "--anchor",
            metavar="SEAL_HASH",
            help="a chain head recorded earlier: it must still be in the chain",
        )
        parser.add_argument(
            "--show-key",
            action="store_true",
            help="print the current seal key's id and public key, and stop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = sealing.signing_key().public_key()
        if options["show_key"]:
            self.stdout.write(f"key id:     {sealing.key_id_of(key)}")
            self.stdout.write(f"public key: {sealing.public_key_bytes(key).hex()}")
            return
        try:
            month = sealing.parse_month(options["month"]) if options["month"] else None
            extra = [sealing.load_public_key(text) for text in options["public_key"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        report = sealing.verify(month=month, public_keys=extra, anchor=options["anchor"])
        scope = f" for {month:%Y-%m}" if month else ""
        self.stdout.write(
            f"access log{scope}: {report.seals} seals in the chain; "
            f"{report.segments_checked} segments checked ({report.entries_checked} entries), "
            f"{report.pruned_segments} pruned by retention"
        )
        self.stdout.write(f"chain head: {report.head}")
        if report.unsealed:
            months = ", ".join(f"{m}: {n}" for m, n in sorted(report.unsealed.items()))
            self.stdout.write(f"not yet sealed (normal, not an error): {months}")
        for problem in report.problems:
            self.stdout.write(f"PROBLEM [{problem.kind}] {problem}")
        if not report.ok:
            raise CommandError(f"access log verification FAILED: {len(report.problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("access log verified: no tampering found"))

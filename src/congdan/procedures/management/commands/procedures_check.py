"""``congdan procedures_check [--dir DIR]``: load and check the procedure catalogue.

On success prints one line per procedure and bundle (code, name, agency, legal deadline,
fee) and exits 0. On failure prints every problem as ``file:line: reason`` on stderr and
exits 1 — CI runs it so a broken spec never ships.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from congdan.payments.fees import FeeSpec, format_dong
from congdan.procedures.specs import (
    BundleSpec,
    Catalogue,
    CatalogueError,
    ProcedureSpec,
    load_catalogue,
)


def _fee(fee: FeeSpec) -> str:
    if fee.is_free:
        return _("miễn phí")
    text = format_dong(fee.amount)
    if fee.exemptions:
        count = len(fee.exemptions)
        text += " " + ngettext("(%(n)d miễn giảm)", "(%(n)d miễn giảm)", count) % {"n": count}
    return text


def _days(days: int) -> str:
    return ngettext("%(n)d ngày làm việc", "%(n)d ngày làm việc", days) % {"n": days}


def procedure_line(spec: ProcedureSpec) -> str:
    agency = f"{spec.agency.kind}/{spec.agency.level}"
    return "  ".join(
        (
            spec.code.ljust(34),
            str(spec.name).ljust(48),
            agency.ljust(26),
            _days(spec.deadline_days).ljust(18),
            _fee(spec.fee),
        )
    )


def bundle_line(bundle: BundleSpec, catalogue: Catalogue) -> str:
    deadline = _days(bundle.deadline_days)
    if bundle.deadline_days_with_verification is not None:
        deadline += " " + _("(xác minh: %(n)d)") % {"n": bundle.deadline_days_with_verification}
    specs = [s for part in bundle.parts if (s := catalogue.procedure(part.procedure))]
    fee = sum(s.fee.amount for s in specs)
    fee_text = format_dong(fee) if fee else _("miễn phí")
    if fee and any(s.fee.exemptions for s in specs):
        fee_text += " " + _("(chưa trừ miễn giảm)")
    parts = " + ".join(part.procedure for part in bundle.parts)
    return "  ".join(
        (
            f"bundles/{bundle.code}".ljust(34),
            str(bundle.name),
            "[" + parts + "]",
            deadline,
            fee_text,
        )
    )


class Command(BaseCommand):
    help = _(
        "Kiểm tra danh mục thủ tục (procedures/*.yaml, procedures/bundles/*.yaml); "
        "in từng lỗi dạng tệp:dòng: lý do và thoát với mã 1 nếu có lỗi."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            dest="directory",
            type=Path,
            default=None,
            help=_("Thư mục danh mục (mặc định: CONGDAN_PROCEDURES_DIR)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"] or settings.CONGDAN_PROCEDURES_DIR)
        try:
            catalogue = load_catalogue(directory)
        except CatalogueError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem), style_func=lambda text: text)
            count = len(exc.problems)
            raise CommandError(
                ngettext("Danh mục thủ tục có %(n)d lỗi.", "Danh mục thủ tục có %(n)d lỗi.", count)
                % {"n": count},
                returncode=1,
            ) from exc
        for spec in sorted(catalogue.procedures.values(), key=lambda s: s.code):
            self.stdout.write(procedure_line(spec))
        for bundle in sorted(catalogue.bundles.values(), key=lambda b: b.code):
            self.stdout.write(bundle_line(bundle, catalogue))
        self.stdout.write(
            self.style.SUCCESS(
                _("Hợp lệ: %(p)d thủ tục, %(b)d nhóm liên thông (%(dir)s).")
                % {"p": len(catalogue.procedures), "b": len(catalogue.bundles), "dir": directory}
            )
        )

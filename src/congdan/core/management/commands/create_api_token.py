"""``congdan create_api_token <username> --name NAME [--days N]``: issue an API token.

The key is printed once, alone on standard output (so ``KEY=$(congdan create_api_token
...)`` works); explanations go to standard error. Only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from congdan.core.api_auth import DEFAULT_VALID_DAYS, MAX_VALID_DAYS, issue_token
from congdan.core.errors import DomainError
from congdan.core.models import User
from congdan.core.permissions import Perm, permissions_of


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # argparse needs a real str, not a lazy translation.
        self.help = _("Tạo mã truy cập API (Bearer) cho một tài khoản; mã chỉ hiển thị một lần.")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help=_("Tên đăng nhập của tài khoản sở hữu mã."))
        parser.add_argument(
            "--name",
            required=True,
            help=_("Tên gợi nhớ của mã (ví dụ: tên hệ thống sử dụng)."),
        )
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_VALID_DAYS,
            help=_("Số ngày hiệu lực (1–%(max)d; mặc định %(default)d; 0 = không hết hạn).")
            % {"max": MAX_VALID_DAYS, "default": DEFAULT_VALID_DAYS},
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        days: int = options["days"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("Không có tài khoản %(user)s.") % {"user": username})
        try:
            token, key = issue_token(
                None, owner=user, name=options["name"], valid_days=days or None
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        perms = permissions_of(user)
        if Perm.PERSON_READ not in perms and Perm.PERSON_SEARCH not in perms:
            self.stderr.write(
                self.style.WARNING(
                    _(
                        "Lưu ý: tài khoản %(user)s không có quyền đọc dữ liệu dân cư; "
                        "mọi yêu cầu API sẽ bị từ chối (403)."
                    )
                    % {"user": username}
                )
            )
        expiry = (
            token.expires_at.strftime("%Y-%m-%d %H:%M UTC")
            if token.expires_at
            else _("không hết hạn")
        )
        self.stderr.write(
            _(
                "Đã tạo mã truy cập %(prefix)s… (%(name)s) cho %(user)s, hiệu lực đến: "
                "%(expiry)s. Lưu mã dưới đây ngay: hệ thống không lưu và không hiển thị lại."
            )
            % {"prefix": token.prefix, "name": token.name, "user": username, "expiry": expiry}
        )
        self.stdout.write(key)

"""Web pages of the exchange app: the citizen's data tracker and consents (/me/data/…) and
the data-protection officer's supervision (/supervision/access/…).

``Describer`` turns access-log entries into what a person reads: organisation names
instead of codes (exchange members, agencies), the service's name, field labels, the
purpose's name and legal basis. Shared by the tracker and the supervision pages.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from congdan.audit.models import AccessLogEntry, Channel, Outcome
from congdan.core.models import Agency
from congdan.exchange import catalogue
from congdan.exchange.models import DataService, Member, ServicePurpose

# Labels of the fields the apps write to the access log (catalogue fields, registry
# reads); unknown names are shown as they are.
FIELD_LABELS: dict[str, Any] = {
    "id_number": _("Số định danh cá nhân"),
    "full_name": _("Họ, chữ đệm và tên"),
    "other_names": _("Tên gọi khác"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "nationality": _("Quốc tịch"),
    "ethnicity": _("Dân tộc"),
    "religion": _("Tôn giáo"),
    "home_town": _("Quê quán"),
    "vital_status": _("Tình trạng (còn sống/đã mất)"),
    "death_date": _("Ngày mất"),
    "birth_registration_place": _("Nơi đăng ký khai sinh"),
    "parents": _("Cha, mẹ"),
    "spouse": _("Vợ/chồng"),
    "identity_cards": _("Thẻ căn cước"),
    "household": _("Hộ gia đình"),
    "residence_commune": _("Xã/phường cư trú"),
    "permanent_address": _("Nơi thường trú"),
    "permanent_commune": _("Xã/phường thường trú"),
    "permanent_province": _("Tỉnh/thành phố thường trú"),
    "permanent_since": _("Thường trú từ ngày"),
    "temporary_address": _("Nơi tạm trú"),
    "temporary_until": _("Tạm trú đến ngày"),
    "household_number": _("Số hộ"),
    "head_name": _("Họ tên chủ hộ"),
    "relation_to_head": _("Quan hệ với chủ hộ"),
    "members": _("Thành viên hộ"),
    "card_number": _("Số thẻ căn cước"),
    "card_status": _("Tình trạng thẻ"),
    "card_issue_date": _("Ngày cấp thẻ"),
    "card_expiry_date": _("Ngày hết hạn thẻ"),
    "death": _("Thông báo khi qua đời"),
    "residence_change": _("Thông báo thay đổi nơi cư trú"),
    "name_change": _("Thông báo thay đổi họ tên"),
    "eid_portrait": _("Ảnh chân dung định danh điện tử"),
    "correction_request": _("Phản ánh sai thông tin"),
    "wallet_document": _("Giấy tờ trong kho dữ liệu"),
    "access_log": _("Nhật ký truy cập dữ liệu"),
    # OpenID Connect claims a connected application received.
    "name": _("Họ, chữ đệm và tên"),
    "birthdate": _("Ngày sinh"),
    "gender": _("Giới tính"),
    "address": _("Nơi thường trú"),
    "phone_number": _("Số điện thoại"),
    "id_card": _("Thẻ căn cước"),
}

# Screens and services of other channels, where the log has a code.
VIEW_LABELS: dict[str, Any] = {
    "oidc:id_token": _("Đăng nhập bằng tài khoản định danh (ID token)"),
    "oidc:userinfo": _("Thông tin tài khoản cho ứng dụng (userinfo)"),
}

# Purposes other apps log under a code.
PURPOSE_LABELS: dict[str, Any] = {
    "eid_level2": _("Xác thực định danh điện tử mức độ 2"),
    "correction_request": _("Xử lý phản ánh sai thông tin"),
    "data_protection_supervision": _("Giám sát bảo vệ dữ liệu cá nhân"),
    "document_status": _("Cập nhật tình trạng giấy tờ đã cấp"),
}

_CATALOGUE_PURPOSES = {
    (service.code, purpose.code): purpose
    for service in catalogue.SERVICES
    for purpose in service.purposes
}

OUTCOME_LABELS = dict(Outcome.choices)
CHANNEL_LABELS = dict(Channel.choices)


def field_labels(fields: str) -> list[str]:
    return [str(FIELD_LABELS.get(name, name)) for name in fields.split(",") if name]


class Describer:
    """Names for access-log entries; organisation names are fetched in bulk per batch."""

    def __init__(self) -> None:
        self._orgs: dict[str, str] = {}
        self._services = dict(DataService.objects.values_list("code", "name"))
        self._purposes: dict[tuple[str, str], tuple[str, str]] = {
            (service, code): (name, basis)
            for service, code, name, basis in ServicePurpose.objects.values_list(
                "service__code", "code", "name", "legal_basis"
            )
        }

    def prime(self, codes: Iterable[str]) -> None:
        wanted = {c for c in codes if c and c not in self._orgs}
        if not wanted:
            return
        found = dict(Member.objects.filter(code__in=wanted).values_list("code", "name"))
        rest = wanted - found.keys()
        if rest:
            found.update(Agency.objects.filter(code__in=rest).values_list("code", "name"))
        for code in wanted:
            # An OIDC client's or requester's organisation is already a name.
            self._orgs[code] = found.get(code, code)

    def organisation(self, code: str) -> str:
        if not code:
            return ""
        self.prime([code])
        return self._orgs[code]

    def service(self, entry: AccessLogEntry) -> str:
        if entry.channel == Channel.EXCHANGE:
            spec = catalogue.SERVICE_BY_CODE.get(entry.view)
            if spec is not None:  # translated
                return str(spec.name)
            return self._services.get(entry.view, entry.view)
        label = VIEW_LABELS.get(entry.view)
        return str(label) if label is not None else entry.view

    def purpose(self, entry: AccessLogEntry) -> tuple[str, str]:
        """(name, legal basis) of the entry's purpose."""
        if entry.channel == Channel.EXCHANGE:
            spec = _CATALOGUE_PURPOSES.get((entry.view, entry.purpose))
            if spec is not None:  # translated
                return str(spec.name), spec.legal_basis
            known = self._purposes.get((entry.view, entry.purpose))
            if known is not None:
                return known
        if entry.channel == Channel.OIDC and entry.purpose.startswith("oidc:"):
            return str(_("Cung cấp thông tin cho ứng dụng bạn đã đồng ý kết nối")), ""
        label = PURPOSE_LABELS.get(entry.purpose)
        return (str(label) if label is not None else entry.purpose, "")

    def rows(self, entries: Sequence[AccessLogEntry]) -> list[dict[str, Any]]:
        self.prime(e.organisation for e in entries)
        out = []
        for entry in entries:
            purpose, basis = self.purpose(entry)
            out.append(
                {
                    "entry": entry,
                    "at": entry.at,
                    "organisation": self.organisation(entry.organisation),
                    "organisation_code": entry.organisation,
                    "actor": entry.actor_label,
                    "channel": CHANNEL_LABELS.get(entry.channel, entry.channel),
                    "service": self.service(entry),
                    "fields": field_labels(entry.fields),
                    "purpose": purpose,
                    "legal_basis": basis,
                    "outcome": entry.outcome,
                    "outcome_label": OUTCOME_LABELS.get(entry.outcome, entry.outcome),
                }
            )
        return out


# --- CSV --------------------------------------------------------------------------------

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """UTF-8 CSV with a BOM (Excel opens it with the right encoding), line by line."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([str(h) for h in header])
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in row])

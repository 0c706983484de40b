"""Display helpers for the registry pages: dates (with their precision), times in
Asia/Ho_Chi_Minh, units, reference data in the active language, change records."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from congdan.registry.models import (
    CardStatus,
    CardType,
    DatePrecision,
    Relationship,
    ResidenceKind,
    Sex,
    VitalStatus,
)

register = template.Library()

DISPLAY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # DESIGN rule 7: stored in UTC, shown here
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _vietnamese() -> bool:
    return (get_language() or "vi").split("-")[0] == "vi"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


@register.filter
def vndate(value: Any) -> str:
    """dd/mm/yyyy in Vietnamese; the locale's long date in other languages."""
    day = _as_date(value)
    if day is None:
        return "" if value in (None, "") else str(value)
    if _vietnamese():
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    return formats.date_format(day, "DATE_FORMAT")


@register.filter
def precise_date(value: Any, precision: str = DatePrecision.DAY) -> str:
    """A date shown only as precisely as it is known (day, month or year)."""
    day = _as_date(value)
    if day is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{day.year:04d}"
    if precision == DatePrecision.MONTH:
        if _vietnamese():
            return f"{day.month:02d}/{day.year:04d}"
        return formats.date_format(day, "YEAR_MONTH_FORMAT")
    return vndate(day)


@register.filter
def birth_date(person: Any) -> str:
    return precise_date(person.birth_date, person.birth_date_precision)


@register.filter
def vndatetime(value: dt.datetime | None) -> str:
    """A stored (UTC) moment shown in Asia/Ho_Chi_Minh."""
    if value is None:
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    local = timezone.localtime(value, DISPLAY_TZ)
    if _vietnamese():
        return local.strftime("%H:%M %d/%m/%Y")
    return formats.date_format(local, "DATETIME_FORMAT")


@register.filter
def unit_path(unit: Any) -> str:
    """ "Commune, Province" for a unit (its name alone when it has no parent)."""
    if unit is None:
        return ""
    parent = getattr(unit, "parent", None)
    return f"{unit.name}, {parent.name}" if parent is not None else str(unit.name)


@register.filter
def ref_name(obj: Any) -> str:
    """Reference data (ethnicity, religion) in the active language."""
    if obj is None:
        return ""
    name_en = getattr(obj, "name_en", "")
    if name_en and not _vietnamese():
        return str(name_en)
    return str(obj.name)


NATIONALITIES = {"VN": _("Việt Nam")}


@register.filter
def nationality(code: str) -> str:
    return str(NATIONALITIES.get(code, code))


# --- change records -------------------------------------------------------------------

ACTIONS = {
    "register_person": _("Đăng ký công dân"),
    "correct_person": _("Cải chính thông tin"),
    "register_temporary": _("Đăng ký tạm trú"),
    "register_permanent": _("Đăng ký thường trú"),
    "register_absence": _("Khai báo tạm vắng"),
    "end_residence": _("Kết thúc cư trú"),
    "move_household": _("Chuyển hộ"),
    "add_household_member": _("Nhập hộ"),
    "record_death": _("Ghi nhận khai tử"),
}

FIELDS = {
    "id_number": _("Số định danh"),
    "full_name": _("Họ tên"),
    "other_names": _("Tên gọi khác"),
    "birth_date": _("Ngày sinh"),
    "birth_date_precision": _("Độ chính xác ngày sinh"),
    "sex": _("Giới tính"),
    "ethnicity_id": _("Dân tộc"),
    "religion_id": _("Tôn giáo"),
    "nationality": _("Quốc tịch"),
    "home_town_id": _("Quê quán"),
    "father_id": _("Cha"),
    "mother_id": _("Mẹ"),
    "spouse_id": _("Vợ/chồng"),
    "vital_status": _("Tình trạng"),
    "death_date": _("Ngày chết"),
    "residence_commune_id": _("Xã/phường thường trú"),
    "residence_province_id": _("Tỉnh/thành phố thường trú"),
    "kind": _("Loại cư trú"),
    "address": _("Địa chỉ"),
    "commune": _("Xã/phường"),
    "start_date": _("Từ ngày"),
    "end_date": _("Đến ngày"),
    "ended_on": _("Kết thúc ngày"),
    "household": _("Hộ"),
    "relationship": _("Quan hệ với chủ hộ"),
}

_CHOICES: dict[str, dict[str, Any]] = {
    "kind": dict(ResidenceKind.choices),
    "vital_status": dict(VitalStatus.choices),
    "sex": dict(Sex.choices),
    "birth_date_precision": dict(DatePrecision.choices),
    "relationship": dict(Relationship.choices),
    "card_type": dict(CardType.choices),
    "status": dict(CardStatus.choices),
}


@register.filter
def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def _value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    label = _CHOICES.get(name, {}).get(value)
    if label is not None:
        return str(label)
    if _as_date(value) is not None:
        return vndate(value)
    return str(value)


@register.filter
def change_rows(changes: Any) -> list[dict[str, str]]:
    """``{"field": [old, new]}`` as rows of label, old and new, ready to show."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for name, pair in changes.items():
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        if old == new:
            continue
        rows.append(
            {
                "label": str(FIELDS.get(name, name)),
                "old": _value(name, old),
                "new": _value(name, new),
            }
        )
    return rows

"""Forms of the officer web UI.

They only parse and check what a browser can get wrong (missing values, malformed
dates, a commune that is not offered); every rule of the domain lives in the services,
whose typed errors the views attach to these forms (``add_domain_error``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.core.jurisdiction import jurisdiction_of
from congdan.geo.selectors import communes_in

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User
    from congdan.geo.models import AdministrativeUnit

# Accepted date spellings: ISO (what <input type="date"> submits) and the Vietnamese
# day/month/year for browsers that show the date input as plain text.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
REQUIRED = _("Trường này là bắt buộc.")


class DateInput(forms.DateInput):
    """A native date picker; works without JavaScript and falls back to a text box."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: str | Any, *, required: bool = True, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
        error_messages={
            "required": REQUIRED,
            "invalid": _("Nhập ngày hợp lệ theo dạng ngày/tháng/năm."),
        },
        **kwargs,
    )


def text_field(
    label: str | Any, *, max_length: int, required: bool = True, **kwargs: Any
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages={
            "required": REQUIRED,
            "max_length": _("Nhập tối đa %(limit_value)d ký tự."),
        },
        **kwargs,
    )


# --- communes within the officer's jurisdiction ---------------------------------------


def jurisdiction_communes(
    actor: User | AnonymousUser | None,
) -> list[AdministrativeUnit] | None:
    """Current communes an officer may choose; None when national (too many to list)."""
    j = jurisdiction_of(actor)
    if j.national:
        return None
    if j.unit is None:
        return []
    try:
        return list(communes_in(j.unit).order_by("name_search", "code"))
    except ValidationFailed:  # an agency still bound to a legacy unit: nothing to offer
        return []


def commune_field(
    actor: User | AnonymousUser | None, *, required: bool, empty_label: str | Any
) -> forms.Field:
    """A select of the jurisdiction's communes, or a code box for national users."""
    communes = jurisdiction_communes(actor)
    label = _("Xã/phường")
    if communes is None:
        return forms.CharField(
            label=label,
            required=required,
            max_length=10,
            help_text=_("Mã xã/phường hiện nay (5 chữ số)."),
            error_messages={"required": REQUIRED},
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        )
    choices: list[tuple[str, str]] = [("", str(empty_label))] if empty_label else []
    choices += [(u.code, u.name) for u in communes]
    return forms.ChoiceField(
        label=label,
        required=required,
        choices=choices,
        error_messages={
            "required": _("Chọn xã/phường."),
            "invalid_choice": _("Xã/phường đã chọn không thuộc địa bàn quản lý của bạn."),
        },
    )


class ActorForm(forms.Form):
    """A form that knows the acting officer (for the commune choices)."""

    def __init__(self, actor: User | AnonymousUser, *args: Any, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)


# --- search ---------------------------------------------------------------------------


class SearchForm(ActorForm):
    q = forms.CharField(
        label=_("Số định danh hoặc họ tên"),
        required=False,
        max_length=150,
        help_text=_("Có thể gõ không dấu, ví dụ: nguyen van an"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    birth_year = forms.IntegerField(
        label=_("Năm sinh"),
        required=False,
        min_value=1900,
        error_messages={
            "invalid": _("Nhập năm sinh gồm 4 chữ số."),
            "min_value": _("Năm sinh phải từ %(limit_value)s trở đi."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,  # keeps the offset within what the database accepts
        widget=forms.HiddenInput,
        error_messages={
            "invalid": _("Số trang không hợp lệ."),
            "min_value": _("Số trang phải từ 1 trở lên."),
            "max_value": _("Số trang không hợp lệ."),
        },
    )

    def __init__(self, actor: User | AnonymousUser, *args: Any, **kwargs: Any) -> None:
        super().__init__(actor, *args, **kwargs)
        this_year = timezone.localdate().year
        birth_year = self.fields["birth_year"]
        birth_year.validators.append(
            MaxValueValidator(this_year, message=_("Năm sinh không được sau năm %(limit_value)s."))
        )
        birth_year.widget.attrs["max"] = this_year
        self.fields["commune"] = commune_field(
            actor, required=False, empty_label=_("Tất cả trong địa bàn")
        )

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1


# --- changes --------------------------------------------------------------------------


class TemporaryResidenceForm(ActorForm):
    street = text_field(
        _("Số nhà, đường / thôn, tổ"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    start_date = date_field(_("Từ ngày"))
    end_date = date_field(_("Đến ngày"), help_text=_("Tạm trú từ 30 ngày đến tối đa 02 năm."))
    reason = text_field(_("Lý do"), max_length=300, required=False)

    def __init__(self, actor: User | AnonymousUser, *args: Any, **kwargs: Any) -> None:
        super().__init__(actor, *args, **kwargs)
        self.fields["commune"] = commune_field(actor, required=True, empty_label=_("— Chọn —"))
        self.order_fields(["street", "commune", "start_date", "end_date", "reason"])


class MoveHouseholdForm(ActorForm):
    street = text_field(
        _("Số nhà, đường / thôn, tổ nơi thường trú mới"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    move_date = date_field(_("Ngày chuyển"))
    reason = text_field(_("Lý do"), max_length=300, required=False)

    def __init__(self, actor: User | AnonymousUser, *args: Any, **kwargs: Any) -> None:
        super().__init__(actor, *args, **kwargs)
        self.fields["commune"] = commune_field(actor, required=True, empty_label=_("— Chọn —"))
        self.fields["move_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.order_fields(["street", "commune", "move_date", "reason"])


class DeathForm(forms.Form):
    death_date = date_field(_("Ngày chết"))
    document_ref = text_field(
        _("Số trích lục khai tử"),
        max_length=120,
        help_text=_("Hoặc số giấy báo tử."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reason = text_field(_("Ghi chú"), max_length=300, required=False)
    confirm = forms.BooleanField(
        label=_("Tôi đã kiểm tra giấy tờ và xác nhận công dân này đã chết."),
        required=True,
        error_messages={"required": _("Đánh dấu ô xác nhận để ghi nhận khai tử.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["death_date"].widget.attrs["max"] = timezone.localdate().isoformat()


# --- domain errors → form errors ------------------------------------------------------

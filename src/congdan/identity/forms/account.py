"""Forms of the citizen's account pages: they parse and check formats only; matching
against the registry and every other rule live in ``identity.services.accounts``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.identity.portraits import MAX_BYTES, clean_portrait
from congdan.identity.services.accounts import REPORTABLE_FIELDS
from congdan.registry.models import DatePrecision

REQUIRED = _("Trường này là bắt buộc.")
ID_HELP = _("12 chữ số, in trên thẻ căn cước.")
PASSWORDS_DIFFER = _("Hai mật khẩu không giống nhau.")


def _text(
    label: Any,
    *,
    max_length: int,
    autocomplete: str = "off",
    inputmode: str | None = None,
    help_text: Any = "",
    required: bool = True,
) -> forms.CharField:
    attrs: dict[str, str] = {"autocomplete": autocomplete}
    if inputmode:
        attrs["inputmode"] = inputmode
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
        error_messages={
            "required": REQUIRED,
            "max_length": _("Không được dài quá %(limit_value)d ký tự."),
        },
    )


def _id_number_field() -> forms.CharField:
    return _text(
        _("Số định danh cá nhân"),
        max_length=20,
        autocomplete="username",
        inputmode="numeric",
        help_text=ID_HELP,
    )


def _password(label: Any, autocomplete: str, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=128,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        error_messages={"required": REQUIRED},
    )


def _code_field(label: Any = None) -> forms.CharField:
    return _text(
        label or _("Mã xác thực"),
        max_length=10,
        autocomplete="one-time-code",
        inputmode="numeric",
        help_text=_("6 chữ số."),
    )


class IdNumberMixin:
    cleaned_data: dict[str, Any]

    def clean_id_number(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data.get("id_number") or "")
        if not re.fullmatch(r"[0-9]{12}", value):
            raise forms.ValidationError(_("Số định danh cá nhân gồm đúng 12 chữ số."))
        return value


class NewPasswordMixin:
    cleaned_data: dict[str, Any]

    def clean_new_password2(self) -> str:
        first = self.cleaned_data.get("new_password1")
        second = self.cleaned_data.get("new_password2") or ""
        if first and first != second:
            raise forms.ValidationError(PASSWORDS_DIFFER)
        return second


def parse_birth_date(raw: str) -> tuple[dt.date, str]:
    """dd/mm/yyyy (or yyyy-mm-dd), mm/yyyy or yyyy → (date, precision)."""
    value = raw.strip().replace("-", "/").replace(".", "/")
    try:
        if m := re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})", value):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), DatePrecision.DAY
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value):
            return dt.date(int(m[3]), int(m[2]), int(m[1])), DatePrecision.DAY
        if m := re.fullmatch(r"(\d{1,2})/(\d{4})", value):
            return dt.date(int(m[2]), int(m[1]), 1), DatePrecision.MONTH
        if m := re.fullmatch(r"(\d{4})", value):
            return dt.date(int(m[1]), 1, 1), DatePrecision.YEAR
    except ValueError:
        pass
    raise forms.ValidationError(
        _("Ngày sinh không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 17/05/1990.")
    )


class RegisterForm(IdNumberMixin, NewPasswordMixin, forms.Form):
    id_number = _id_number_field()
    full_name = _text(_("Họ, chữ đệm và tên"), max_length=150, autocomplete="name")
    birth_date = _text(
        _("Ngày sinh"),
        max_length=10,
        autocomplete="bday",
        help_text=_(
            "Ngày/tháng/năm, ví dụ 17/05/1990. Nếu giấy tờ chỉ ghi tháng, năm hoặc năm "
            "sinh, nhập 05/1990 hoặc 1990."
        ),
    )
    phone = _text(
        _("Số điện thoại di động"),
        max_length=20,
        autocomplete="tel",
        inputmode="tel",
        help_text=_("Mã xác thực sẽ được gửi tới số này."),
    )
    email = forms.EmailField(
        label=_("Thư điện tử (không bắt buộc)"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Địa chỉ thư điện tử không hợp lệ.")},
    )
    portrait = forms.FileField(
        label=_("Ảnh chân dung"),
        help_text=_("Ảnh JPEG hoặc PNG, rõ mặt, tối đa 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={
            "required": _("Vui lòng tải lên ảnh chân dung."),
            "invalid": _("Tệp tải lên không hợp lệ."),
            "empty": _("Tệp tải lên trống."),
        },
    )
    new_password1 = _password(
        _("Mật khẩu"),
        "new-password",
        _("Ít nhất 10 ký tự, không chỉ gồm chữ số, không quá phổ biến."),
    )
    new_password2 = _password(_("Nhập lại mật khẩu"), "new-password")

    def clean_birth_date(self) -> tuple[dt.date, str]:
        return parse_birth_date(self.cleaned_data["birth_date"])

    def clean_portrait(self) -> bytes:
        upload = self.cleaned_data["portrait"]
        try:
            return clean_portrait(upload, size=getattr(upload, "size", None))
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc.message)) from exc


# The portrait plus the other fields: anything larger is refused before parsing.
MAX_REGISTER_BODY = MAX_BYTES + 512 * 1024


class CodeForm(forms.Form):
    code = _code_field()


class LoginForm(forms.Form):
    # "username": the field django-axes reads (AXES_USERNAME_FORM_FIELD).
    username = _text(
        _("Số định danh cá nhân"),
        max_length=20,
        autocomplete="username",
        inputmode="numeric",
        help_text=ID_HELP,
    )
    password = _password(_("Mật khẩu"), "current-password")

    def clean_username(self) -> str:
        return re.sub(r"\s", "", self.cleaned_data.get("username") or "")


class ResetStartForm(IdNumberMixin, forms.Form):
    id_number = _id_number_field()


class ResetCompleteForm(NewPasswordMixin, forms.Form):
    code = _code_field()
    new_password1 = _password(
        _("Mật khẩu mới"),
        "new-password",
        _("Ít nhất 10 ký tự, không chỉ gồm chữ số, không quá phổ biến."),
    )
    new_password2 = _password(_("Nhập lại mật khẩu mới"), "new-password")


class ChangePasswordForm(NewPasswordMixin, forms.Form):
    current_password = _password(_("Mật khẩu hiện tại"), "current-password")
    new_password1 = _password(
        _("Mật khẩu mới"),
        "new-password",
        _("Ít nhất 10 ký tự, không chỉ gồm chữ số, không quá phổ biến."),
    )
    new_password2 = _password(_("Nhập lại mật khẩu mới"), "new-password")


class TotpConfirmForm(forms.Form):
    token = _code_field(_("Mã trong ứng dụng xác thực"))


class TotpRemoveForm(forms.Form):
    password = _password(_("Mật khẩu hiện tại"), "current-password")


class ReportErrorForm(forms.Form):
    wrong_fields = forms.MultipleChoiceField(
        label=_("Thông tin bị sai"),
        choices=list(REPORTABLE_FIELDS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Vui lòng chọn thông tin bị sai."),
            "invalid_choice": _("Lựa chọn không hợp lệ."),
        },
    )
    message = forms.CharField(
        label=_("Thông tin đúng và giấy tờ chứng minh"),
        max_length=2000,
        help_text=_("Ví dụ: họ tên đúng theo giấy khai sinh là …"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": REQUIRED,
            "max_length": _("Không được dài quá %(limit_value)d ký tự."),
        },
    )

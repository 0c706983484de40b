"""Forms of the officer pages (level-2 verification, correction requests) and the
citizen's level-2 request."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.identity.portraits import clean_portrait

REQUIRED = _("Trường này là bắt buộc.")


class WalkInForm(forms.Form):
    id_number = forms.CharField(
        label=_("Số định danh cá nhân"),
        max_length=12,
        min_length=12,
        error_messages={
            "required": REQUIRED,
            "min_length": _("Số định danh gồm đúng 12 chữ số."),
            "max_length": _("Số định danh gồm đúng 12 chữ số."),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_id_number(self) -> str:
        value = str(self.cleaned_data["id_number"]).strip()
        if not value.isdigit():
            raise forms.ValidationError(_("Số định danh gồm đúng 12 chữ số."))
        return value


class VerifyLevel2Form(forms.Form):
    card_number = forms.CharField(
        label=_("Số thẻ căn cước (đọc từ thẻ)"),
        max_length=12,
        error_messages={"required": REQUIRED},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    card_issue_date = forms.DateField(
        label=_("Ngày cấp (ghi trên thẻ)"),
        error_messages={"required": REQUIRED, "invalid": _("Nhập ngày hợp lệ.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    portrait = forms.FileField(
        label=_("Ảnh chân dung chụp tại chỗ"),
        help_text=_("Ảnh JPEG hoặc PNG, tối đa 2 MB."),
        error_messages={"required": REQUIRED},
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    attested = forms.BooleanField(
        label=_(
            "Tôi đã đối chiếu trực tiếp người đến với thẻ căn cước gắn chip và thu nhận "
            "ảnh chân dung; xác nhận này là căn cứ nâng mức độ 2."
        ),
        required=True,
        error_messages={"required": _("Đánh dấu ô xác nhận để nâng mức độ 2.")},
    )
    note = forms.CharField(
        label=_("Ghi chú"), max_length=500, required=False, widget=forms.Textarea({"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["card_issue_date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_portrait(self) -> bytes:
        upload = self.cleaned_data["portrait"]
        try:
            return clean_portrait(upload, getattr(upload, "size", None))
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from exc


class RejectLevel2Form(forms.Form):
    reason = forms.CharField(
        label=_("Lý do từ chối"),
        max_length=255,
        error_messages={"required": _("Nhập lý do từ chối.")},
    )


class ResolveReportForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("Kết quả"),
        choices=[
            ("1", _("Đã điều chỉnh thông tin trong Cơ sở dữ liệu")),
            ("0", _("Không điều chỉnh (thông tin đang đúng)")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("Chọn kết quả xử lý.")},
    )
    resolution = forms.CharField(
        label=_("Trả lời công dân"),
        max_length=4000,
        widget=forms.Textarea({"rows": 4}),
        error_messages={"required": _("Nhập nội dung trả lời cho công dân.")},
    )

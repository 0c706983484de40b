"""Forms of the wallet pages: list filters, sharing, uploading a scan, checking a scan.

Forms parse; the services decide (a typed error becomes a form error on its field).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from congdan.registry.models import Person
from congdan.wallet import credentials, doctypes
from congdan.wallet.models import STATUS_LABELS, CredentialFormat, Document, DocumentKind

# Validity choices of a share, in minutes.
VALIDITY_CHOICES = [
    ("15", _("15 phút")),
    ("60", _("1 giờ")),
    ("1440", _("1 ngày")),
    ("10080", _("7 ngày")),
    ("43200", _("30 ngày")),
]
DEFAULT_VALIDITY = "60"

# Types a citizen can pick for a scan (anything else: "other" and its own name).
OTHER = "other"
UPLOAD_TYPES: list[tuple[str, Any]] = [
    ("birth_certificate", _("Giấy khai sinh")),
    ("marriage_certificate", _("Giấy chứng nhận kết hôn")),
    ("id_card", _("Thẻ căn cước / căn cước công dân")),
    ("driving_licence", _("Giấy phép lái xe")),
    ("health_insurance_card", _("Thẻ bảo hiểm y tế")),
    ("diploma", _("Bằng tốt nghiệp, chứng chỉ")),
    ("land_use_certificate", _("Giấy chứng nhận quyền sử dụng đất")),
    ("household_book", _("Sổ hộ khẩu (cũ)")),
    (OTHER, _("Giấy tờ khác")),
]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared as one
    field.choices = choices


class DocumentFilterForm(forms.Form):
    """The list's filters, read from GET; every field optional."""

    q = forms.CharField(label=_("Tìm theo tên hoặc số giấy tờ"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Nguồn"), required=False)
    doc_type = forms.ChoiceField(label=_("Loại giấy tờ"), required=False)
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    holder = forms.ChoiceField(label=_("Của"), required=False)

    def __init__(
        self, *args: Any, documents: list[Document], person: Person, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("Tất cả"))]
        _set_choices(self, "kind", everything + list(DocumentKind.choices))
        types = {d.doc_type: d.title for d in documents}
        _set_choices(self, "doc_type", everything + sorted(types.items(), key=lambda t: t[1]))
        _set_choices(self, "status", everything + list(STATUS_LABELS.items()))
        children = {d.holder_id: d.holder.full_name for d in documents if d.holder_id != person.pk}
        _set_choices(
            self,
            "holder",
            everything
            + [("me", _("Tôi"))]
            + [(str(pk), name) for pk, name in sorted(children.items(), key=lambda t: t[1])],
        )


def claim_choices(document: Document) -> list[tuple[str, Any]]:
    return [(name, doctypes.field_label(name)) for name in credentials.disclosable(document)]


class ShareForm(forms.Form):
    claims = forms.MultipleChoiceField(
        label=_("Trường được chia sẻ"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Người nhận chỉ thấy những trường bạn chọn."),
    )
    valid_minutes = forms.TypedChoiceField(
        label=_("Thời hạn"),
        choices=VALIDITY_CHOICES,
        coerce=int,
        initial=DEFAULT_VALIDITY,
    )
    note = forms.CharField(
        label=_("Chia sẻ cho (ghi chú, không bắt buộc)"),
        required=False,
        max_length=120,
        help_text=_("Ví dụ: Ngân hàng A, khách sạn B. Chỉ bạn thấy ghi chú này."),
    )

    def __init__(self, *args: Any, document: Document, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.whole = document.credential_format == CredentialFormat.JWS
        if self.whole:
            del self.fields["claims"]
        else:
            _set_choices(self, "claims", claim_choices(document))
            self.fields["claims"].required = True
            self.fields["claims"].error_messages["required"] = _(
                "Chọn ít nhất một trường để chia sẻ."
            )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp bản chụp"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    doc_type = forms.ChoiceField(label=_("Loại giấy tờ"), choices=UPLOAD_TYPES)
    title = forms.CharField(
        label=_("Tên giấy tờ"),
        max_length=200,
        required=False,
        help_text=_("Để trống để dùng tên của loại giấy tờ (bắt buộc với “Giấy tờ khác”)."),
    )
    claimed_issuer = forms.CharField(label=_("Cơ quan cấp (ghi trên giấy tờ)"), max_length=200)
    issue_date = forms.DateField(
        label=_("Ngày cấp"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=_("Ghi chú"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mb = f"{int(settings.WALLET_UPLOAD_MAX_BYTES) / (1024 * 1024):g}"
        self.fields["file"].help_text = _(
            "PDF, JPEG hoặc PNG, tối đa %(mb)s MB; phần mở rộng phải đúng với nội dung tệp."
        ) % {"mb": mb}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        doc_type = cleaned.get("doc_type")
        if doc_type and not cleaned.get("title"):
            if doc_type == OTHER:
                self.add_error("title", _("Nhập tên giấy tờ."))
            else:
                cleaned["title"] = str(dict(UPLOAD_TYPES)[doc_type])
        return cleaned


class CheckUploadForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Kết quả đối chiếu"),
        choices=[
            ("verify", _("Khớp với bản gốc / dữ liệu dân cư: xác thực")),
            ("reject", _("Không khớp: không xác thực")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Ghi chú (bắt buộc khi không xác thực)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


ID_NUMBER_DIGITS = 12


class OfficeDocumentSearchForm(forms.Form):
    """An officer finds a document their agency issued: by its number (exact) or by the
    holder's 12-digit ID number (every document the agency issued to that person)."""

    q = forms.CharField(
        label=_("Số giấy tờ hoặc số định danh của công dân"),
        max_length=80,
        help_text=_("Số giấy tờ phải đầy đủ, chính xác; số định danh gồm 12 chữ số."),
    )

    def clean_q(self) -> str:
        return "".join(str(self.cleaned_data.get("q", "")).split())

    @property
    def id_number(self) -> str:
        """The ID number searched for, or "" when the query is a document number."""
        query = str(self.cleaned_data.get("q", ""))
        return (
            query if len(query) == ID_NUMBER_DIGITS and query.isascii() and query.isdigit() else ""
        )


# What an officer of the issuing agency may do, by stored status.
STATUS_ACTIONS: dict[str, Any] = {
    "suspend": _("Tạm đình chỉ"),
    "reinstate": _("Khôi phục hiệu lực"),
    "revoke": _("Thu hồi (không khôi phục được)"),
}


class DocumentStatusForm(forms.Form):
    """Suspend, reinstate or revoke a document: the actions its status allows, a reason."""

    action = forms.ChoiceField(label=_("Thao tác"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Lý do"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Lý do được ghi vào lịch sử giấy tờ; người được cấp xem được."),
    )

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "action", [(a, STATUS_ACTIONS[a]) for a in actions])
        self.fields["reason"].error_messages["required"] = _("Nhập lý do.")

"""Forms built from procedure specs.

``ApplicationForm`` turns the spec's fields into Django form fields: the type decides the
widget and the parsing, the spec's rules the validation (messages in Vietnamese). A field
the state prefilled is disabled — Django then ignores whatever a tampered request sends
for it and keeps the registry's value — and labelled with its source. Each document the
state does not already hold becomes a file field (PDF, JPEG or PNG, size-checked); when
the applicant's wallet holds a document that satisfies it (``wallet_reuse``), a choice of
those documents comes first, the first one chosen, with "upload a file instead" as the
last option.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.geo.models import AdministrativeUnit
from congdan.procedures import wallet_reuse
from congdan.registry import idnumbers
from congdan.registry.models import Ethnicity, Relationship, Sex

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from congdan.procedures.specs import DocumentSpec, FieldSpec
    from congdan.registry.models import Person
    from congdan.wallet.models import Document

PHONE = re.compile(r"^(0|\+84)[0-9]{9,10}$")
HOUSEHOLD = re.compile(r"^[A-Za-z0-9-]{3,20}$")
# Magic numbers of the accepted attachment formats.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


def sniff(head: bytes) -> str | None:
    return next((ctype for magic, ctype in SIGNATURES.items() if head.startswith(magic)), None)


def upload_problem(upload: UploadedFile, max_mb: int) -> str | None:
    """Why an attachment is refused (too large, not a PDF/JPEG/PNG by its bytes), or None."""
    if upload.size is not None and upload.size > max_mb * 1024 * 1024:
        return str(_("Tệp quá lớn: tối đa %(mb)d MB.") % {"mb": max_mb})
    head = upload.read(8)
    upload.seek(0)
    if sniff(head) is None:
        return str(_("Chỉ nhận tệp PDF, JPEG hoặc PNG (tệp tải lên không hợp lệ)."))
    return None


def _wallet_label(document: Document) -> str:
    text = _("%(title)s số %(number)s") % {"title": document.title, "number": document.number}
    if document.kind == "uploaded":
        text += " — " + str(_("bản chụp đã được xác thực"))
    if document.valid_until is not None:
        text += " — " + str(
            _("có giá trị đến %(date)s") % {"date": f"{document.valid_until:%d/%m/%Y}"}
        )
    return f"{text} ({document.holder.full_name})"


def wallet_choice(doc: DocumentSpec, offered: list[Document]) -> forms.ChoiceField:
    """A choice among the wallet documents that satisfy ``doc``, or an upload ("")."""
    return forms.ChoiceField(
        label=str(doc.name),
        choices=[
            *((d.number, _wallet_label(d)) for d in offered),
            ("", _("Không dùng giấy tờ trong Kho: tải lên tệp khác")),
        ],
        required=False,
        initial=offered[0].number,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _(
                "Giấy tờ đã chọn không có trong Kho giấy tờ của bạn hoặc không còn hiệu lực."
            )
        },
    )


def _label(spec: FieldSpec) -> str:
    return str(spec.label)


def _id_number(value: str) -> None:
    problems = idnumbers.validate(value.strip())
    if problems:
        raise ValidationError(problems[0].message)


def _phone(value: str) -> None:
    if not PHONE.match(value.replace(" ", "")):
        raise ValidationError(_("Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0)."))


def _household(value: str) -> None:
    if not HOUSEHOLD.match(value.strip()):
        raise ValidationError(_("Số hộ không hợp lệ."))


def _date_rules(spec: FieldSpec) -> list[Any]:
    def check(value: dt.date) -> None:
        today = timezone.localdate()
        if spec.not_future and value > today:
            raise ValidationError(_("Ngày không được ở tương lai."))
        if spec.not_past and value < today:
            raise ValidationError(_("Ngày không được ở quá khứ."))
        if spec.max_days_ago is not None and (today - value).days > spec.max_days_ago:
            raise ValidationError(
                _("Ngày không được trước hôm nay quá %(days)d ngày.") % {"days": spec.max_days_ago}
            )

    return [check]


def _pattern_rule(spec: FieldSpec) -> list[Any]:
    if spec.pattern is None:
        return []
    compiled = re.compile(spec.pattern)
    message = str(spec.pattern_message) if spec.pattern_message else _("Giá trị không hợp lệ.")

    def check(value: str) -> None:
        if not compiled.fullmatch(value.strip()):
            raise ValidationError(message)

    return [check]


def commune_choices(province_id: int | None) -> list[tuple[str, str]]:
    units = AdministrativeUnit.objects.current().communes()
    if province_id is not None:
        units = units.filter(parent_id=province_id)
    return [(u.code, f"{u.name}") for u in units.order_by("name_search")]


def person_choices(persons: list[Person]) -> list[tuple[str, str]]:
    return [
        (p.id_number, f"{p.full_name} — {p.birth_date:%d/%m/%Y} ({p.id_number})") for p in persons
    ]


def build_field(
    spec: FieldSpec, *, province_id: int | None, linked: list[Person] | None
) -> forms.Field:
    common: dict[str, Any] = {"label": _label(spec), "required": spec.required}
    if spec.help is not None:
        common["help_text"] = str(spec.help)
    kind = spec.type
    field: forms.Field
    if kind in ("text", "textarea", "id_number", "phone", "household_code"):
        validators = _pattern_rule(spec)
        validators += {
            "id_number": [_id_number],
            "phone": [_phone],
            "household_code": [_household],
        }.get(kind, [])
        field = forms.CharField(
            max_length=spec.max_length or (2000 if kind == "textarea" else 200),
            min_length=spec.min_length,
            widget=forms.Textarea(attrs={"rows": 3}) if kind == "textarea" else None,
            validators=validators,
            **common,
        )
    elif kind == "date":
        field = forms.DateField(
            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            validators=_date_rules(spec),
            **common,
        )
    elif kind == "integer":
        field = forms.IntegerField(min_value=spec.min, max_value=spec.max, **common)
    elif kind == "boolean":
        common["required"] = False
        field = forms.BooleanField(**common)
    else:
        choices = _choices(spec, province_id=province_id, linked=linked)
        field = forms.ChoiceField(choices=[("", "—"), *choices], **common)
    return field


def _choices(
    spec: FieldSpec, *, province_id: int | None, linked: list[Person] | None
) -> list[tuple[str, str]]:
    kind = spec.type
    if kind == "choice":
        return [(o.value, str(o.label)) for o in spec.options]
    if kind == "sex":
        return [(str(v), str(label)) for v, label in Sex.choices]
    if kind == "relationship":
        return [(str(v), str(label)) for v, label in Relationship.choices]
    if kind == "ethnicity":
        return [(e.code, e.name) for e in Ethnicity.objects.order_by("code")]
    if kind == "commune":
        return commune_choices(province_id)
    if kind == "linked_person":
        return person_choices(linked or [])
    raise ValueError(f"no choices for field type {kind}")


class ApplicationForm(forms.Form):
    """The form of one procedure, or of a bundle (the union of its parts' fields)."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args: Any,
        fields: list[FieldSpec],
        documents: list[DocumentSpec],
        prefill: dict[str, tuple[Any, str]],
        province_id: int | None,
        linked: dict[str, list[Person]],
        initial_data: dict[str, Any] | None = None,
        wallet: dict[str, list[Document]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.specs = {f.name: f for f in fields}
        self.documents = {d.code: d for d in documents}
        self.prefill = prefill
        for spec in fields:
            field = build_field(spec, province_id=province_id, linked=linked.get(spec.name))
            if spec.name in prefill:
                value, _source = prefill[spec.name]
                field.initial = value
                if not spec.editable:
                    field.disabled = True
            elif initial_data and spec.name in initial_data:
                field.initial = initial_data[spec.name]
            self.fields[spec.name] = field
        # Requirement code -> the usable wallet documents offered for it.
        self.wallet = {code: docs for code, docs in (wallet or {}).items() if docs}
        for doc in documents:
            offered = self.wallet.get(doc.code)
            if offered:
                self.fields[wallet_reuse.field_name(doc.code)] = wallet_choice(doc, offered)
            self.fields[f"doc_{doc.code}"] = forms.FileField(
                label=str(doc.name) if not offered else _("Hoặc tải lên tệp khác"),
                # With a wallet document offered, an upload is needed only instead of it.
                required=doc.required and not offered,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for code, doc in self.documents.items():
            upload: UploadedFile | None = cleaned.get(f"doc_{code}")
            if cleaned.get(wallet_reuse.field_name(code)):
                # The wallet document is attached; a file sent along is not used.
                cleaned[f"doc_{code}"] = None
                continue
            if code in self.wallet and upload is None and doc.required:
                self.add_error(
                    f"doc_{code}",
                    _("Chọn giấy tờ trong Kho giấy tờ hoặc tải tệp lên."),
                )
            if upload is None:
                continue
            problem = upload_problem(upload, doc.max_mb)
            if problem is not None:
                self.add_error(f"doc_{code}", problem)
        starts, ends = cleaned.get("start_date"), cleaned.get("end_date")
        if isinstance(starts, dt.date) and isinstance(ends, dt.date) and ends <= starts:
            self.add_error("end_date", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return cleaned

    def field_data(self) -> dict[str, Any]:
        """The cleaned values of the spec's fields, as JSON-storable values."""
        data: dict[str, Any] = {}
        for name in self.specs:
            value = self.cleaned_data.get(name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, str):
                value = " ".join(value.split()) if self.specs[name].type != "textarea" else value
            data[name] = value
        return data

    def uploads(self) -> dict[str, UploadedFile]:
        return {
            code: self.cleaned_data[f"doc_{code}"]
            for code in self.documents
            if self.cleaned_data.get(f"doc_{code}")
        }

    def wallet_choices(self) -> dict[str, str]:
        """Requirement code -> number of the wallet document chosen for it."""
        return {
            code: self.cleaned_data[wallet_reuse.field_name(code)]
            for code in self.wallet
            if self.cleaned_data.get(wallet_reuse.field_name(code))
        }

    def wallet_blocks(self) -> list[dict[str, Any]]:
        """What the template shows for each requirement a wallet document can satisfy:
        the chooser, the upload field, and the document currently chosen."""
        blocks = []
        for code, offered in self.wallet.items():
            name = wallet_reuse.field_name(code)
            bound = self[name]
            value = bound.value()  # the request's choice, or the initial one
            chosen = next((d for d in offered if d.number == value), None)
            blocks.append(
                {
                    "spec": self.documents[code],
                    "choice": bound,
                    "upload": self[f"doc_{code}"],
                    "chosen": chosen,
                    "offered": offered,
                }
            )
        return blocks

    def wallet_field_names(self) -> set[str]:
        return {wallet_reuse.field_name(c) for c in self.wallet} | {f"doc_{c}" for c in self.wallet}

    def source_of(self, name: str) -> str | None:
        entry = self.prefill.get(name)
        return entry[1] if entry else None

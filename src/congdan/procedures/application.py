"""An application being filled in: the spec (or bundle) with the applicant, the subject,
the prefilled values and the documents still to be asked for.

Built the same way for the form page (GET) and for the submission (POST), so what the
citizen saw and what the service checks cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.text import fold
from congdan.procedures import prefill
from congdan.procedures.prefill import Applicant
from congdan.procedures.specs import (
    BundlePart,
    BundleSpec,
    DocumentSpec,
    FieldSpec,
    ProcedureSpec,
    catalogue,
)
from congdan.registry.models import Person, VitalStatus

if TYPE_CHECKING:
    from congdan.identity.models import EidAccount


@dataclass
class Part:
    spec: ProcedureSpec
    part: BundlePart | None = None

    @property
    def code(self) -> str:
        return self.spec.code

    def own_fields(self) -> list[FieldSpec]:
        omitted = set(self.part.omit_fields) if self.part else set()
        return [f for f in self.spec.fields if f.name not in omitted]


@dataclass
class Application:
    code: str
    name: Any
    parts: list[Part]
    applicant: Applicant
    bundle: BundleSpec | None = None
    subject: Person | None = None
    fields: list[FieldSpec] = field(default_factory=list)
    documents: list[tuple[str, DocumentSpec]] = field(default_factory=list)
    linked: dict[str, list[Person]] = field(default_factory=dict)
    values: dict[str, tuple[Any, str]] = field(default_factory=dict)

    @property
    def first(self) -> Part:
        return self.parts[0]

    @property
    def min_eid_level(self) -> int:
        return self.bundle.min_eid_level if self.bundle else self.first.spec.min_eid_level

    @property
    def subject_field(self) -> FieldSpec | None:
        """The field naming the subject the applicant must choose first, if any."""
        subject = self.first.spec.subject
        if subject.kind != "linked" or subject.field is None:
            return None
        return self.first.spec.field(subject.field)

    @property
    def needs_subject_choice(self) -> bool:
        return self.subject_field is not None and self.subject is None

    def document_specs(self) -> list[DocumentSpec]:
        return [doc for _code, doc in self.documents]

    def part_of_document(self, code: str) -> str:
        return next(part for part, doc in self.documents if doc.code == code)


def _parts(code: str) -> tuple[list[Part], BundleSpec | None, Any]:
    cat = catalogue()
    bundle = cat.bundle(code)
    if bundle is not None:
        parts = [Part(cat.procedures[p.procedure], p) for p in bundle.parts]
        return parts, bundle, bundle.name
    spec = cat.procedure(code)
    if spec is None:
        raise NotFound(_("Không tìm thấy thủ tục."), code="procedure_not_found")
    return [Part(spec)], None, spec.name


def _choose_subject(app: Application, id_number: str) -> Person:
    spec = app.subject_field
    assert spec is not None  # noqa: S101 -- only called when the first part names one
    for person in app.linked.get(spec.name, []):
        if person.id_number == id_number.strip():
            return person
    raise PermissionDenied(
        _(
            "Bạn không có quan hệ với người mang số định danh này trong Cơ sở dữ liệu quốc gia "
            "về dân cư (%(relation)s), nên không thể nộp hồ sơ thay cho người đó."
        )
        % {"relation": _relation_text(spec)},
        code="not_linked",
        field=spec.name,
    )


def _relation_text(spec: FieldSpec) -> str:
    if spec.relation == "child":
        text = str(_("phải là cha hoặc mẹ"))
    else:
        text = str(_("phải là vợ/chồng, cha, mẹ, con hoặc người cùng hộ"))
    if spec.vital_status == VitalStatus.ALIVE:
        text += str(_("; người đó phải còn sống"))
    elif spec.vital_status == VitalStatus.DECEASED:
        text += str(_("; người đó phải đã được khai tử"))
    if spec.max_age_years is not None:
        text += str(_("; dưới %(age)d tuổi") % {"age": spec.max_age_years})
    return text


def open_application(
    code: str,
    person: Person,
    account: EidAccount | None,
    *,
    subject_id_number: str | None = None,
) -> Application:
    """The application for ``code`` (a procedure or a bundle) by ``person``."""
    parts, bundle, name = _parts(code)
    app = Application(
        code=code, name=name, parts=parts, applicant=Applicant(person, account), bundle=bundle
    )
    seen: set[str] = set()
    for part in parts:
        for spec in part.own_fields():
            if spec.name not in seen:
                seen.add(spec.name)
                app.fields.append(spec)
    for spec in app.fields:
        if spec.type == "linked_person" and spec.relation is not None:
            app.linked[spec.name] = prefill.linked_persons(
                person,
                spec.relation,
                vital_status=spec.vital_status,
                max_age_years=spec.max_age_years,
            )
    if app.subject_field is not None and subject_id_number:
        app.subject = _choose_subject(app, subject_id_number)
    app.values = prefill.prefill_values(app.fields, app.applicant, app.subject)
    if app.subject is not None and app.subject_field is not None:
        app.values[app.subject_field.name] = (app.subject.id_number, "subject")
    in_bundle = bundle is not None
    for index, part in enumerate(parts):
        for doc in part.spec.documents:
            holds = doc.skip_if is not None and prefill.state_holds(
                doc.skip_if, app.applicant, app.subject, in_bundle=in_bundle and index > 0
            )
            if not holds and all(doc.code != d.code for _p, d in app.documents):
                app.documents.append((part.code, doc))
    return app


def check_eid_level(app: Application, account: EidAccount | None) -> None:
    if account is None or account.level < app.min_eid_level:
        raise PermissionDenied(
            _(
                "Thủ tục này cần tài khoản định danh điện tử mức độ %(level)d. Hãy đề nghị "
                "nâng mức tài khoản tại công an xã/phường nơi cư trú."
            )
            % {"level": app.min_eid_level},
            code="eid_level_too_low",
        )


def resolve_id_number_subject(spec: ProcedureSpec, data: dict[str, Any]) -> Person:
    """The subject named by an ID number field (a guest), checked against the name."""
    assert spec.subject.field is not None  # noqa: S101 -- the spec loader guarantees it
    number = str(data.get(spec.subject.field) or "").strip()
    person = Person.objects.filter(id_number=number, status="active").first()
    name_field = spec.subject.name_field
    if (
        person is None
        or person.vital_status == VitalStatus.DECEASED
        or (name_field and fold(str(data.get(name_field) or "")) != person.name_search)
    ):
        raise ValidationFailed(
            _(
                "Số định danh và họ tên không khớp với Cơ sở dữ liệu quốc gia về dân cư; "
                "kiểm tra lại giấy tờ của người này."
            ),
            code="subject_mismatch",
            field=spec.subject.field,
        )
    return person

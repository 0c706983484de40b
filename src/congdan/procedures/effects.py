"""What approving a dossier does to the real state, by the spec's ``effect`` name.

Each effect runs inside the approval's transaction with the approving officer as the
actor, through the registry's own services (which check the officer's permission and
jurisdiction again). A failure raises and rolls the approval back: a dossier is never
approved without its registry change. Every effect ends with the result document.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.registry import services as registry
from congdan.registry.models import Person
from congdan.wallet import services as wallet

if TYPE_CHECKING:
    from congdan.core.models import User
    from congdan.procedures.models import Dossier
    from congdan.procedures.specs import ProcedureSpec
    from congdan.wallet.models import Document


@dataclass
class Outcome:
    subject: Person | None
    outputs: dict[str, Any]
    document: Document


def _date(data: dict[str, Any], name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(data[name]))
    except (KeyError, ValueError) as exc:
        raise ValidationFailed(
            _("Thiếu hoặc sai ngày trong hồ sơ."), code="invalid_date", field=name
        ) from exc


def _person_by_number(number: str | None, field: str) -> Person | None:
    if not number:
        return None
    person = Person.objects.filter(id_number=str(number).strip()).first()
    if person is None:
        raise ValidationFailed(
            _("Không tìm thấy công dân có số định danh đã khai."),
            code="person_not_found",
            field=field,
        )
    return person


def _subject(dossier: Dossier) -> Person:
    return dossier.subject or dossier.applicant


def _birth(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    data = dossier.data
    other = _person_by_number(data.get("other_parent_id_number"), "other_parent_id_number")
    father: Person | None
    mother: Person | None
    if data.get("applicant_role") == "father":
        father, mother = dossier.applicant, other
    else:
        father, mother = other, dossier.applicant
    child = registry.register_birth(
        actor,
        child=registry.NewBirth(
            full_name=str(data["child_full_name"]),
            birth_date=_date(data, "child_birth_date"),
            sex=str(data["child_sex"]),
            ethnicity_code=str(data.get("child_ethnicity") or "01"),
            birth_place_text=str(data.get("child_birth_place") or ""),
        ),
        commune_code=str(data.get("birth_commune") or dossier.unit.code),  # type: ignore[union-attr]  # unit is set at submission
        father_id=father.pk if father else None,
        mother_id=mother.pk if mother else None,
        document_ref=dossier.code,
        legal_basis=spec.legal_basis,
    )
    dossier.subject = child
    return {"child_id_number": child.id_number}


def _permanent_residence(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    data = dossier.data
    person = _subject(dossier)
    membership = registry.add_household_member(
        actor,
        household_code=str(data.get("household_code") or ""),
        person_id=person.pk,
        relationship=str(data.get("relationship") or "child"),
        since=timezone.localdate(),
        reason=str(data.get("reason") or dossier.code),
        legal_basis=spec.legal_basis,
        dossier_ref=dossier.code,
    )
    return {"household_code": membership.household.code}


def _temporary_residence(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    data = dossier.data
    residence = registry.register_temporary_residence(
        actor,
        person_id=_subject(dossier).pk,
        commune_code=str(data["stay_commune"]),
        street=str(data.get("stay_street") or ""),
        start_date=_date(data, "start_date"),
        end_date=_date(data, "end_date"),
        reason=str(data.get("reason") or ""),
        legal_basis=spec.legal_basis,
        dossier_ref=dossier.code,
    )
    return {"address": residence.address.text}


def _absence(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    data = dossier.data
    registry.declare_temporary_absence(
        actor,
        person_id=_subject(dossier).pk,
        destination=str(data.get("destination") or ""),
        start_date=_date(data, "start_date"),
        end_date=_date(data, "end_date"),
        reason=str(data.get("reason") or ""),
        legal_basis=spec.legal_basis,
    )
    return {}


def _death(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    data = dossier.data
    registry.record_death(
        actor,
        person_id=_subject(dossier).pk,
        death_date=_date(data, "death_date"),
        document_ref=dossier.code,
        reason=str(data.get("death_place") or ""),
        legal_basis=spec.legal_basis,
    )
    return {}


def _removal(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    registry.remove_permanent_residence(
        actor,
        person_id=_subject(dossier).pk,
        on=timezone.localdate(),
        reason=str(dossier.data.get("reason") or "deceased"),
        document_ref=dossier.code,
        legal_basis=spec.legal_basis,
    )
    return {}


def _child_health_card(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    child = _subject(dossier)
    province = dossier.unit.code if dossier.unit else "00"
    number = f"{secrets.randbelow(10**10):010d}"
    born = child.birth_date
    # Valid to the day before the sixth birthday (1 March stands for 29 February).
    sixth = (
        dt.date(born.year + 6, 3, 1)
        if (born.month, born.day) == (2, 29)
        else (born.replace(year=born.year + 6))
    )
    return {
        "card_number": f"TE1{province[-2:]:0>2}{number}",
        "social_insurance_number": number,
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": (sixth - dt.timedelta(days=1)).isoformat(),
    }


def _nothing(actor: User, dossier: Dossier, spec: ProcedureSpec) -> dict[str, Any]:
    return {}


EFFECTS: dict[str, Callable[[User, Dossier, ProcedureSpec], dict[str, Any]]] = {
    "document": _nothing,
    "registry.register_birth": _birth,
    "registry.register_permanent_residence": _permanent_residence,
    "registry.register_temporary_residence": _temporary_residence,
    "registry.declare_temporary_absence": _absence,
    "registry.record_death": _death,
    "registry.remove_permanent_residence": _removal,
    "insurance.child_health_card": _child_health_card,
}


def document_data(dossier: Dossier, spec: ProcedureSpec, outputs: dict[str, Any]) -> dict[str, Any]:
    person = _subject(dossier)
    data: dict[str, Any] = {
        "procedure": spec.code,
        "dossier": dossier.code,
        "full_name": person.full_name,
        "id_number": person.id_number,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
    }
    data.update({name: dossier.data.get(name) for name in spec.result.fields})
    data.update({k: v for k, v in spec.parameters.items() if isinstance(v, str | int)})
    data.update(outputs)
    return data


def apply(actor: User, dossier: Dossier, spec: ProcedureSpec) -> Outcome:
    """Run the effect and issue the result document (in the caller's transaction)."""
    outputs = EFFECTS[spec.effect](actor, dossier, spec)
    holder = _subject(dossier)
    valid_until = None
    if spec.result.valid_days:
        valid_until = timezone.localdate() + dt.timedelta(days=spec.result.valid_days)
    if "valid_until" in outputs:
        valid_until = dt.date.fromisoformat(outputs["valid_until"])
    document = wallet.issue_document(
        actor,
        holder=holder,
        doc_type=spec.result.doc_type,
        title_vi=spec.result.title.vi,
        title_en=spec.result.title.en,
        issuer=dossier.agency or actor.agency,
        data=document_data(dossier, spec, outputs),
        source_ref=dossier.code,
        valid_until=valid_until,
    )
    return Outcome(subject=dossier.subject, outputs=outputs, document=document)

"""The birth bundle end to end through the services: one submission, three agencies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from congdan.core.errors import NotFound
from congdan.procedures import services
from congdan.procedures.application import open_application
from congdan.procedures.models import Bundle, BundleStatus, Dossier, DossierStatus
from congdan.registry import idnumbers
from congdan.registry.models import HouseholdMembership, Person
from congdan.wallet.models import Document
from tests.procedures.helpers import Family, pdf, process_to_result


def birth_form(family: Family, app: object) -> dict[str, object]:
    values = {name: value for name, (value, _src) in app.values.items()}  # type: ignore[attr-defined]
    return {
        **values,
        "child_full_name": "Phạm Minh Khôi",
        "child_birth_date": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
        "child_sex": "M",
        "child_ethnicity": "01",
        "child_birth_place": "Bệnh viện Phụ sản Nhi Đà Nẵng",
        "applicant_role": "mother",
        "initial_clinic": "Bệnh viện Đà Nẵng",
    }


def submit_birth(family: Family) -> Bundle:
    app = open_application("birth_bundle", family.mother, family.account)
    result = services.submit_application(
        family.account.user,
        app=app,
        data=birth_form(family, app),
        uploads={"medical_birth_certificate": pdf()},
        idempotency_key="k1",
    )
    assert result.bundle is not None
    return result.bundle


def test_birth_bundle_end_to_end(family: Family) -> None:
    bundle = submit_birth(family)
    parts = {d.procedure_code: d for d in bundle.dossiers.all()}
    assert parts["birth_registration"].status == DossierStatus.SUBMITTED
    assert parts["permanent_residence_registration"].status == DossierStatus.WAITING
    assert parts["child_health_insurance"].status == DossierStatus.WAITING
    # The police cannot act before the birth is registered.
    with pytest.raises(NotFound):
        services.receive_dossier(family.police, code=parts["permanent_residence_registration"].code)

    birth = parts["birth_registration"].code
    done = process_to_result(family.justice, birth)
    child = done.subject
    assert child is not None
    assert child.full_name == "Phạm Minh Khôi"
    assert idnumbers.validate(child.id_number) == []
    assert child.mother_id == family.mother.pk
    assert child.father_id == family.father.pk

    residence = Dossier.objects.get(pk=parts["permanent_residence_registration"].pk)
    insurance = Dossier.objects.get(pk=parts["child_health_insurance"].pk)
    assert residence.status == DossierStatus.SUBMITTED
    assert residence.subject_id == child.pk
    assert insurance.status == DossierStatus.SUBMITTED

    process_to_result(family.police, residence.code)
    membership = HouseholdMembership.objects.get(person=child, until__isnull=True)
    assert (
        membership.household_id
        == HouseholdMembership.objects.get(person=family.mother, until__isnull=True).household_id
    )

    process_to_result(family.insurance, insurance.code)

    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.COMPLETED
    docs = set(Document.objects.filter(holder=child).values_list("doc_type", flat=True))
    assert {"birth_certificate", "health_insurance_card"} <= docs
    child = Person.objects.get(pk=child.pk)
    assert child.residence_commune_id == family.commune.pk

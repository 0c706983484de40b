"""Every procedure of the catalogue from submission to result, through the services:
the citizen submits (and pays), the officer of the spec's agency processes, and the
approval changes the real state (registry, e-ID, wallet)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from congdan.core.errors import PermissionDenied, ValidationFailed
from congdan.identity.models import AccountStatus, EidAccount, EidLevel
from congdan.procedures.application import open_application
from congdan.procedures.models import Channel, Dossier, DossierStatus
from congdan.procedures.specs import catalogue
from congdan.registry.models import (
    CivilEvent,
    CivilEventKind,
    HouseholdMembership,
    Person,
    Residence,
    ResidenceKind,
    VitalStatus,
)
from congdan.wallet.models import Document
from tests import factories
from tests.identity.helpers import make_account
from tests.procedures import builders as b
from tests.procedures.helpers import Family

# --- helpers ----------


def only_dossier(result: Any) -> Dossier:
    assert result.dossier is not None
    return Dossier.objects.get(pk=result.dossier.pk)


def result_doc(dossier: Dossier) -> Document:
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RESULT_ISSUED
    assert dossier.result_document is not None
    spec = catalogue().procedures[dossier.procedure_code]
    assert dossier.result_document.doc_type == spec.result.doc_type
    return dossier.result_document


def assert_fields_copied(doc: Document, dossier: Dossier) -> None:
    spec = catalogue().procedures[dossier.procedure_code]
    for name in spec.result.fields:
        assert doc.data[name] == dossier.data[name], name


def grandmother_deceased(family: Family) -> Person:
    """The mother's own mother, recorded deceased in the registry."""
    grandma = factories.make_person(
        family.commune,
        full_name="Nguyễn Thị Mai",
        sex="F",
        birth_date=dt.date(1950, 1, 2),
        card=False,
    )
    grandma.vital_status = VitalStatus.DECEASED
    grandma.death_date = b.today() - dt.timedelta(days=5)
    grandma.save()
    family.mother.mother = grandma
    family.mother.save()
    return grandma


def young_child(family: Family, *, years: int, months: int = 0) -> Person:
    born = b.today().replace(year=b.today().year - years) - dt.timedelta(days=30 * months)
    return factories.make_person(
        family.commune,
        full_name="Phạm Gia Bảo",
        birth_date=born,
        household=factories.household_of(family.father),
        relationship="child",
        mother=family.mother,
        father=family.father,
        card=False,
    )


# --- civil status ----------


def test_birth_registration_standalone(family: Family) -> None:
    dossier = only_dossier(b.submit("birth_registration", family.account))
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.submitted_at is not None
    assert (dossier.agency_kind, dossier.unit) == ("justice", family.commune)
    done = b.process(family.justice, dossier.code)
    child = done.subject
    assert child is not None and child.mother_id == family.mother.pk
    assert child.father_id == family.father.pk
    doc = result_doc(done)
    assert doc.holder_id == child.pk
    assert_fields_copied(doc, done)


def test_death_registration_marks_deceased_and_deactivates_the_eid(
    family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    father_account = make_account(family.father, level=EidLevel.LEVEL2, phone=b.new_phone())
    result = b.submit("death_registration", family.account, subject=family.father.id_number)
    dossier = only_dossier(result)
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.subject_id == family.father.pk
    assert dossier.data["deceased_full_name"] == family.father.full_name
    with django_capture_on_commit_callbacks(execute=True):
        done = b.process(family.justice, dossier.code)
    father = Person.objects.get(pk=family.father.pk)
    assert father.vital_status == VitalStatus.DECEASED
    assert father.death_date == b.today() - dt.timedelta(days=1)
    father_account = EidAccount.objects.select_related("user").get(pk=father_account.pk)
    assert father_account.status == AccountStatus.DEACTIVATED
    assert not father_account.user.is_active
    doc = result_doc(done)
    assert doc.holder_id == family.father.pk
    assert_fields_copied(doc, done)


def test_marital_status_certificate_with_online_exemption(family: Family) -> None:
    dossier = only_dossier(b.submit("marital_status_certificate", family.account))
    # 15.000 đồng; Đà Nẵng halves it online until the end of 2026.
    expected = 7_500 if b.today() <= dt.date(2026, 12, 31) else 15_000
    assert dossier.fee_amount == expected
    assert dossier.status == DossierStatus.AWAITING_PAYMENT
    assert dossier.submitted_at is None
    b.pay(family.account.user, dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.payment_reference.startswith("TT")
    done = b.process(family.justice, dossier.code)
    doc = result_doc(done)
    assert doc.holder_id == family.mother.pk
    assert doc.data["marital_status"] == "married"  # the registry links her spouse
    assert doc.data["purpose"] == "Kết hôn"
    assert doc.valid_until == b.today() + dt.timedelta(days=180)


@pytest.mark.parametrize(("student", "fee"), [(False, 200_000), (True, 100_000)])
def test_judicial_record_certificate(family: Family, student: bool, fee: int) -> None:
    province_justice = b.justice(family.province)
    dossier = only_dossier(
        b.submit("judicial_record_certificate", family.account, is_student=student)
    )
    assert dossier.fee_amount == fee
    assert (dossier.fee_detail.get("exemption") or {}).get("code") == (
        "student" if student else None
    )
    assert dossier.unit == family.province
    assert dossier.status == DossierStatus.AWAITING_PAYMENT
    b.pay(family.account.user, dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(province_justice, dossier.code)
    doc = result_doc(done)
    assert doc.holder_id == family.mother.pk
    assert_fields_copied(doc, done)
    assert doc.data["id_number"] == family.mother.id_number


def test_judicial_record_is_not_for_a_commune_justice_officer(family: Family) -> None:
    dossier = only_dossier(b.submit("judicial_record_certificate", family.account))
    b.pay(family.account.user, dossier)
    from congdan.core.errors import NotFound
    from congdan.procedures import services

    with pytest.raises(NotFound):
        services.receive_dossier(family.justice, code=dossier.code)


# --- residence ----------


def test_temporary_residence_in_another_commune(family: Family) -> None:
    other = factories.communes_of(family.province)[1]
    police_there = b.police(other)
    dossier = only_dossier(
        b.submit("temporary_residence_registration", family.account, stay_commune=other.code)
    )
    assert dossier.unit == other
    b.pay(family.account.user, dossier)
    done = b.process(police_there, dossier.code)
    residence = Residence.objects.get(person=family.mother, kind=ResidenceKind.TEMPORARY)
    assert residence.commune_id == other.pk
    assert result_doc(done).holder_id == family.mother.pk


def test_temporary_residence_fee_payment_and_effect(family: Family) -> None:
    dossier = only_dossier(
        b.submit(
            "temporary_residence_registration", family.account, stay_commune=family.commune.code
        )
    )
    assert dossier.unit == family.commune
    assert dossier.fee_amount == 7_500  # 15.000 đồng, halved online
    assert dossier.fee_detail["exemption"]["code"] == "online_filing"
    assert dossier.status == DossierStatus.AWAITING_PAYMENT
    b.pay(family.account.user, dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(family.police, dossier.code)
    residence = Residence.objects.get(person=family.mother, kind=ResidenceKind.TEMPORARY)
    assert residence.end_date == b.today() + dt.timedelta(days=90)
    assert residence.ended_on is None
    doc = result_doc(done)
    assert doc.holder_id == family.mother.pk
    assert_fields_copied(doc, done)


def test_temporary_absence_declaration(family: Family) -> None:
    dossier = only_dossier(b.submit("temporary_absence_declaration", family.account))
    assert dossier.status == DossierStatus.SUBMITTED
    assert dossier.fee_amount == 0
    done = b.process(family.police, dossier.code)
    absence = Residence.objects.get(person=family.mother, kind=ResidenceKind.ABSENCE)
    assert absence.commune_id == family.commune.pk
    assert absence.end_date == b.today() + dt.timedelta(days=60)
    assert_fields_copied(result_doc(done), done)


def test_permanent_residence_removal(family: Family) -> None:
    dossier = only_dossier(
        b.submit("permanent_residence_removal", family.account, subject=family.father.id_number)
    )
    assert dossier.subject_id == family.father.pk
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(family.police, dossier.code)
    home = Residence.objects.get(person=family.father, kind=ResidenceKind.PERMANENT)
    assert home.ended_on == b.today()
    assert not HouseholdMembership.objects.filter(person=family.father, until__isnull=True).exists()
    event = CivilEvent.objects.get(person=family.father, kind=CivilEventKind.RESIDENCE_CHANGE)
    assert event.details["removed"] is True
    assert event.document_ref == done.code
    assert result_doc(done).data["reason"] == "moved_abroad"


def test_permanent_residence_joining_another_household(family: Family) -> None:
    person, account = b.citizen(family.commune, full_name="Trần Văn Tài")
    target = factories.household_of(family.mother)
    dossier = only_dossier(
        b.submit(
            "permanent_residence_registration",
            account,
            household_code=target.code,
            relationship="sibling",
        )
    )
    assert dossier.data["household_code"] == target.code
    assert dossier.fee_amount == 10_000
    b.pay(account.user, dossier)
    b.process(family.police, dossier.code)
    membership = HouseholdMembership.objects.get(person=person, until__isnull=True)
    assert membership.household_id == target.pk
    assert membership.relationship == "sibling"


def test_permanent_residence_registration_pays_and_is_processed(family: Family) -> None:
    # An adult without a household yet: nothing is prefilled, the residence proof is asked.
    person = factories.make_person(family.commune, full_name="Trần Văn Tài")
    HouseholdMembership.objects.filter(person=person).delete()
    Residence.objects.filter(person=person).delete()
    account = make_account(person, level=EidLevel.LEVEL2, phone=b.new_phone())
    target = factories.household_of(family.mother)
    app = open_application("permanent_residence_registration", person, account)
    assert "household_code" not in app.values
    assert "residence_proof" in {d.code for d in app.document_specs()}
    result = b.submit("permanent_residence_registration", account, household_code=target.code)
    dossier = only_dossier(result)
    assert dossier.fee_amount == 10_000
    assert dossier.status == DossierStatus.AWAITING_PAYMENT
    b.pay(account.user, dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(family.police, dossier.code)
    membership = HouseholdMembership.objects.get(person=person, until__isnull=True)
    assert membership.household_id == target.pk
    assert membership.relationship == "sibling"
    assert result_doc(done).data["household_code"] == target.code


def test_accommodation_notification_for_a_guest(family: Family) -> None:
    _host, account = b.citizen(family.commune, level=EidLevel.LEVEL1, full_name="Võ Văn Chủ")
    guest = factories.make_person(
        factories.communes_of(family.province)[1], full_name="Lê Thị Khách", sex="F"
    )
    dossier = only_dossier(
        b.submit(
            "accommodation_notification",
            account,
            guest_id_number=guest.id_number,
            guest_full_name="le thi khach",  # compared without case or accents
        )
    )
    assert dossier.subject_id == guest.pk
    assert dossier.unit == family.commune
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(family.police, dossier.code)
    doc = result_doc(done)
    assert doc.holder_id == guest.pk
    assert_fields_copied(doc, done)


@pytest.mark.parametrize("guest_name", ["Lê Thị Khác", ""], ids=["wrong-name", "no-name"])
def test_accommodation_guest_must_match_the_registry(family: Family, guest_name: str) -> None:
    _host, account = b.citizen(family.commune, level=EidLevel.LEVEL1)
    guest = factories.make_person(family.commune, full_name="Lê Thị Khách", sex="F")
    with pytest.raises(ValidationFailed) as excinfo:
        b.submit(
            "accommodation_notification",
            account,
            guest_id_number=guest.id_number,
            guest_full_name=guest_name,
        )
    assert excinfo.value.code == "subject_mismatch"
    assert excinfo.value.field == "guest_id_number"
    assert not Dossier.objects.exists()


def test_accommodation_unknown_guest_number(family: Family) -> None:
    _host, account = b.citizen(family.commune, level=EidLevel.LEVEL1)
    with pytest.raises(ValidationFailed) as excinfo:
        b.submit(
            "accommodation_notification",
            account,
            guest_id_number="048099000001",
            guest_full_name="Không Có",
        )
    assert excinfo.value.code == "subject_mismatch"


# --- insurance ----------


def test_child_health_insurance_for_a_child_under_six(family: Family) -> None:
    child = young_child(family, years=3)
    dossier = only_dossier(
        b.submit("child_health_insurance", family.account, subject=child.id_number)
    )
    assert dossier.subject_id == child.pk
    assert dossier.unit == family.province
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(family.insurance, dossier.code)
    doc = result_doc(done)
    assert doc.holder_id == child.pk
    assert doc.data["initial_clinic"] == "Trạm y tế phường"
    assert doc.data["card_number"].startswith("TE1")
    sixth = child.birth_date.replace(year=child.birth_date.year + 6)
    assert doc.valid_until == sixth - dt.timedelta(days=1)


def test_child_of_seven_is_not_offered(family: Family) -> None:
    child = young_child(family, years=7)
    app = open_application("child_health_insurance", family.mother, family.account)
    assert child not in app.linked["child_id_number"]
    with pytest.raises(PermissionDenied) as excinfo:
        open_application(
            "child_health_insurance",
            family.mother,
            family.account,
            subject_id_number=child.id_number,
        )
    assert excinfo.value.code == "not_linked"
    assert "6" in str(excinfo.value.message)


def test_funeral_allowance_standalone(family: Family) -> None:
    grandma = grandmother_deceased(family)
    dossier = only_dossier(b.submit("funeral_allowance", family.account, subject=grandma.id_number))
    assert dossier.subject_id == grandma.pk
    assert dossier.unit == family.province
    # The death is recorded: the extract is not asked for.
    app = open_application(
        "funeral_allowance", family.mother, family.account, subject_id_number=grandma.id_number
    )
    assert "death_extract" not in {d.code for d in app.document_specs()}
    done = b.process(family.insurance, dossier.code)
    doc = result_doc(done)
    assert doc.holder_id == grandma.pk
    assert doc.data["amount"] == 23_400_000
    assert doc.data["social_insurance_number"] == "4812345678"


def test_funeral_allowance_refuses_a_living_relative(family: Family) -> None:
    with pytest.raises(PermissionDenied) as excinfo:
        open_application(
            "funeral_allowance",
            family.mother,
            family.account,
            subject_id_number=family.father.id_number,
        )
    assert excinfo.value.code == "not_linked"


# --- transport ----------


def test_driving_licence_renewal(family: Family) -> None:
    province_police = b.police(family.province)
    dossier = only_dossier(b.submit("driving_licence_renewal", family.account))
    # 135.000 đồng; the online reduction ended on 31/12/2025.
    expected = 114_750 if b.today() <= dt.date(2025, 12, 31) else 135_000
    assert dossier.fee_amount == expected
    assert dossier.unit == family.province
    assert dossier.channel == Channel.ONLINE
    b.pay(family.account.user, dossier)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    done = b.process(province_police, dossier.code)
    doc = result_doc(done)
    assert doc.holder_id == family.mother.pk
    assert doc.data["licence_class"] == "B"
    assert doc.valid_until == b.today() + dt.timedelta(days=3650)


def test_every_procedure_of_the_catalogue_is_covered() -> None:
    """A new spec needs its own end-to-end test above (this list fails otherwise)."""
    assert set(catalogue().procedures) == {
        "accommodation_notification",
        "birth_registration",
        "child_health_insurance",
        "death_registration",
        "driving_licence_renewal",
        "funeral_allowance",
        "judicial_record_certificate",
        "marital_status_certificate",
        "permanent_residence_registration",
        "permanent_residence_removal",
        "temporary_absence_declaration",
        "temporary_residence_registration",
    }

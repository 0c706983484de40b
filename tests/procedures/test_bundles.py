"""Linked procedures (liên thông): the death bundle end to end, rejections in bundles,
and the bundle's shared deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from congdan.core.calendar import add_working_days
from congdan.core.errors import NotFound, PermissionDenied
from congdan.identity.models import AccountStatus, EidAccount, EidLevel
from congdan.procedures import selectors, services
from congdan.procedures.application import open_application
from congdan.procedures.models import Bundle, BundleStatus, Dossier, DossierStatus
from congdan.registry.models import (
    CivilEvent,
    CivilEventKind,
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


def parts_of(bundle: Bundle) -> dict[str, Dossier]:
    return {d.procedure_code: d for d in bundle.dossiers.all()}


def submit_death_bundle(family: Family, account: EidAccount | None = None) -> Bundle:
    account = account or family.account
    result = b.submit("death_bundle", account, subject=family.father.id_number, reason="deceased")
    assert result.bundle is not None
    return result.bundle


def submit_birth_bundle(family: Family) -> Bundle:
    result = b.submit("birth_bundle", family.account)
    assert result.bundle is not None
    return result.bundle


# --- the death bundle ----------


def test_death_bundle_offers_linked_relatives_only(family: Family) -> None:
    stranger = factories.make_person(family.commune, full_name="Người Lạ")
    app = open_application("death_bundle", family.mother, family.account)
    assert app.needs_subject_choice
    choices = app.linked["deceased_id_number"]
    assert family.father in choices
    assert stranger not in choices
    with pytest.raises(PermissionDenied) as excinfo:
        open_application(
            "death_bundle", family.mother, family.account, subject_id_number=stranger.id_number
        )
    assert excinfo.value.code == "not_linked"


def test_death_bundle_end_to_end(family: Family, django_capture_on_commit_callbacks: Any) -> None:
    father_account = make_account(family.father, level=EidLevel.LEVEL2, phone=b.new_phone())
    app = open_application(
        "death_bundle", family.mother, family.account, subject_id_number=family.father.id_number
    )
    # One form; the death is being registered in this very bundle: no extract is asked.
    assert [d.code for d in app.document_specs()] == ["death_notice"]
    bundle = submit_death_bundle(family)
    assert bundle.due_date == add_working_days(b.today(), 3)
    parts = parts_of(bundle)
    death = parts["death_registration"]
    removal = parts["permanent_residence_removal"]
    allowance = parts["funeral_allowance"]
    assert death.status == DossierStatus.SUBMITTED
    assert death.subject_id == family.father.pk
    assert removal.status == allowance.status == DossierStatus.WAITING
    assert removal.subject_id is None and allowance.subject_id is None
    assert {d.due_date for d in parts.values()} == {bundle.due_date}
    # Nobody acts on a waiting part.
    with pytest.raises(NotFound):
        services.receive_dossier(family.police, code=removal.code)
    with pytest.raises(NotFound):
        services.receive_dossier(family.insurance, code=allowance.code)

    with django_capture_on_commit_callbacks(execute=True):
        b.process(family.justice, death.code)
    father = Person.objects.get(pk=family.father.pk)
    assert father.vital_status == VitalStatus.DECEASED
    assert EidAccount.objects.get(pk=father_account.pk).status == AccountStatus.DEACTIVATED

    removal.refresh_from_db()
    allowance.refresh_from_db()
    assert removal.status == allowance.status == DossierStatus.SUBMITTED
    assert removal.subject_id == allowance.subject_id == family.father.pk
    assert removal.unit == family.commune
    assert allowance.unit == family.province

    b.process(family.police, removal.code)
    event = CivilEvent.objects.get(person=father, kind=CivilEventKind.RESIDENCE_CHANGE)
    assert event.details["removed"] is True and event.details["deceased"] is True
    assert not Residence.objects.filter(
        person=father, kind=ResidenceKind.PERMANENT, ended_on__isnull=True
    ).exists()

    b.process(family.insurance, allowance.code)
    allowance.refresh_from_db()
    decision = allowance.result_document
    assert decision is not None
    assert decision.doc_type == "funeral_allowance_decision"
    assert decision.holder_id == family.father.pk
    assert decision.data["amount"] == 23_400_000
    assert decision.data["social_insurance_number"] == "4812345678"

    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.COMPLETED
    assert bundle.completed_at is not None
    dossiers = list(bundle.dossiers.order_by("part_index"))
    entries = selectors.timeline(dossiers)
    assert {e.dossier.procedure_code for e in entries} == set(parts)
    assert [e.event.at for e in entries] == sorted(e.event.at for e in entries)
    assert {e.event.to_status for e in entries if e.dossier.pk == removal.pk} >= {
        DossierStatus.WAITING,
        DossierStatus.SUBMITTED,
        DossierStatus.RESULT_ISSUED,
    }
    assert set(Document.objects.filter(holder=father).values_list("doc_type", flat=True)) == {
        "death_extract",
        "residence_removal_notice",
        "funeral_allowance_decision",
    }


def test_death_bundle_by_a_child_of_the_deceased(family: Family) -> None:
    son = factories.make_person(
        family.commune,
        full_name="Phạm Văn Con",
        birth_date=dt.date(2000, 1, 1),
        father=family.father,
        mother=family.mother,
    )
    account = make_account(son, level=EidLevel.LEVEL2, phone=b.new_phone())
    result = b.submit(
        "death_bundle",
        account,
        subject=family.father.id_number,
        reason="deceased",
        applicant_relationship="child",
    )
    assert result.bundle is not None
    death = parts_of(result.bundle)["death_registration"]
    assert death.subject_id == family.father.pk
    assert death.applicant_id == son.pk


def test_death_bundle_needs_level_two(family: Family) -> None:
    family.account.level = EidLevel.LEVEL1
    family.account.save()
    with pytest.raises(PermissionDenied) as excinfo:
        submit_death_bundle(family)
    assert excinfo.value.code == "eid_level_too_low"
    assert not Bundle.objects.exists()


# --- rejections ----------


def test_rejecting_the_birth_cancels_the_waiting_parts(family: Family) -> None:
    bundle = submit_birth_bundle(family)
    parts = parts_of(bundle)
    birth = parts["birth_registration"]
    services.receive_dossier(family.justice, code=birth.code)
    services.reject_dossier(family.justice, code=birth.code, reason="Giấy chứng sinh không rõ")
    birth.refresh_from_db()
    assert birth.status == DossierStatus.REJECTED
    assert birth.decision_reason == "Giấy chứng sinh không rõ"
    for code in ("permanent_residence_registration", "child_health_insurance"):
        part = Dossier.objects.get(pk=parts[code].pk)
        assert part.status == DossierStatus.CANCELLED
        assert "Đăng ký khai sinh" in part.decision_reason
        assert "Giấy chứng sinh không rõ" in part.decision_reason
        assert part.events.filter(to_status=DossierStatus.CANCELLED).exists()
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.REJECTED
    assert bundle.completed_at is not None
    assert not Person.objects.filter(full_name="Phạm Minh Khôi").exists()


def test_rejecting_only_the_insurance_part_is_a_partial_result(family: Family) -> None:
    bundle = submit_birth_bundle(family)
    parts = parts_of(bundle)
    b.process(family.justice, parts["birth_registration"].code)
    b.process(family.police, parts["permanent_residence_registration"].code)
    insurance = parts["child_health_insurance"].code
    services.receive_dossier(family.insurance, code=insurance)
    services.reject_dossier(family.insurance, code=insurance, reason="Nơi khám không hợp lệ")
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.PARTLY_REJECTED
    statuses = dict(bundle.dossiers.values_list("procedure_code", "status"))
    assert statuses == {
        "birth_registration": DossierStatus.RESULT_ISSUED,
        "permanent_residence_registration": DossierStatus.RESULT_ISSUED,
        "child_health_insurance": DossierStatus.REJECTED,
    }
    child = Dossier.objects.get(pk=parts["birth_registration"].pk).subject
    assert child is not None
    docs = set(Document.objects.filter(holder=child).values_list("doc_type", flat=True))
    assert docs == {"birth_certificate", "residence_notice"}


def test_bundle_stays_in_progress_while_a_part_is_open(family: Family) -> None:
    bundle = submit_birth_bundle(family)
    parts = parts_of(bundle)
    b.process(family.justice, parts["birth_registration"].code)
    insurance = parts["child_health_insurance"].code
    services.receive_dossier(family.insurance, code=insurance)
    services.reject_dossier(family.insurance, code=insurance, reason="Sai")
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.IN_PROGRESS
    assert bundle.completed_at is None


def test_withdrawing_a_bundle_part_withdraws_the_bundle(family: Family) -> None:
    bundle = submit_birth_bundle(family)
    waiting = parts_of(bundle)["child_health_insurance"]
    services.withdraw_dossier(family.account.user, code=waiting.code, reason="Nộp nhầm")
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.WITHDRAWN
    assert set(bundle.dossiers.values_list("status", flat=True)) == {DossierStatus.WITHDRAWN}


# --- the bundle's deadline ----------


def test_bundle_parts_share_the_bundle_due_date(family: Family) -> None:
    bundle = submit_birth_bundle(family)
    assert bundle.due_date == add_working_days(b.today(), 3)
    assert set(bundle.dossiers.values_list("due_date", flat=True)) == {bundle.due_date}
    # A part forwarded after the birth keeps the bundle's date, not its own 7 days.
    b.process(family.justice, parts_of(bundle)["birth_registration"].code)
    residence = Dossier.objects.get(
        bundle=bundle, procedure_code="permanent_residence_registration"
    )
    assert residence.due_date == bundle.due_date

"""Once-only: what the state holds is prefilled (read-only), documents it holds are not
asked, only linked persons may be named, and reading a relative's data is logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from congdan.audit.models import AccessLogEntry
from congdan.core.errors import PermissionDenied
from congdan.identity.models import EidLevel
from congdan.procedures import prefill
from congdan.procedures.application import open_application
from congdan.procedures.forms import ApplicationForm
from congdan.procedures.models import Dossier
from tests import factories
from tests.identity.helpers import portal_login
from tests.procedures import builders as b
from tests.procedures.helpers import Family


def form_for(app, data=None, files=None) -> ApplicationForm:  # type: ignore[no-untyped-def]
    return ApplicationForm(
        data,
        files,
        fields=app.fields,
        documents=app.document_specs(),
        prefill=app.values,
        province_id=app.applicant.person.residence_province_id,
        linked=app.linked,
    )


def child_of(family: Family, years: int = 2) -> object:
    return factories.make_person(
        family.commune,
        full_name="Phạm Bé Na",
        sex="F",
        birth_date=b.today().replace(year=b.today().year - years),
        household=factories.household_of(family.father),
        relationship="child",
        mother=family.mother,
        father=family.father,
        card=False,
    )


# --- links ----------


def test_a_citizen_who_is_not_a_parent_cannot_choose_the_child(family: Family) -> None:
    child = child_of(family)
    _stranger, account = b.citizen(family.commune, full_name="Hàng Xóm")
    app = open_application("child_health_insurance", account.person, account)
    assert app.linked["child_id_number"] == []
    with pytest.raises(PermissionDenied) as excinfo:
        open_application(
            "child_health_insurance",
            account.person,
            account,
            subject_id_number=child.id_number,  # type: ignore[attr-defined]
        )
    assert excinfo.value.code == "not_linked"
    assert excinfo.value.field == "child_id_number"
    message = str(excinfo.value.message)
    assert "cha hoặc mẹ" in message
    assert "không thể nộp hồ sơ thay" in message


def test_a_parent_may_choose_their_child(family: Family) -> None:
    child = child_of(family)
    for parent in (family.mother, family.father):
        app = open_application(
            "child_health_insurance",
            parent,
            None,
            subject_id_number=child.id_number,  # type: ignore[attr-defined]
        )
        assert app.subject == child


def test_the_subject_must_be_chosen_before_submitting(family: Family) -> None:
    from congdan.core.errors import ValidationFailed
    from congdan.procedures import services

    app = open_application("death_registration", family.mother, family.account)
    assert app.needs_subject_choice
    with pytest.raises(ValidationFailed) as excinfo:
        services.submit_application(
            family.account.user, app=app, data={}, uploads={}, idempotency_key="x"
        )
    assert excinfo.value.code == "subject_required"


# --- prefill ----------


def test_prefill_values_and_their_sources(family: Family) -> None:
    app = open_application("accommodation_notification", family.mother, family.account)
    assert app.values["stay_commune"] == (family.commune.code, "applicant.residence_commune")
    assert app.values["host_phone"] == (family.account.phone, "applicant.phone")
    assert str(prefill.source_label("applicant.phone")) == str(prefill.EID)
    assert str(prefill.source_label("applicant.residence_commune")) == str(prefill.REGISTRY)
    app = open_application("marital_status_certificate", family.mother, family.account)
    assert app.values["applicant_full_name"] == (family.mother.full_name, "applicant.full_name")
    assert app.values["applicant_birth_date"] == ("1994-07-09", "applicant.birth_date")
    assert app.values["marital_status"] == ("married", "applicant.marital_status")
    single, account = b.citizen(family.commune, full_name="Độc Thân")
    app = open_application("marital_status_certificate", single, account)
    assert app.values["marital_status"] == ("single", "applicant.marital_status")


def test_subject_fields_are_prefilled_from_the_chosen_person(family: Family) -> None:
    app = open_application(
        "death_registration",
        family.mother,
        family.account,
        subject_id_number=family.father.id_number,
    )
    assert app.values["deceased_full_name"] == (family.father.full_name, "subject.full_name")
    assert app.values["deceased_id_number"] == (family.father.id_number, "subject")


def test_prefilled_fields_ignore_a_tampered_post(family: Family) -> None:
    app = open_application("marital_status_certificate", family.mother, family.account)
    form = form_for(
        app,
        {
            "idempotency_key": "k",
            "applicant_full_name": "Tên Giả",
            "applicant_id_number": "001099000001",
            "applicant_birth_date": "2000-01-01",
            "marital_status": "single",
            "purpose": "Kết hôn",
        },
    )
    assert form.fields["applicant_full_name"].disabled
    assert not form.fields["marital_status"].disabled  # editable
    assert form.is_valid(), form.errors
    data = form.field_data()
    assert data["applicant_full_name"] == family.mother.full_name
    assert data["applicant_id_number"] == family.mother.id_number
    assert data["applicant_birth_date"] == "1994-07-09"


def test_the_service_keeps_registry_values_whatever_it_is_sent(family: Family) -> None:
    result = b.submit("marital_status_certificate", family.account, applicant_full_name="Tên Giả")
    assert result.dossier is not None
    dossier = Dossier.objects.get(pk=result.dossier.pk)
    assert dossier.data["applicant_full_name"] == family.mother.full_name
    assert dossier.prefilled["applicant_full_name"] == "applicant.full_name"
    assert "purpose" not in dossier.prefilled


def test_an_editable_prefilled_field_keeps_the_citizens_value(family: Family) -> None:
    result = b.submit("marital_status_certificate", family.account, marital_status="divorced")
    assert result.dossier is not None
    assert Dossier.objects.get(pk=result.dossier.pk).data["marital_status"] == "divorced"


# --- documents the state holds ----------


def test_marriage_certificate_not_asked_when_spouses_are_linked(family: Family) -> None:
    app = open_application("birth_registration", family.mother, family.account)
    codes = [d.code for d in app.document_specs()]
    assert codes == ["medical_birth_certificate"]
    assert "doc_marriage_certificate" not in form_for(app).fields


def test_marriage_certificate_asked_when_not_linked(family: Family) -> None:
    single, account = b.citizen(family.commune, full_name="Mẹ Đơn Thân", sex="F")
    app = open_application("birth_registration", single, account)
    assert [d.code for d in app.document_specs()] == [
        "medical_birth_certificate",
        "marriage_certificate",
    ]
    assert not form_for(app).fields["doc_marriage_certificate"].required


def test_residence_proof_only_without_a_household(family: Family) -> None:
    app = open_application("permanent_residence_registration", family.mother, family.account)
    assert "residence_proof" not in {d.code for d in app.document_specs()}
    assert "birth_certificate" in {d.code for d in app.document_specs()}  # outside a bundle


def test_an_upload_of_the_wrong_type_is_refused(family: Family) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    app = open_application("birth_registration", family.mother, family.account)
    data = {k: v for k, v in b.form_data("birth_registration", app).items() if v is not None}
    data["idempotency_key"] = "k"
    fake = SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    form = form_for(app, data, {"doc_medical_birth_certificate": fake})
    assert not form.is_valid()
    assert "doc_medical_birth_certificate" in form.errors


# --- e-ID level ----------


def test_level_one_account_refused_for_a_level_two_procedure(family: Family) -> None:
    _person, account = b.citizen(family.commune, level=EidLevel.LEVEL1)
    with pytest.raises(PermissionDenied) as excinfo:
        b.submit("marital_status_certificate", account)
    assert excinfo.value.code == "eid_level_too_low"
    assert not Dossier.objects.exists()


def test_level_one_is_enough_for_accommodation(family: Family) -> None:
    _host, account = b.citizen(family.commune, level=EidLevel.LEVEL1)
    result = b.submit(
        "accommodation_notification",
        account,
        guest_id_number=family.father.id_number,
        guest_full_name=family.father.full_name,
    )
    assert result.dossier is not None


def test_a_deceased_applicant_cannot_apply(family: Family) -> None:
    family.mother.vital_status = "deceased"
    family.mother.death_date = dt.date(2026, 1, 1)
    family.mother.save()
    with pytest.raises(PermissionDenied) as excinfo:
        b.submit("marital_status_certificate", family.account)
    assert excinfo.value.code == "applicant_invalid"


# --- access log of prefill ----------


def test_submitting_for_a_relative_logs_the_read(family: Family) -> None:
    before = AccessLogEntry.objects.filter(person=family.father, purpose="prefill").count()
    b.submit("permanent_residence_removal", family.account, subject=family.father.id_number)
    entries = AccessLogEntry.objects.filter(person=family.father, purpose="prefill")
    assert entries.count() == before + 1
    entry = entries.latest("at")
    assert entry.actor_id == family.account.user.pk
    assert entry.view == "procedures:permanent_residence_removal"
    assert "person_full_name" in entry.fields


def test_an_own_application_is_not_logged_as_prefill(family: Family) -> None:
    b.submit("marital_status_certificate", family.account)
    assert not AccessLogEntry.objects.filter(purpose="prefill").exists()


def test_showing_a_relatives_data_in_the_form_logs_the_read(client: Client, family: Family) -> None:
    portal_login(client, family.account)
    url = reverse("procedures:apply", args=["death_registration"])
    page = client.get(url, {"subject": family.father.id_number})
    assert page.status_code == 200
    assert family.father.full_name in page.content.decode()
    assert AccessLogEntry.objects.filter(person=family.father, purpose="prefill").exists()

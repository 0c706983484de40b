"""Reuse of wallet documents in procedures: a requirement with ``wallet_types`` is met by a
valid document of the applicant's (or their child's) wallet instead of an upload; the
submission checks what a request names; the officer reads the document, verified, and
that read is access-logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congdan.audit.models import AccessLogEntry
from congdan.core.errors import ValidationFailed
from congdan.core.models import Agency, AgencyKind, User
from congdan.identity.models import EidAccount
from congdan.procedures import services
from congdan.procedures.application import open_application
from congdan.procedures.models import Attachment, Dossier
from congdan.procedures.specs import SpecProblem, catalogue, load_catalogue
from congdan.registry.models import Person
from congdan.wallet import services as wallet_services
from congdan.wallet.models import Document, DocumentEvent, DocumentKind, EventKind, UploadState
from tests import factories
from tests.identity.helpers import portal_login
from tests.procedures import builders as b
from tests.procedures.helpers import PDF, Family, pdf

SHIPPED = Path(__file__).resolve().parents[2] / "procedures"
LICENCE = "driving_licence_renewal"
WALLET_FIELD = "wallet_current_licence"
UPLOAD_FIELD = "doc_current_licence"


# --- builders ------------------------------------------------------------------------


@pytest.fixture
def traffic(family: Family) -> Agency:
    """The provincial traffic police: issues licences, handles their renewal."""
    return factories.make_agency(family.province, kind=AgencyKind.POLICE)


@pytest.fixture
def traffic_officer(traffic: Agency) -> User:
    return factories.make_user(agency=traffic, username="csgt")


def licence(holder: Person, issuer: Agency, **changes: Any) -> Document:
    arguments: dict[str, Any] = {
        "actor": None,
        "actor_label": "test",
        "holder": holder,
        "doc_type": "driving_licence",
        "title_vi": "Giấy phép lái xe",
        "title_en": "Driving licence",
        "issuer": issuer,
        "data": {
            "full_name": holder.full_name,
            "licence_number": "480123456789",
            "birth_date": holder.birth_date,
            "licence_class": "B",
        },
        "source_ref": "",
        "valid_until": timezone.localdate() + dt.timedelta(days=365),
        "integrated": True,
    }
    arguments.update(changes)
    return wallet_services.create_issued(**arguments)


def scan(holder: Person, *, doc_type: str = "driving_licence", state: str = "verified") -> Document:
    """An uploaded scan (the wallet's upload service is another part of the issue)."""
    document = Document(
        kind=DocumentKind.UPLOADED,
        holder=holder,
        doc_type=doc_type,
        title_vi="Giấy phép lái xe (bản chụp)",
        title_en="Driving licence (scan)",
        number=f"UP-{doc_type}-{Document.objects.count() + 1:06d}",
        claimed_issuer="Sở Giao thông vận tải",
        content_type="application/pdf",
        file_size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        upload_state=state,
    )
    document.file.save("scan", ContentFile(PDF), save=False)
    document.save()
    return document


def form_post(number: str | None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": f"key-{timezone.now().timestamp()}",
        "licence_number": "480123456789",
        "licence_class": "B",
        "health_certificate_date": b.days(-10),
        "doc_health_certificate": pdf(),
    }
    if number is not None:
        data[WALLET_FIELD] = number
    data.update(extra)
    return data


def apply_url(code: str = LICENCE) -> str:
    return reverse("procedures:apply", args=[code])


def attached_events(document: Document) -> list[DocumentEvent]:
    return list(DocumentEvent.objects.filter(document=document, kind=EventKind.ATTACHED))


@pytest.fixture
def citizen(client: Client, family: Family) -> Client:
    return portal_login(client, family.account)


# --- the spec ------------------------------------------------------------------------


def test_shipped_specs_name_wallet_types() -> None:
    cat = load_catalogue(SHIPPED)
    documents = {d.code: d for d in cat.procedures[LICENCE].documents}
    assert documents["current_licence"].wallet_types == ["driving_licence"]
    assert documents["health_certificate"].wallet_types == []
    child = cat.procedures["child_health_insurance"].documents[0]
    assert child.wallet_types == ["birth_certificate"]


def _catalogue_with(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    directory = tmp_path / "procedures"
    shutil.copytree(SHIPPED, directory)
    path = directory / f"{LICENCE}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    line = next(
        n for n, ln in enumerate(text.replace(old, new).splitlines(), 1) if "wallet_types" in ln
    )
    return directory, line


def _problems(directory: Path) -> list[SpecProblem]:
    from congdan.procedures.specs import CatalogueError

    with pytest.raises(CatalogueError) as caught:
        load_catalogue(directory)
    return caught.value.problems


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[driving_license]", "unknown wallet document type driving_license"),
        ("[driving_licence, driving_licence]", "wallet_types repeat: driving_licence"),
        ("[Driving-Licence]", "String should match pattern"),
        ("driving_licence", "Input should be a valid list"),
    ],
)
def test_spec_checks_wallet_types(tmp_path: Path, value: str, reason: str) -> None:
    directory, line = _catalogue_with(
        tmp_path, "wallet_types: [driving_licence]", f"wallet_types: {value}"
    )
    problems = _problems(directory)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.path.name == f"{LICENCE}.yaml"
    assert reason in problem.reason
    assert problem.line == line


def test_wallet_types_accept_procedure_results(tmp_path: Path) -> None:
    """A type a procedure of the catalogue issues (here the residence notice) is known."""
    directory, _line = _catalogue_with(
        tmp_path, "wallet_types: [driving_licence]", "wallet_types: [residence_notice, id_card]"
    )
    spec = load_catalogue(directory).procedures[LICENCE]
    assert spec.documents[0].wallet_types == ["residence_notice", "id_card"]


# --- the form offers and attaches ---------------------------------------------------------


def test_valid_licence_is_attached_automatically(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    document = licence(family.mother, traffic)
    page = citizen.get(apply_url())
    assert page.status_code == 200
    form = page.context["form"]
    assert form.fields[WALLET_FIELD].initial == document.number
    assert not form.fields[UPLOAD_FIELD].required
    html = page.content.decode()
    assert f"Đã có trong Kho giấy tờ: Giấy phép lái xe số {document.number}" in html
    assert "tự động đính kèm" in html

    response = citizen.post(apply_url(), form_post(document.number))
    assert response.status_code == 302, response.context["form"].errors
    dossier = Dossier.objects.get(procedure_code=LICENCE)
    attachment = dossier.attachments.get(document_code="current_licence")
    assert attachment.wallet_document == document
    assert not attachment.file
    assert attachment.sha256 == hashlib.sha256(document.credential.encode()).hexdigest()
    assert attachment.content_type == "application/dc+sd-jwt"
    # The health certificate was uploaded as before.
    assert dossier.attachments.get(document_code="health_certificate").file
    (event,) = attached_events(document)
    assert event.detail == {"dossier": dossier.code}
    assert event.actor_label == family.mother.full_name


def test_a_file_sent_along_with_the_wallet_choice_is_not_stored(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    document = licence(family.mother, traffic)
    response = citizen.post(apply_url(), form_post(document.number, **{UPLOAD_FIELD: pdf()}))
    assert response.status_code == 302
    attachment = Attachment.objects.get(document_code="current_licence")
    assert attachment.wallet_document == document
    assert not attachment.file


def test_choose_another_licence_of_the_same_type(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    older = licence(family.mother, traffic)
    newer = licence(family.mother, traffic, data={"licence_class": "C"})
    page = citizen.get(apply_url())
    form = page.context["form"]
    numbers = [value for value, _label in form.fields[WALLET_FIELD].choices]
    assert set(numbers) == {older.number, newer.number, ""}
    response = citizen.post(apply_url(), form_post(older.number))
    assert response.status_code == 302
    assert Attachment.objects.get(document_code="current_licence").wallet_document == older
    assert attached_events(older) and not attached_events(newer)


def test_choose_upload_instead(citizen: Client, family: Family, traffic: Agency) -> None:
    document = licence(family.mother, traffic)
    response = citizen.post(apply_url(), form_post("", **{UPLOAD_FIELD: pdf("gplx.pdf")}))
    assert response.status_code == 302
    attachment = Attachment.objects.get(document_code="current_licence")
    assert attachment.wallet_document is None
    assert attachment.file
    assert attachment.original_name == "gplx.pdf"
    assert attached_events(document) == []


def test_upload_instead_without_a_file_is_a_form_error(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    licence(family.mother, traffic)
    response = citizen.post(apply_url(), form_post(""))
    assert response.status_code == 200
    assert UPLOAD_FIELD in response.context["form"].errors
    assert not Dossier.objects.exists()


def _revoke(document: Document, officer: User) -> None:
    wallet_services.revoke_document(officer, number=document.number, reason="Thu hồi thử")


def _suspend(document: Document, officer: User) -> None:
    wallet_services.suspend_document(officer, number=document.number, reason="Tạm giữ")


def _expire(document: Document, officer: User) -> None:
    Document.objects.filter(pk=document.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )


@pytest.mark.parametrize(
    "change", [_revoke, _suspend, _expire], ids=["revoked", "suspended", "expired"]
)
def test_unusable_licence_is_not_offered(
    citizen: Client, family: Family, traffic: Agency, traffic_officer: User, change: Any
) -> None:
    document = licence(family.mother, traffic)
    change(document, traffic_officer)
    page = citizen.get(apply_url())
    form = page.context["form"]
    assert WALLET_FIELD not in form.fields
    assert form.fields[UPLOAD_FIELD].required
    assert "tự động đính kèm" not in page.content.decode()
    # A request naming it anyway: the field does not exist, the upload is required.
    response = citizen.post(apply_url(), form_post(document.number))
    assert response.status_code == 200
    assert UPLOAD_FIELD in response.context["form"].errors
    assert not Dossier.objects.exists()
    assert attached_events(document) == []


@pytest.mark.parametrize("state", [UploadState.UNVERIFIED, UploadState.REJECTED])
def test_unverified_scan_is_not_offered(citizen: Client, family: Family, state: str) -> None:
    scan(family.mother, state=state)
    form = citizen.get(apply_url()).context["form"]
    assert WALLET_FIELD not in form.fields


def test_verified_scan_is_offered_after_issued_documents(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    uploaded = scan(family.mother)
    issued = licence(family.mother, traffic)
    form = citizen.get(apply_url()).context["form"]
    numbers = [value for value, _label in form.fields[WALLET_FIELD].choices]
    assert numbers == [issued.number, uploaded.number, ""]
    response = citizen.post(apply_url(), form_post(uploaded.number))
    assert response.status_code == 302
    attachment = Attachment.objects.get(document_code="current_licence")
    assert attachment.wallet_document == uploaded
    assert attachment.sha256 == uploaded.sha256


def test_other_types_and_other_people_are_not_offered(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    licence(family.father, traffic)  # the husband's: an adult's wallet is his own
    licence(family.mother, traffic, doc_type="vehicle_registration", title_vi="Đăng ký xe")
    form = citizen.get(apply_url()).context["form"]
    assert WALLET_FIELD not in form.fields


# --- tampered requests -----------------------------------------------------------------


def test_tampered_number_in_the_form_is_refused(
    citizen: Client, family: Family, traffic: Agency
) -> None:
    mine = licence(family.mother, traffic)
    theirs = licence(family.father, traffic)
    response = citizen.post(apply_url(), form_post(theirs.number))
    assert response.status_code == 200
    assert WALLET_FIELD in response.context["form"].errors
    assert not Dossier.objects.exists()
    assert not Attachment.objects.exists()
    assert attached_events(mine) == [] and attached_events(theirs) == []


def _submit(account: EidAccount, wallet: dict[str, str]) -> services.Submitted:
    app = open_application(LICENCE, account.person, account)
    return services.submit_application(
        account.user,
        app=app,
        data=b.form_data(LICENCE, app),
        uploads={"health_certificate": pdf()},
        idempotency_key="tampered",
        wallet_documents=wallet,
    )


@pytest.mark.parametrize(
    "case",
    [
        ("father", "driving_licence", "current_licence", "wallet_document_not_found"),
        ("nobody", "driving_licence", "current_licence", "wallet_document_not_found"),
        ("mother", "vehicle_registration", "current_licence", "wallet_wrong_type"),
        ("mother", "driving_licence", "health_certificate", "wallet_not_allowed"),
    ],
)
def test_service_refuses_what_the_applicant_may_not_attach(
    family: Family, traffic: Agency, case: tuple[str, str, str, str]
) -> None:
    whose, doc_type, requirement, reason = case
    holder = family.father if whose == "father" else family.mother
    document = licence(holder, traffic, doc_type=doc_type)
    number = "T00001-driving_licence-NOPE" if whose == "nobody" else document.number
    events = DocumentEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        _submit(family.account, {requirement: number})
    assert caught.value.code == reason
    assert caught.value.field == f"wallet_{requirement}"
    assert not Dossier.objects.exists()
    assert not Attachment.objects.exists()
    assert DocumentEvent.objects.count() == events


def test_service_refuses_a_document_revoked_after_the_form_was_shown(
    family: Family, traffic: Agency, traffic_officer: User
) -> None:
    document = licence(family.mother, traffic)
    _revoke(document, traffic_officer)
    with pytest.raises(ValidationFailed) as caught:
        _submit(family.account, {"current_licence": document.number})
    assert caught.value.code == "wallet_document_unusable"
    assert not Dossier.objects.exists()


def test_counter_filing_does_not_take_wallet_documents(
    family: Family, traffic: Agency, traffic_officer: User
) -> None:
    """At the counter the officer files: the wallet is the citizen's to open, not theirs."""
    document = licence(family.mother, traffic)
    app = open_application(LICENCE, family.mother, family.account)
    with pytest.raises(ValidationFailed) as caught:
        services.submit_application(
            traffic_officer,
            app=app,
            data=b.form_data(LICENCE, app),
            uploads={"health_certificate": pdf()},
            idempotency_key="counter",
            consent_code="123456",
            wallet_documents={"current_licence": document.number},
        )
    assert caught.value.code == "wallet_not_at_counter"
    assert not Dossier.objects.exists()
    assert attached_events(document) == []


# --- a child's documents ---------------------------------------------------------------


@pytest.fixture
def child_catalogue(settings: Any, tmp_path: Path) -> Iterator[None]:
    """The shipped catalogue, with the child's birth certificate asked for even though
    the registry holds the child (to exercise a subject's wallet)."""
    directory = tmp_path / "procedures"
    shutil.copytree(SHIPPED, directory)
    path = directory / "child_health_insurance.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    skip_if: subject_in_registry\n", ""), encoding="utf-8")
    settings.CONGDAN_PROCEDURES_DIR = directory
    catalogue.cache_clear()
    yield
    catalogue.cache_clear()


def test_child_birth_certificate_from_the_parent_wallet(
    child_catalogue: None, citizen: Client, family: Family
) -> None:
    child = factories.make_person(
        family.commune,
        full_name="Phạm Minh An",
        birth_date=timezone.localdate() - dt.timedelta(days=200),
        father=family.father,
        mother=family.mother,
        card=False,
    )
    justice = factories.make_agency(family.commune, kind=AgencyKind.JUSTICE)
    certificate = licence(
        child,
        justice,
        doc_type="birth_certificate",
        title_vi="Giấy khai sinh",
        title_en="Birth certificate",
        data={"full_name": child.full_name},
        valid_until=None,
        integrated=False,
    )
    url = apply_url("child_health_insurance") + f"?subject={child.id_number}"
    page = citizen.get(url)
    assert page.status_code == 200
    assert page.context["form"].fields["wallet_birth_certificate"].initial == certificate.number
    # The parent's read of the child's wallet is on the child's access log.
    assert AccessLogEntry.objects.filter(person=child, purpose="parent_of_minor").exists()
    response = citizen.post(
        apply_url("child_health_insurance"),
        {
            "idempotency_key": "child-1",
            "subject": child.id_number,
            "child_id_number": child.id_number,
            "initial_clinic": "Trạm y tế phường",
            "wallet_birth_certificate": certificate.number,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    dossier = Dossier.objects.get(procedure_code="child_health_insurance")
    assert dossier.attachments.get().wallet_document == certificate
    assert attached_events(certificate)[0].detail == {"dossier": dossier.code}


# --- the officer reads the attached document ---------------------------------------------


@pytest.fixture
def attached(family: Family, traffic: Agency) -> tuple[Dossier, Attachment, Document]:
    document = licence(family.mother, traffic)
    submitted = _submit(family.account, {"current_licence": document.number})
    dossier = submitted.dossier
    assert dossier is not None
    return dossier, dossier.attachments.get(document_code="current_licence"), document


def _officer_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_officer_sees_the_verified_document_and_the_read_is_logged(
    attached: tuple[Dossier, Attachment, Document], traffic_officer: User, family: Family
) -> None:
    dossier, attachment, document = attached
    officer = _officer_client(traffic_officer)
    page = officer.get(reverse("procedures:office_dossier", args=[dossier.code]))
    link = reverse("procedures:office_wallet_document", args=[dossier.code, attachment.pk])
    assert link in page.content.decode()
    before = AccessLogEntry.objects.filter(view="dossier_wallet_document").count()
    response = officer.get(link)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chữ ký số hợp lệ" in html
    assert document.number in html
    assert "480123456789" in html  # the licence number, as signed
    (entry,) = AccessLogEntry.objects.filter(view="dossier_wallet_document")[before:]
    assert entry.person_id == family.mother.pk
    assert entry.actor_id == traffic_officer.pk
    assert entry.channel == "ui"
    assert entry.fields == "wallet_document"
    assert entry.purpose == "dossier_processing"
    # The wallet attachment has no file to download.
    files = reverse("procedures:office_attachment", args=[dossier.code, attachment.pk])
    assert officer.get(files).status_code == 404


def test_officer_sees_a_revocation_since_the_attachment(
    attached: tuple[Dossier, Attachment, Document], traffic_officer: User
) -> None:
    dossier, attachment, document = attached
    _revoke(document, traffic_officer)
    link = reverse("procedures:office_wallet_document", args=[dossier.code, attachment.pk])
    html = _officer_client(traffic_officer).get(link).content.decode()
    assert "Chữ ký số hợp lệ" not in html
    assert "Giấy tờ đã bị cơ quan cấp thu hồi." in html


@pytest.mark.parametrize("who", ["other_province", "justice_same_province", "citizen"])
def test_officer_outside_the_dossier_scope_gets_404(
    attached: tuple[Dossier, Attachment, Document], family: Family, who: str
) -> None:
    dossier, attachment, _document = attached
    if who == "other_province":
        other = factories.current_province("01")
        user = factories.make_user(agency=factories.make_agency(other, kind=AgencyKind.POLICE))
    elif who == "justice_same_province":
        user = factories.make_user(
            agency=factories.make_agency(family.province, kind=AgencyKind.JUSTICE)
        )
    else:
        user = family.account.user
    before = AccessLogEntry.objects.filter(view="dossier_wallet_document").count()
    link = reverse("procedures:office_wallet_document", args=[dossier.code, attachment.pk])
    response = _officer_client(user).get(link)
    assert response.status_code == (403 if who == "citizen" else 404)
    assert AccessLogEntry.objects.filter(view="dossier_wallet_document").count() == before


def test_officer_404_for_an_upload_attachment_or_another_dossier(
    attached: tuple[Dossier, Attachment, Document], traffic_officer: User
) -> None:
    dossier, _attachment, _document = attached
    upload = dossier.attachments.get(document_code="health_certificate")
    officer = _officer_client(traffic_officer)
    url = reverse("procedures:office_wallet_document", args=[dossier.code, upload.pk])
    assert officer.get(url).status_code == 404
    url = reverse("procedures:office_wallet_document", args=["HS000000XXXXXX", upload.pk])
    assert officer.get(url).status_code == 404


def test_officer_sees_a_verified_scan_and_its_file(family: Family, traffic_officer: User) -> None:
    uploaded = scan(family.mother)
    dossier = _submit(family.account, {"current_licence": uploaded.number}).dossier
    assert dossier is not None
    attachment = dossier.attachments.get(document_code="current_licence")
    officer = _officer_client(traffic_officer)
    link = reverse("procedures:office_wallet_document", args=[dossier.code, attachment.pk])
    html = officer.get(link).content.decode()
    assert "Bản chụp đã được xác thực" in html
    file_response = officer.get(link, {"file": "1"})
    assert file_response.status_code == 200
    assert b"".join(file_response.streaming_content) == PDF  # type: ignore[attr-defined]  # FileResponse

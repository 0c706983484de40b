"""More builders for the procedures tests: citizens with accounts, form data for each
procedure, submission, payment through the sandbox gateway and processing."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from congdan.core.models import AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.identity.models import EidAccount, EidLevel
from congdan.payments import services as payments
from congdan.payments.gateways import sandbox
from congdan.payments.models import Payment
from congdan.procedures import services
from congdan.procedures.application import Application, open_application
from congdan.procedures.models import Bundle, Dossier
from congdan.procedures.specs import catalogue
from congdan.registry.models import Household, Person
from tests import factories
from tests.identity.helpers import make_account
from tests.procedures.helpers import PDF

_phones = itertools.count(100)
_keys = itertools.count(1)
OK_CARD = sandbox.TEST_CARDS[0].number


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> str:
    """An ISO date ``n`` days from today (negative: in the past)."""
    return (today() + dt.timedelta(days=n)).isoformat()


def pdf(name: str = "giay.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def new_phone() -> str:
    return f"0913{next(_phones):06d}"


def citizen(
    commune: AdministrativeUnit,
    *,
    level: int = EidLevel.LEVEL2,
    household: Household | None = None,
    relationship: str = "head",
    **person: Any,
) -> tuple[Person, EidAccount]:
    """A person of ``commune`` with an e-ID account (level 2 unless told)."""
    who = factories.make_person(commune, household=household, relationship=relationship, **person)
    return who, make_account(who, level=level, phone=new_phone())


def officer(
    kind: str, unit: AdministrativeUnit, *, position: str = "", username: str | None = None
) -> User:
    agency = factories.make_agency(unit, kind=kind)
    user = factories.make_user(Role.OFFICER, agency=agency, username=username)
    if position:
        user.position = position
        user.save(update_fields=["position"])
    return user


def justice(unit: AdministrativeUnit, **kwargs: Any) -> User:
    return officer(AgencyKind.JUSTICE, unit, **kwargs)


def police(unit: AdministrativeUnit, **kwargs: Any) -> User:
    return officer(AgencyKind.POLICE, unit, **kwargs)


def insurance(unit: AdministrativeUnit, **kwargs: Any) -> User:
    return officer(AgencyKind.SOCIAL_INSURANCE, unit, **kwargs)


def prefilled(app: Application) -> dict[str, Any]:
    return {name: value for name, (value, _src) in app.values.items()}


# --- form data of each procedure (what ApplicationForm.field_data() gives) ----------


def form_data(code: str, app: Application, **overrides: Any) -> dict[str, Any]:
    """Valid cleaned data for ``code``: the prefilled values plus the citizen's input."""
    typed: dict[str, dict[str, Any]] = {
        "temporary_residence_registration": {
            "stay_street": "Số 12 đường Lê Lợi",
            "start_date": days(0),
            "end_date": days(90),
            "reason": "Đi làm",
        },
        "temporary_absence_declaration": {
            "destination": "Thành phố Hồ Chí Minh",
            "start_date": days(0),
            "end_date": days(60),
            "reason": "Đi học",
        },
        "death_registration": {
            "death_date": days(-1),
            "death_place": "Bệnh viện Đà Nẵng",
            "death_cause": "Bệnh",
            "applicant_relationship": "spouse",
        },
        "permanent_residence_removal": {"reason": "moved_abroad"},
        "permanent_residence_registration": {"relationship": "sibling", "reason": ""},
        "accommodation_notification": {
            "stay_street": "Số 5 đường Bạch Đằng",
            "arrival_date": days(0),
            "departure_date": days(3),
        },
        "child_health_insurance": {"initial_clinic": "Trạm y tế phường"},
        "marital_status_certificate": {"purpose": "Kết hôn"},
        "judicial_record_certificate": {
            "certificate_kind": "form_1",
            "purpose": "Xin việc",
            "is_student": False,
        },
        "driving_licence_renewal": {
            "licence_number": "480123456789",
            "licence_class": "B",
            "health_certificate_date": days(-10),
        },
        "funeral_allowance": {
            "social_insurance_number": "4812345678",
            "bank_account": "0123456789",
            "bank_name": "Vietcombank",
        },
        "birth_registration": {
            "child_full_name": "Phạm Minh Khôi",
            "child_birth_date": days(-3),
            "child_sex": "M",
            "child_ethnicity": "01",
            "child_birth_place": "Bệnh viện Phụ sản Nhi Đà Nẵng",
            "applicant_role": "mother",
        },
    }
    data: dict[str, Any] = {f.name: None for f in app.fields}
    for part in app.parts:
        data.update(typed.get(part.code, {}))
    # What the state holds stays as the registry says, unless a test overrides it.
    data.update(prefilled(app))
    data.update(overrides)
    return {name: value for name, value in data.items() if name in {f.name for f in app.fields}}


def uploads_for(app: Application) -> dict[str, SimpleUploadedFile]:
    """A PDF for every required document the application still asks for."""
    return {doc.code: pdf() for doc in app.document_specs() if doc.required}


def submit(
    code: str,
    account: EidAccount,
    *,
    subject: str | None = None,
    key: str | None = None,
    uploads: dict[str, Any] | None = None,
    **overrides: Any,
) -> services.Submitted:
    app = open_application(code, account.person, account, subject_id_number=subject)
    return services.submit_application(
        account.user,
        app=app,
        data=form_data(code, app, **overrides),
        uploads=uploads_for(app) if uploads is None else uploads,
        idempotency_key=key or f"key-{next(_keys)}",
    )


# --- payment through the sandbox gateway ----------


def pay(user: User, target: Dossier | Bundle) -> Payment:
    """Pay what ``target`` costs: start the payment, pay at the sandbox bank with the
    test card, and complete it with the bank's signed return (as the browser would)."""
    ref, amount, dossiers = services.payable(target)
    payment = payments.start_payment(
        user,
        purpose="bundle" if isinstance(target, Bundle) else "dossier",
        purpose_ref=ref,
        payer_person=dossiers[0].applicant,
        amount=amount,
        description=f"Lệ phí hồ sơ {ref}",
        return_path="/me/dossiers/",
    )
    txn = payment.gateway_url.rstrip("/").rsplit("/", 1)[-1]
    back = sandbox.bank_act(txn, action="pay", card_number=OK_CARD)
    return payments.complete_payment(dict(parse_qsl(urlsplit(back).query)))


# --- processing ----------


def process(officer_user: User, code: str) -> Dossier:
    """Receive, pass every review step and approve."""
    dossier = Dossier.objects.get(code=code)
    if dossier.status == "submitted":
        services.receive_dossier(officer_user, code=code)
    steps = catalogue().procedures[dossier.procedure_code].steps
    for _step in steps[1:-1]:
        services.complete_review(officer_user, code=code)
    return services.approve_dossier(officer_user, code=code)


def received(officer_user: User, code: str) -> Dossier:
    """Receive and pass the review steps: the dossier waits for the decision."""
    services.receive_dossier(officer_user, code=code)
    dossier = Dossier.objects.get(code=code)
    for _step in catalogue().procedures[dossier.procedure_code].steps[1:-1]:
        services.complete_review(officer_user, code=code)
    return Dossier.objects.get(code=code)

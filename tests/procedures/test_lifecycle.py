"""A dossier's life: withdrawal, supplement (the deadline pauses), rating, drafts,
idempotent submission, overdue dossiers, and the legal deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from congdan.core.calendar import add_working_days, working_days_between
from congdan.core.errors import Conflict, ValidationFailed
from congdan.procedures import selectors, services
from congdan.procedures.application import open_application
from congdan.procedures.models import Dossier, DossierStatus
from tests.procedures import builders as b
from tests.procedures.helpers import Family


def birth(family: Family, **kwargs: object) -> Dossier:
    result = b.submit("birth_registration", family.account, **kwargs)  # type: ignore[arg-type]
    assert result.dossier is not None
    return Dossier.objects.get(pk=result.dossier.pk)


# --- withdrawal ----------


def test_withdraw_before_processing(family: Family) -> None:
    dossier = birth(family)
    services.withdraw_dossier(family.account.user, code=dossier.code, reason="Nộp nhầm")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.WITHDRAWN
    assert dossier.events.filter(to_status=DossierStatus.WITHDRAWN, note="Nộp nhầm").exists()
    assert not dossier.is_open


def test_withdraw_refused_after_receive(family: Family) -> None:
    dossier = birth(family)
    services.receive_dossier(family.justice, code=dossier.code)
    with pytest.raises(Conflict) as excinfo:
        services.withdraw_dossier(family.account.user, code=dossier.code)
    assert excinfo.value.code == "wrong_status"


def test_withdraw_refused_once_processing(family: Family) -> None:
    dossier = birth(family)
    services.receive_dossier(family.justice, code=dossier.code)
    services.claim_dossier(family.justice, code=dossier.code)
    with pytest.raises(Conflict) as excinfo:
        services.withdraw_dossier(family.account.user, code=dossier.code)
    assert excinfo.value.code == "wrong_status"
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.IN_PROCESSING


def test_only_the_applicant_withdraws(family: Family) -> None:
    dossier = birth(family)
    _other, account = b.citizen(family.commune)
    from congdan.core.errors import NotFound

    with pytest.raises(NotFound):
        services.withdraw_dossier(account.user, code=dossier.code)


# --- supplement and the paused deadline ----------


def test_supplement_pauses_and_resumes_the_deadline(family: Family) -> None:
    dossier = birth(family)
    services.receive_dossier(family.justice, code=dossier.code)
    services.request_supplement(family.justice, code=dossier.code, reason="Bổ sung giấy chứng sinh")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUPPLEMENT_REQUESTED
    assert dossier.supplement_request == "Bổ sung giấy chứng sinh"
    assert dossier.paused_at is not None
    assert not dossier.is_overdue
    # The citizen answers twelve days later.
    paused_at = timezone.now() - dt.timedelta(days=12)
    Dossier.objects.filter(pk=dossier.pk).update(paused_at=paused_at)
    due_before = dossier.due_date
    assert due_before is not None
    services.supplement_dossier(
        family.account.user, code=dossier.code, note="Đã bổ sung", uploads={"extra": b.pdf()}
    )
    dossier.refresh_from_db()
    paused = working_days_between(timezone.localtime(paused_at).date(), timezone.localdate())
    assert paused >= 8
    assert dossier.status == DossierStatus.SUPPLEMENTED
    assert dossier.paused_at is None
    assert dossier.paused_working_days == paused
    assert dossier.due_date == add_working_days(due_before, paused)
    assert dossier.attachments.filter(document_code="extra").count() == 1
    # The officer carries on from the supplemented dossier.
    b.process(family.justice, dossier.code)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RESULT_ISSUED


def test_supplement_needs_a_note_or_a_file(family: Family) -> None:
    dossier = birth(family)
    services.receive_dossier(family.justice, code=dossier.code)
    services.request_supplement(family.justice, code=dossier.code, reason="Thiếu")
    with pytest.raises(ValidationFailed):
        services.supplement_dossier(family.account.user, code=dossier.code, note=" ", uploads={})


def test_supplement_only_when_asked(family: Family) -> None:
    dossier = birth(family)
    with pytest.raises(Conflict) as excinfo:
        services.supplement_dossier(family.account.user, code=dossier.code, note="x", uploads={})
    assert excinfo.value.code == "wrong_status"


def test_request_supplement_needs_a_reason(family: Family) -> None:
    dossier = birth(family)
    services.receive_dossier(family.justice, code=dossier.code)
    with pytest.raises(ValidationFailed):
        services.request_supplement(family.justice, code=dossier.code, reason="  ")


def test_a_non_suspendable_procedure_does_not_pause(family: Family) -> None:
    result = b.submit("temporary_absence_declaration", family.account)
    assert result.dossier is not None
    code = result.dossier.code
    services.receive_dossier(family.police, code=code)
    services.request_supplement(family.police, code=code, reason="Ghi rõ nơi đến")
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == DossierStatus.SUPPLEMENT_REQUESTED
    assert dossier.paused_at is None


# --- rating ----------


def test_rating_after_the_result_once(family: Family) -> None:
    dossier = birth(family)
    with pytest.raises(Conflict):
        services.rate_dossier(family.account.user, code=dossier.code, rating=5)
    b.process(family.justice, dossier.code)
    services.rate_dossier(family.account.user, code=dossier.code, rating=4, comment=" Nhanh ")
    dossier.refresh_from_db()
    assert (dossier.rating, dossier.rating_comment) == (4, "Nhanh")
    with pytest.raises(Conflict) as excinfo:
        services.rate_dossier(family.account.user, code=dossier.code, rating=1)
    assert excinfo.value.code == "already_rated"
    dossier.refresh_from_db()
    assert dossier.rating == 4


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_rating_out_of_range(family: Family, rating: int) -> None:
    dossier = birth(family)
    b.process(family.justice, dossier.code)
    with pytest.raises(ValidationFailed) as excinfo:
        services.rate_dossier(family.account.user, code=dossier.code, rating=rating)
    assert excinfo.value.code == "invalid_rating"
    dossier.refresh_from_db()
    assert dossier.rating is None


# --- drafts and idempotency ----------


def test_draft_then_submit_deletes_the_draft(family: Family) -> None:
    app = open_application("birth_registration", family.mother, family.account)
    draft = services.save_draft(
        family.account.user,
        app=app,
        data={"child_full_name": "Phạm", "child_birth_date": b.today()},
    )
    assert draft.status == DossierStatus.DRAFT
    assert draft.data["child_birth_date"] == b.today().isoformat()
    again = services.save_draft(
        family.account.user, app=app, data={"child_full_name": "Phạm Minh"}, code=draft.code
    )
    assert again.pk == draft.pk
    assert Dossier.objects.get(pk=draft.pk).data == {"child_full_name": "Phạm Minh"}
    # A draft is in no queue.
    assert list(selectors.queue(family.justice)) == []
    result = services.submit_application(
        family.account.user,
        app=app,
        data=b.form_data("birth_registration", app),
        uploads=b.uploads_for(app),
        idempotency_key="from-draft",
        draft_code=draft.code,
    )
    assert not Dossier.objects.filter(pk=draft.pk).exists()
    assert Dossier.objects.get().code == result.code


def test_someone_else_cannot_save_my_draft(family: Family) -> None:
    app = open_application("birth_registration", family.mother, family.account)
    from congdan.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.save_draft(family.justice, app=app, data={})


def test_double_submission_returns_the_same_dossier(family: Family) -> None:
    first = b.submit("birth_registration", family.account, key="same-key")
    again = b.submit("birth_registration", family.account, key="same-key")
    assert not first.replayed
    assert again.replayed
    assert again.code == first.code
    assert Dossier.objects.count() == 1


def test_double_bundle_submission_returns_the_same_bundle(family: Family) -> None:
    first = b.submit("birth_bundle", family.account, key="k")
    again = b.submit("birth_bundle", family.account, key="k")
    assert again.replayed and again.bundle is not None and first.bundle is not None
    assert again.bundle.pk == first.bundle.pk
    assert Dossier.objects.count() == 3


# --- overdue and deadlines ----------


def test_overdue_dossiers(family: Family) -> None:
    late = birth(family)
    on_time = birth(family)
    Dossier.objects.filter(pk=late.pk).update(due_date=b.today() - dt.timedelta(days=2))
    late.refresh_from_db()
    assert late.is_overdue
    assert not on_time.is_overdue
    page = selectors.queue(family.justice, name="overdue")
    assert [d.code for d in page] == [late.code]
    assert selectors.queue_counts(family.justice)["overdue"] == 1
    # Another commune's officer does not see it.
    assert list(selectors.queue(family.other_justice, name="overdue")) == []
    # A paused or decided dossier is not overdue.
    Dossier.objects.filter(pk=late.pk).update(paused_at=timezone.now())
    assert list(selectors.queue(family.justice, name="overdue")) == []
    Dossier.objects.filter(pk=late.pk).update(paused_at=None, status=DossierStatus.RESULT_ISSUED)
    late.refresh_from_db()
    assert not late.is_overdue
    assert list(selectors.queue(family.justice, name="overdue")) == []


@pytest.mark.parametrize(
    ("code", "days"),
    [("birth_registration", 1), ("temporary_absence_declaration", 1)],
)
def test_due_date_of_a_free_dossier(family: Family, code: str, days: int) -> None:
    result = b.submit(code, family.account)
    assert result.dossier is not None
    assert result.dossier.due_date == add_working_days(b.today(), days)
    assert result.dossier.due_date.weekday() < 5


def test_due_date_of_a_paid_dossier_runs_from_payment(family: Family) -> None:
    result = b.submit("marital_status_certificate", family.account)
    assert result.dossier is not None
    dossier = Dossier.objects.get(pk=result.dossier.pk)
    Dossier.objects.filter(pk=dossier.pk).update(due_date=None)
    b.pay(family.account.user, dossier)
    dossier.refresh_from_db()
    assert dossier.due_date == add_working_days(b.today(), 3)
    assert dossier.submitted_at is not None


def test_a_declined_payment_leaves_the_dossier_waiting(family: Family) -> None:
    from urllib.parse import parse_qsl, urlsplit

    from congdan.payments import services as payments
    from congdan.payments.gateways import sandbox

    result = b.submit("marital_status_certificate", family.account)
    assert result.dossier is not None
    payment = payments.start_payment(
        family.account.user,
        purpose="dossier",
        purpose_ref=result.dossier.code,
        payer_person=family.mother,
        amount=result.dossier.fee_amount,
        description="Lệ phí",
        return_path="/me/dossiers/",
    )
    txn = payment.gateway_url.rstrip("/").rsplit("/", 1)[-1]
    back = sandbox.bank_act(txn, action="pay", card_number=sandbox.TEST_CARDS[1].number)
    payments.complete_payment(dict(parse_qsl(urlsplit(back).query)))
    dossier = Dossier.objects.get(pk=result.dossier.pk)
    assert dossier.status == DossierStatus.AWAITING_PAYMENT
    assert dossier.payment_reference == ""

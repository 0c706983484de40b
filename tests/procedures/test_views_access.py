"""The pages of the procedures app: the back office (queue, dossier, actions,
attachments, the counter) and the citizen's dossiers and actions — allowed, denied and
outside the jurisdiction (DESIGN rule 10), and never a 500 for bad input."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from congdan.audit.models import AccessLogEntry
from congdan.core.errors import ValidationFailed
from congdan.core.models import OutboxMessage
from congdan.identity.models import CodePurpose, EidLevel, OneTimeCode
from congdan.payments import services as payments
from congdan.payments.gateways import sandbox
from congdan.procedures import services
from congdan.procedures.application import open_application
from congdan.procedures.models import Attachment, Channel, Dossier, DossierStatus
from tests.conftest import World
from tests.identity.helpers import make_account, portal_login
from tests.permissions import (
    AllowedUser,
    AnonymousRedirectsToLogin,
    RequiresPermission,
    ViewAccessTests,
    assert_redirects_to_login,
)
from tests.procedures import builders as b
from tests.procedures.helpers import Family


def police_dossier(world: World, *, received: bool = False) -> str:
    """A temporary absence declared by ``world.person``: the police of ``world.commune``."""
    account = make_account(world.person, level=EidLevel.LEVEL2, phone=b.new_phone())
    result = b.submit("temporary_absence_declaration", account)
    assert result.dossier is not None
    if received:
        services.receive_dossier(world.commune_officer, code=result.dossier.code)
    return result.dossier.code


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the back office ----------


class TestOfficeQueueAccess(AnonymousRedirectsToLogin, RequiresPermission, AllowedUser):
    def url(self, world: World) -> str:
        return reverse("procedures:office_queue")


class TestOfficeDossierPageAccess(ViewAccessTests):
    @pytest.fixture(autouse=True)
    def _dossier(self, world: World) -> None:
        self.code = police_dossier(world)

    def url(self, world: World) -> str:
        return reverse("procedures:office_dossier", args=[self.code])

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 200
        assert self.code in response.content.decode()
        assert AccessLogEntry.objects.filter(
            person=world.person, view="procedures:dossier", actor=world.commune_officer
        ).exists()


class _OfficeAction(ViewAccessTests):
    method = "post"
    action = ""
    received = True

    @pytest.fixture(autouse=True)
    def _dossier(self, world: World) -> None:
        self.code = police_dossier(world, received=self.received)
        self.colleague = b.police(world.commune)

    def url(self, world: World) -> str:
        return reverse("procedures:office_dossier_action", args=[self.code, self.action])

    def data(self, world: World) -> dict[str, Any]:
        return {"note": "Ghi chú của cán bộ", "to": self.colleague.username}

    def effect(self, dossier: Dossier) -> bool:
        raise NotImplementedError

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 302
        assert response["Location"] == reverse("procedures:office_dossier", args=[self.code])
        assert self.effect(Dossier.objects.get(code=self.code)), messages_of(response)


class TestReceiveAction(_OfficeAction):
    action = "receive"
    received = False

    def effect(self, dossier: Dossier) -> bool:
        return dossier.status == DossierStatus.RECEIVED


class TestClaimAction(_OfficeAction):
    action = "claim"

    def effect(self, dossier: Dossier) -> bool:
        return dossier.status == DossierStatus.IN_PROCESSING


class TestAssignAction(_OfficeAction):
    action = "assign"

    def effect(self, dossier: Dossier) -> bool:
        return dossier.assigned_to_id == self.colleague.pk


class TestSupplementAction(_OfficeAction):
    action = "supplement"

    def effect(self, dossier: Dossier) -> bool:
        return (
            dossier.status == DossierStatus.SUPPLEMENT_REQUESTED
            and dossier.supplement_request == "Ghi chú của cán bộ"
        )


class TestApproveAction(_OfficeAction):
    action = "approve"

    def effect(self, dossier: Dossier) -> bool:
        return (
            dossier.status == DossierStatus.RESULT_ISSUED and dossier.result_document_id is not None
        )


class TestRejectAction(_OfficeAction):
    action = "reject"

    def effect(self, dossier: Dossier) -> bool:
        return dossier.status == DossierStatus.REJECTED and dossier.decision_reason != ""


def test_queue_lists_the_officers_dossiers_only(client: Client, world: World) -> None:
    code = police_dossier(world)
    client.force_login(world.commune_officer)
    page = client.get(reverse("procedures:office_queue"))
    assert page.status_code == 200
    assert code in page.content.decode()
    other = Client()
    other.force_login(world.other_commune_officer)
    assert code not in other.get(reverse("procedures:office_queue")).content.decode()
    for name in ("processing", "overdue", "done", "nonsense"):
        assert client.get(reverse("procedures:office_queue"), {"queue": name}).status_code == 200
    assert client.get(reverse("procedures:office_queue"), {"page": "x"}).status_code == 200


def test_queue_refuses_a_citizen(client: Client, world: World) -> None:
    account = make_account(world.person, level=EidLevel.LEVEL2)
    portal_login(client, account)
    assert client.get(reverse("procedures:office_queue")).status_code == 403


def test_garbage_office_action_is_404(client: Client, world: World) -> None:
    code = police_dossier(world)
    client.force_login(world.commune_officer)
    response = client.post(reverse("procedures:office_dossier_action", args=[code, "explode"]))
    assert response.status_code == 404
    assert Dossier.objects.get(code=code).status == DossierStatus.SUBMITTED


def test_office_action_conflict_is_a_message(client: Client, world: World) -> None:
    code = police_dossier(world)
    client.force_login(world.commune_officer)
    response = client.post(reverse("procedures:office_dossier_action", args=[code, "approve"]))
    assert response.status_code == 302
    assert any("trạng thái" in m for m in messages_of(response))
    assert Dossier.objects.get(code=code).status == DossierStatus.SUBMITTED


def test_office_get_on_an_action_is_not_allowed(client: Client, world: World) -> None:
    code = police_dossier(world)
    client.force_login(world.commune_officer)
    response = client.get(reverse("procedures:office_dossier_action", args=[code, "receive"]))
    assert response.status_code == 405


def test_unknown_dossier_is_404(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    assert (
        client.get(reverse("procedures:office_dossier", args=["HS000000XXXX"])).status_code == 404
    )


def test_review_through_the_page(client: Client, family: Family) -> None:
    result = b.submit("birth_registration", family.account)
    assert result.dossier is not None
    code = result.dossier.code
    services.receive_dossier(family.justice, code=code)
    client.force_login(family.justice)
    response = client.post(reverse("procedures:office_dossier_action", args=[code, "review"]))
    assert response.status_code == 302
    dossier = Dossier.objects.get(code=code)
    assert (dossier.status, dossier.step_index) == (DossierStatus.IN_PROCESSING, 2)
    outsider = Client()
    outsider.force_login(family.other_justice)
    denied = outsider.post(reverse("procedures:office_dossier_action", args=[code, "approve"]))
    assert denied.status_code == 404


# --- attachments ----------


@pytest.fixture
def death_dossier(family: Family) -> Dossier:
    result = b.submit("death_registration", family.account, subject=family.father.id_number)
    assert result.dossier is not None
    return result.dossier


def attachment_url(dossier: Dossier) -> str:
    attachment = Attachment.objects.get(dossier=dossier, document_code="death_notice")
    return reverse("procedures:office_attachment", args=[dossier.code, attachment.pk])


def test_attachment_for_the_officer_of_the_dossier(
    client: Client, family: Family, death_dossier: Dossier
) -> None:
    client.force_login(family.justice)
    response = client.get(attachment_url(death_dossier))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert "giay.pdf" not in response["Content-Disposition"]  # the uploaded name stays inside
    entry = AccessLogEntry.objects.get(view="procedures:attachment")
    assert entry.actor_id == family.justice.pk
    assert entry.person_id == family.mother.pk
    assert "death_notice" in entry.fields


@pytest.mark.parametrize("who", ["other_justice", "police"])
def test_attachment_outside_is_404(
    client: Client, family: Family, death_dossier: Dossier, who: str
) -> None:
    client.force_login(getattr(family, who))
    assert client.get(attachment_url(death_dossier)).status_code == 404
    assert not AccessLogEntry.objects.filter(view="procedures:attachment").exists()


def test_attachment_of_another_dossier_is_404(
    client: Client, family: Family, death_dossier: Dossier
) -> None:
    other = b.submit("birth_registration", family.account)
    assert other.dossier is not None
    attachment = Attachment.objects.get(dossier=death_dossier)
    client.force_login(family.justice)
    url = reverse("procedures:office_attachment", args=[other.dossier.code, attachment.pk])
    assert client.get(url).status_code == 404


def test_attachment_denied_and_anonymous(
    client: Client, world: World, family: Family, death_dossier: Dossier
) -> None:
    assert_redirects_to_login(client.get(attachment_url(death_dossier)))
    client.force_login(world.nobody)
    assert client.get(attachment_url(death_dossier)).status_code == 403
    portal_login(client, family.account)
    assert client.get(attachment_url(death_dossier)).status_code == 403


# --- the citizen's pages ----------


def test_my_dossiers_lists_mine_only(client: Client, family: Family) -> None:
    mine = b.submit("birth_registration", family.account)
    _other, account = b.citizen(family.commune)
    theirs = b.submit("marital_status_certificate", account)
    portal_login(client, family.account)
    page = client.get(reverse("procedures:my_dossiers"))
    assert page.status_code == 200
    assert mine.code in page.content.decode()
    assert theirs.code not in page.content.decode()
    assert client.get(reverse("procedures:my_dossier", args=[mine.code])).status_code == 200
    assert client.get(reverse("procedures:my_dossier", args=[theirs.code])).status_code == 404


def test_citizen_pages_need_a_portal_login(client: Client, family: Family) -> None:
    mine = b.submit("birth_registration", family.account)
    for url in (
        reverse("procedures:my_dossiers"),
        reverse("procedures:my_dossier", args=[mine.code]),
        reverse("procedures:apply", args=["birth_registration"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("identity:portal_login"))


def test_a_bundle_part_redirects_to_the_bundle(client: Client, family: Family) -> None:
    result = b.submit("birth_bundle", family.account)
    assert result.bundle is not None
    first = result.bundle.dossiers.get(part_index=0)
    portal_login(client, family.account)
    response = client.get(reverse("procedures:my_dossier", args=[first.code]))
    assert response["Location"] == reverse("procedures:my_bundle", args=[result.bundle.code])
    assert client.get(response["Location"]).status_code == 200
    other = Client()
    _person, account = b.citizen(family.commune)
    portal_login(other, account)
    assert other.get(reverse("procedures:my_bundle", args=[result.bundle.code])).status_code == 404


def action_url(code: str, action: str) -> str:
    return reverse("procedures:my_dossier_action", args=[code, action])


def test_pay_through_the_page(client: Client, family: Family, settings: Any) -> None:
    settings.CONGDAN_PAYMENT_SANDBOX_IPN = False
    result = b.submit("marital_status_certificate", family.account)
    code = result.code
    portal_login(client, family.account)
    response = client.post(action_url(code, "pay"))
    assert response.status_code == 302
    assert response["Location"].startswith("/payments/sandbox/")
    txn = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    back = sandbox.bank_act(txn, action="pay", card_number=b.OK_CARD)
    payments.complete_payment(dict(parse_qsl(urlsplit(back).query)))
    assert Dossier.objects.get(code=code).status == DossierStatus.SUBMITTED
    again = client.post(action_url(code, "pay"))
    assert again["Location"] == reverse("procedures:my_dossier", args=[code])
    assert any("không cần thanh toán" in m for m in messages_of(again))


def test_withdraw_through_the_page(client: Client, family: Family) -> None:
    code = b.submit("birth_registration", family.account).code
    portal_login(client, family.account)
    response = client.post(action_url(code, "withdraw"), {"reason": "Nhầm"})
    assert response["Location"] == reverse("procedures:my_dossier", args=[code])
    assert Dossier.objects.get(code=code).status == DossierStatus.WITHDRAWN


def test_another_citizens_dossier_action_is_404(client: Client, family: Family) -> None:
    code = b.submit("birth_registration", family.account).code
    _person, account = b.citizen(family.commune)
    portal_login(client, account)
    assert client.post(action_url(code, "withdraw")).status_code == 404
    assert Dossier.objects.get(code=code).status == DossierStatus.SUBMITTED


def test_garbage_citizen_action_is_404(client: Client, family: Family) -> None:
    code = b.submit("birth_registration", family.account).code
    portal_login(client, family.account)
    assert client.post(action_url(code, "explode")).status_code == 404


@pytest.fixture
def asked_to_supplement(family: Family) -> str:
    code = b.submit("birth_registration", family.account).code
    services.receive_dossier(family.justice, code=code)
    services.request_supplement(family.justice, code=code, reason="Bổ sung giấy chứng sinh")
    return code


def test_supplement_with_a_wrong_file_type(
    client: Client, family: Family, asked_to_supplement: str
) -> None:
    code = asked_to_supplement
    portal_login(client, family.account)
    before = Attachment.objects.count()
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(action_url(code, "supplement"), {"note": "Đây", "doc_extra": fake})
    assert response.status_code == 302
    assert any("PDF, JPEG hoặc PNG" in m for m in messages_of(response))
    assert Attachment.objects.count() == before
    assert Dossier.objects.get(code=code).status == DossierStatus.SUPPLEMENT_REQUESTED


def test_supplement_through_the_page(
    client: Client, family: Family, asked_to_supplement: str
) -> None:
    code = asked_to_supplement
    portal_login(client, family.account)
    response = client.post(action_url(code, "supplement"), {"note": "Đây", "doc_extra": b.pdf()})
    assert response.status_code == 302
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == DossierStatus.SUPPLEMENTED
    assert dossier.attachments.filter(document_code="extra").exists()


@pytest.mark.parametrize("value", ["abc", "", "4.5", "99"])
def test_bad_rating_is_a_message(client: Client, family: Family, value: str) -> None:
    code = b.submit("birth_registration", family.account).code
    b.process(family.justice, code)
    portal_login(client, family.account)
    response = client.post(action_url(code, "rate"), {"rating": value})
    assert response.status_code == 302
    assert any("từ 1 đến 5" in m for m in messages_of(response))
    assert Dossier.objects.get(code=code).rating is None


def test_rate_through_the_page(client: Client, family: Family) -> None:
    code = b.submit("birth_registration", family.account).code
    b.process(family.justice, code)
    portal_login(client, family.account)
    client.post(action_url(code, "rate"), {"rating": "5", "comment": "Tốt"})
    assert Dossier.objects.get(code=code).rating == 5
    second = client.post(action_url(code, "rate"), {"rating": "1"})
    assert any("đã đánh giá" in m for m in messages_of(second))
    assert Dossier.objects.get(code=code).rating == 5


def test_apply_with_bad_input_shows_errors(client: Client, family: Family) -> None:
    portal_login(client, family.account)
    url = reverse("procedures:apply", args=["birth_registration"])
    response = client.post(
        url,
        {"idempotency_key": "k", "child_birth_date": "31/02/2026", "child_sex": "Q"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"child_birth_date", "child_sex", "child_full_name"} <= set(errors)
    assert not Dossier.objects.exists()
    assert client.get(reverse("procedures:apply", args=["no_such_thing"])).status_code == 404


def test_apply_for_someone_not_linked_is_a_message(client: Client, family: Family) -> None:
    stranger = b.citizen(family.commune, full_name="Người Lạ")[0]
    portal_login(client, family.account)
    url = reverse("procedures:apply", args=["death_registration"])
    response = client.get(url, {"subject": stranger.id_number})
    assert response.status_code == 302
    assert any("không có quan hệ" in m for m in messages_of(response))


def test_draft_through_the_page(client: Client, family: Family) -> None:
    portal_login(client, family.account)
    url = reverse("procedures:apply", args=["birth_registration"])
    response = client.post(
        url, {"idempotency_key": "k", "child_full_name": "Bé", "save_draft": "1"}
    )
    assert response["Location"] == reverse("procedures:my_dossiers")
    draft = Dossier.objects.get(status=DossierStatus.DRAFT)
    assert draft.data["child_full_name"] == "Bé"
    page = client.get(url, {"draft": draft.code})
    assert page.context["form"].fields["child_full_name"].initial == "Bé"


# --- the one-stop counter ----------


def consent_code(phone: str) -> str:
    message = OutboxMessage.objects.filter(recipient=phone).order_by("-id").first()
    assert message is not None, "no SMS"
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def counter_form(world: World, code: str) -> dict[str, str]:
    return {
        "idempotency_key": "counter-1",
        "destination": "Hà Nội",
        "start_date": b.days(0),
        "end_date": b.days(40),
        "reason": "Đi làm",
        "consent_code": code,
    }


@pytest.fixture
def at_the_counter(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> tuple[Client, Any]:
    account = make_account(world.person, level=EidLevel.LEVEL2, phone="0977000111")
    client.force_login(world.commune_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("procedures:counter"),
            {"id_number": world.person.id_number, "procedure": "temporary_absence_declaration"},
        )
    assert response["Location"] == reverse("procedures:counter_file")
    return client, account


def test_counter_files_with_the_citizens_code(world: World, at_the_counter: Any) -> None:
    client, account = at_the_counter
    code = consent_code(account.phone)
    page = client.get(reverse("procedures:counter_file"))
    assert page.status_code == 200
    response = client.post(reverse("procedures:counter_file"), counter_form(world, code))
    dossier = Dossier.objects.get()
    assert response["Location"] == reverse("procedures:office_dossier", args=[dossier.code])
    assert dossier.channel == Channel.COUNTER
    assert dossier.filed_by_id == world.commune_officer.pk
    assert dossier.consent_confirmed_at is not None
    assert dossier.applicant_id == world.person.pk
    assert dossier.applicant_user_id == account.user_id
    assert dossier.status == DossierStatus.SUBMITTED


def test_counter_with_a_wrong_code(world: World, at_the_counter: Any) -> None:
    client, account = at_the_counter
    code = consent_code(account.phone)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(reverse("procedures:counter_file"), counter_form(world, wrong))
    assert response.status_code == 200
    assert "consent_code" in response.context["form"].errors
    assert not Dossier.objects.exists()


def test_counter_for_an_unknown_citizen(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = client.post(
        reverse("procedures:counter"),
        {"id_number": "048099000001", "procedure": "temporary_absence_declaration"},
    )
    assert response.status_code == 200
    assert "id_number" in response.context["form"].errors
    assert not OutboxMessage.objects.exists()


def test_counter_denied_and_anonymous(client: Client, world: World, family: Family) -> None:
    assert_redirects_to_login(client.get(reverse("procedures:counter")))
    client.force_login(world.nobody)
    assert client.get(reverse("procedures:counter")).status_code == 403
    portal_login(client, family.account)
    assert client.get(reverse("procedures:counter")).status_code == 403
    assert client.get(reverse("procedures:counter_file")).status_code == 403


def test_counter_file_without_step_one_goes_back(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = client.get(reverse("procedures:counter_file"))
    assert response["Location"] == reverse("procedures:counter")


def test_consent_code_guesses_are_counted(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    account = make_account(world.person, level=EidLevel.LEVEL2, phone="0977000222")
    with django_capture_on_commit_callbacks(execute=True):
        services.send_consent_code(world.commune_officer, id_number=world.person.id_number)
    right = consent_code(account.phone)
    app = open_application("temporary_absence_declaration", world.person, account)
    data = b.form_data("temporary_absence_declaration", app)
    for attempt in range(5):
        with pytest.raises(ValidationFailed):
            services.submit_application(
                world.commune_officer,
                app=app,
                data=data,
                uploads={},
                idempotency_key=f"g{attempt}",
                consent_code="000000" if right != "000000" else "111111",
            )
    assert OneTimeCode.objects.get(account=account, purpose=CodePurpose.CONSENT).attempts == 5
    with pytest.raises(ValidationFailed):
        services.submit_application(
            world.commune_officer,
            app=app,
            data=data,
            uploads={},
            idempotency_key="right",
            consent_code=right,
        )

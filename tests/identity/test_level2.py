"""Level 2: the citizen's request, the officer's in-person verification, refusals,
the queue's jurisdiction, and deactivation of the e-ID on death (a registry event)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import get_application_model, get_refresh_token_model
from PIL import Image

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import OutboxMessage
from congdan.identity.models import (
    AccountStatus,
    CorrectionRequest,
    EidAccount,
    EidLevel,
    Level2Verification,
    ReportStatus,
    UserSession,
    VerificationStatus,
)
from congdan.identity.services import level2
from congdan.registry.models import CardStatus, IdentityCard
from congdan.registry.services import record_death
from tests.conftest import World
from tests.identity.helpers import make_account, portal_login
from tests.permissions import ViewAccessTests

ISSUED = dt.date(2024, 8, 1)  # tests.factories.make_person's card


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), (200, 180, 160)).save(out, format="JPEG")
    return out.getvalue()


def png_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), (120, 140, 160)).save(out, format="PNG")
    return SimpleUploadedFile("chan-dung.png", out.getvalue(), content_type="image/png")


def verify(world: World, account: EidAccount, **overrides: Any) -> Level2Verification:
    args: dict[str, Any] = {
        "account_id": account.pk,
        "card_number": account.person.id_number,
        "card_issue_date": ISSUED,
        "portrait": jpeg_bytes(),
        "attested": True,
    }
    args.update(overrides)
    actor = args.pop("actor", world.commune_officer)
    return level2.verify_level2(actor, **args)


# --- services -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_request_then_verify_raises_to_level2_and_records_who_where_when(
    world: World, citizen: EidAccount
) -> None:
    request = level2.request_level2(citizen)
    assert request.status == VerificationStatus.PENDING
    assert request.commune == world.commune

    done = verify(world, citizen, request_id=request.pk, note="Đối chiếu tại trụ sở")

    citizen.refresh_from_db()
    assert citizen.level == EidLevel.LEVEL2
    assert citizen.level2_at is not None
    done.refresh_from_db()
    assert done.pk == request.pk
    assert done.status == VerificationStatus.APPROVED
    assert done.officer == world.commune_officer
    assert done.agency == world.commune_officer.agency
    assert done.card is not None and done.card.number == citizen.person.id_number
    assert done.evidence == "officer_attestation"
    assert done.captured_portrait.name.startswith("portraits/")
    assert done.decided_at is not None
    change = ChangeRecord.objects.get(action="eid_level2_verify")
    assert change.changes["level"] == [1, 2]
    assert change.actor_label == world.commune_officer.username
    # The citizen is told by SMS once the transaction commits.
    assert OutboxMessage.objects.filter(recipient=citizen.phone, body__contains="muc do 2").exists()


def test_walk_in_verification_needs_no_request(world: World, citizen: EidAccount) -> None:
    done = verify(world, citizen)
    assert done.status == VerificationStatus.APPROVED
    assert done.commune == world.commune
    citizen.refresh_from_db()
    assert citizen.level == EidLevel.LEVEL2


def test_province_officer_may_verify(world: World, citizen: EidAccount) -> None:
    verify(world, citizen, actor=world.province_officer)
    citizen.refresh_from_db()
    assert citizen.level == EidLevel.LEVEL2


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"card_number": "048090000999"}, "card_mismatch"),
        ({"card_issue_date": dt.date(2023, 8, 1)}, "card_mismatch"),
        ({"card_number": "04809000A999"}, "card_number_format"),
        ({"attested": False}, "attestation_required"),
        ({"portrait": b""}, "required"),
    ],
)
def test_card_that_does_not_match_is_refused_and_nothing_changes(
    world: World, citizen: EidAccount, overrides: dict[str, Any], code: str
) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        verify(world, citizen, **overrides)
    assert excinfo.value.code == code
    citizen.refresh_from_db()
    assert citizen.level == EidLevel.LEVEL1
    assert not Level2Verification.objects.exists()
    assert not ChangeRecord.objects.filter(action="eid_level2_verify").exists()


@pytest.mark.parametrize("status", [CardStatus.REVOKED, CardStatus.LOST, CardStatus.REPLACED])
def test_card_no_longer_valid_is_refused(world: World, citizen: EidAccount, status: str) -> None:
    IdentityCard.objects.filter(person=citizen.person).update(status=status)
    with pytest.raises(ValidationFailed) as excinfo:
        verify(world, citizen)
    assert excinfo.value.code == "card_not_valid"


def test_expired_card_is_refused(world: World, citizen: EidAccount) -> None:
    IdentityCard.objects.filter(person=citizen.person).update(expiry_date=dt.date(2025, 1, 1))
    with pytest.raises(ValidationFailed) as excinfo:
        verify(world, citizen)
    assert excinfo.value.code == "card_not_valid"


def test_officer_outside_jurisdiction_gets_not_found(world: World, citizen: EidAccount) -> None:
    with pytest.raises(NotFound):
        verify(world, citizen, actor=world.other_commune_officer)
    with pytest.raises(PermissionDenied):
        verify(world, citizen, actor=world.nobody)
    with pytest.raises(PermissionDenied):  # stewards correct data; they do not verify people
        verify(world, citizen, actor=world.steward)
    citizen.refresh_from_db()
    assert citizen.level == EidLevel.LEVEL1


@pytest.mark.parametrize("status", [AccountStatus.LOCKED, AccountStatus.SUSPENDED])
def test_account_not_active_cannot_be_raised(
    world: World, citizen: EidAccount, status: str
) -> None:
    EidAccount.objects.filter(pk=citizen.pk).update(status=status)
    with pytest.raises(Conflict) as excinfo:
        verify(world, citizen)
    assert excinfo.value.code == "account_not_active"


def test_requests_are_one_at_a_time_and_not_for_level2(world: World, citizen: EidAccount) -> None:
    level2.request_level2(citizen)
    with pytest.raises(Conflict) as excinfo:
        level2.request_level2(citizen)
    assert excinfo.value.code == "already_requested"
    verify(world, citizen)
    citizen.refresh_from_db()
    with pytest.raises(Conflict) as excinfo:
        level2.request_level2(citizen)
    assert excinfo.value.code == "already_level2"
    with pytest.raises(Conflict):
        verify(world, citizen)


def test_reject_needs_a_reason_and_jurisdiction(world: World, citizen: EidAccount) -> None:
    request = level2.request_level2(citizen)
    with pytest.raises(ValidationFailed):
        level2.reject_level2(world.commune_officer, request_id=request.pk, reason=" ")
    with pytest.raises(NotFound):
        level2.reject_level2(world.other_commune_officer, request_id=request.pk, reason="x")
    done = level2.reject_level2(
        world.commune_officer, request_id=request.pk, reason="Thẻ không khớp người đến"
    )
    assert done.status == VerificationStatus.REJECTED
    assert done.officer == world.commune_officer
    # The citizen may ask again after a refusal.
    assert level2.request_level2(citizen).status == VerificationStatus.PENDING


def test_cancel_own_request_only(world: World, citizen: EidAccount) -> None:
    request = level2.request_level2(citizen)
    other = make_account(world.neighbour, phone="0987654321")
    with pytest.raises(NotFound):
        level2.cancel_level2_request(other, request_id=request.pk)
    assert level2.cancel_level2_request(citizen, request_id=request.pk).status == "cancelled"


# --- death deactivates the account (registry event) ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_death_deactivates_account_ends_sessions_and_tokens(world: World) -> None:
    account = make_account(world.person)
    client = portal_login(Client(), account)
    session_key = client.session.session_key
    assert session_key is not None
    UserSession.objects.create(user=account.user, session_key=session_key)
    app = get_application_model().objects.create(
        name="RP", client_type="confidential", authorization_grant_type="authorization-code"
    )
    refresh = get_refresh_token_model().objects.create(
        user=account.user, application=app, token="r-1"
    )
    level2.request_level2(account)

    record_death(
        world.commune_officer,
        person_id=world.person.pk,
        death_date=dt.date(2026, 1, 2),
        document_ref="KT-01",
    )

    account.refresh_from_db()
    assert account.status == AccountStatus.DEACTIVATED
    assert account.user.is_active is False
    assert not Session.objects.filter(session_key=session_key).exists()
    assert UserSession.objects.get(session_key=session_key).ended_at is not None
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    assert account.level2.get().status == VerificationStatus.CANCELLED
    assert ChangeRecord.objects.filter(action="eid_deactivate_death").count() == 1
    # The portal no longer lets the session in.
    assert client.get(reverse("identity:level2_request")).status_code == 302


def test_death_without_account_is_fine(world: World) -> None:
    record_death(
        world.commune_officer,
        person_id=world.person.pk,
        death_date=dt.date(2026, 1, 2),
        document_ref="KT-02",
    )
    assert not EidAccount.objects.exists()


# --- officer views ---------------------------------------------------------------------


def _account(world: World) -> EidAccount:
    return EidAccount.objects.get(person=world.person)


class _WithPendingRequest:
    """A level-1 account of ``world.person`` with a pending request, made before the
    access checks count writes."""

    @pytest.fixture(autouse=True)
    def _pending(self, world: World) -> None:
        level2.request_level2(make_account(world.person))


class TestQueueAccess(_WithPendingRequest, ViewAccessTests):
    def url(self, world: World) -> str:
        return reverse("identity:level2_queue")

    def check_outside(self, response: Any, world: World) -> None:
        # The queue answers, without requests of other communes.
        assert response.status_code == 200
        assert world.person.full_name not in response.content.decode()

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 200
        assert world.person.full_name in response.content.decode()


class TestVerifyPageAccess(_WithPendingRequest, ViewAccessTests):
    def url(self, world: World) -> str:
        return reverse("identity:level2_verify", args=[_account(world).pk])


class TestVerifyPostAccess(_WithPendingRequest, ViewAccessTests):
    method = "post"
    allowed_status = 302

    def url(self, world: World) -> str:
        return reverse("identity:level2_verify", args=[_account(world).pk])

    def data(self, world: World) -> dict[str, Any]:
        return {
            "card_number": world.person.id_number,
            "card_issue_date": ISSUED.isoformat(),
            "portrait": png_upload(),
            "attested": "on",
        }

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert _account(world).level == EidLevel.LEVEL2


class TestRejectAccess(_WithPendingRequest, ViewAccessTests):
    method = "post"
    allowed_status = 302

    def url(self, world: World) -> str:
        return reverse("identity:level2_reject", args=[Level2Verification.objects.get().pk])

    def data(self, world: World) -> dict[str, Any]:
        return {"reason": "Không đến"}

    def check_outside(self, response: Any, world: World) -> None:
        assert response.status_code == 404
        assert Level2Verification.objects.get().status == VerificationStatus.PENDING


def test_verify_form_shows_errors_in_vietnamese(
    client: Client, world: World, citizen: EidAccount
) -> None:
    client.force_login(world.commune_officer)
    url = reverse("identity:level2_verify", args=[citizen.pk])
    bad = SimpleUploadedFile("anh.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(
        url,
        {"card_number": "048090000999", "card_issue_date": "2024-08-01", "portrait": bad},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "không phải ảnh JPEG hoặc PNG" in body
    assert "Đánh dấu ô xác nhận" in body
    response = client.post(
        url,
        {
            "card_number": "048090000999",
            "card_issue_date": "2024-08-01",
            "portrait": png_upload(),
            "attested": "on",
        },
    )
    assert response.status_code == 200
    assert "không khớp với thẻ căn cước" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.level == EidLevel.LEVEL1


def test_walk_in_search_opens_the_form_or_says_not_found(
    client: Client, world: World, citizen: EidAccount
) -> None:
    client.force_login(world.commune_officer)
    url = reverse("identity:level2_queue")
    response = client.post(url, {"id_number": world.person.id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse("identity:level2_verify", args=[citizen.pk])
    make_account(world.far_person, phone="0911111111")
    response = client.post(url, {"id_number": world.far_person.id_number})
    assert response.status_code == 200
    assert "Không tìm thấy tài khoản" in response.content.decode()
    response = client.post(url, {"id_number": "abc"})
    assert response.status_code == 200


# --- the citizen's page ----------------------------------------------------------------


def test_citizen_asks_for_level2_and_cancels(
    client: Client, world: World, citizen: EidAccount
) -> None:
    portal_login(client, citizen)
    url = reverse("identity:level2_request")
    page = client.get(url)
    assert page.status_code == 200
    assert world.commune.name in page.content.decode()
    assert client.post(url).status_code == 302
    request = Level2Verification.objects.get(account=citizen)
    assert request.status == VerificationStatus.PENDING
    assert "đang chờ" in client.get(url).content.decode()
    client.post(url, {"cancel": str(request.pk)})
    request.refresh_from_db()
    assert request.status == VerificationStatus.CANCELLED
    response = client.post(url, {"cancel": "not-a-number"}, follow=True)
    assert response.status_code == 200


def test_citizen_page_needs_a_portal_session(client: Client, citizen: EidAccount) -> None:
    response = client.get(reverse("identity:level2_request"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:portal_login"))
    client.force_login(citizen.user)  # a provider session alone is not a portal session
    response = client.get(reverse("identity:level2_request"))
    assert response["Location"].startswith(reverse("identity:portal_login"))


def test_officer_navigation_links_the_queues(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    body = client.get(reverse("registry:search")).content.decode()
    assert f'href="{reverse("identity:level2_queue")}"' in body
    assert f'href="{reverse("identity:report_queue")}"' in body
    client.force_login(world.steward)  # stewards read and correct; they do not verify
    body = client.get(reverse("registry:search")).content.decode()
    assert f'href="{reverse("identity:level2_queue")}"' not in body
    assert f'href="{reverse("identity:report_queue")}"' in body


# --- correction requests (officer side) -------------------------------------------------


class _WithReport:
    @pytest.fixture(autouse=True)
    def _report(self, world: World) -> None:
        from congdan.identity.services.accounts import report_error

        report_error(make_account(world.person), ["full_name"], "Tên tôi viết sai dấu.")


def _report_id() -> int:
    return CorrectionRequest.objects.get().pk


class TestReportQueueAccess(_WithReport, ViewAccessTests):
    def url(self, world: World) -> str:
        return reverse("identity:report_queue")

    def check_outside(self, response: Any, world: World) -> None:
        assert response.status_code == 200
        assert world.person.full_name not in response.content.decode()

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 200
        body = response.content.decode()
        assert world.person.full_name in body
        assert "Họ, chữ đệm và tên" in body  # the field's label, not its code


class TestReportPageAccess(_WithReport, ViewAccessTests):
    def url(self, world: World) -> str:
        return reverse("identity:report_resolve", args=[_report_id()])


class TestReportResolveAccess(_WithReport, ViewAccessTests):
    method = "post"
    allowed_status = 302

    def url(self, world: World) -> str:
        return reverse("identity:report_resolve", args=[_report_id()])

    def data(self, world: World) -> dict[str, Any]:
        return {"accepted": "0", "resolution": "Thông tin trong Cơ sở dữ liệu đang đúng."}

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 302
        report = CorrectionRequest.objects.get()
        assert report.status == ReportStatus.REJECTED
        assert report.resolved_by == world.commune_officer


def test_resolving_needs_an_answer_and_happens_once(world: World) -> None:
    from congdan.identity.services.accounts import report_error

    report = report_error(make_account(world.person), ["birth_date"], "Sai ngày sinh.")
    with pytest.raises(ValidationFailed):
        level2.resolve_correction_request(
            world.commune_officer, report_id=report.pk, accepted=True, resolution=" "
        )
    with pytest.raises(NotFound):
        level2.resolve_correction_request(
            world.other_commune_officer, report_id=report.pk, accepted=True, resolution="x"
        )
    done = level2.resolve_correction_request(
        world.province_officer, report_id=report.pk, accepted=True, resolution="Đã sửa."
    )
    assert done.status == ReportStatus.RESOLVED
    with pytest.raises(NotFound):  # no longer open
        level2.resolve_correction_request(
            world.commune_officer, report_id=report.pk, accepted=False, resolution="x"
        )


# --- portraits: never public, officers within jurisdiction, the citizen's own ------------


def _with_portrait(account: EidAccount) -> EidAccount:
    from django.core.files.base import ContentFile

    account.portrait.save("p.jpg", ContentFile(jpeg_bytes()), save=True)
    return account


class TestPortraitAccess(ViewAccessTests):
    @pytest.fixture(autouse=True)
    def _account_with_portrait(self, world: World) -> None:
        _with_portrait(make_account(world.person))

    def url(self, world: World) -> str:
        return reverse("identity:level2_portrait", args=[_account(world).pk])

    def check_allowed(self, response: Any, world: World) -> None:
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == _account(world).portrait.read()
        assert AccessLogEntry.objects.filter(
            person=world.person, view="level2_portrait", actor=world.commune_officer
        ).exists()


def test_citizen_sees_own_portrait_only(client: Client, world: World) -> None:
    mine = _with_portrait(make_account(world.person))
    _with_portrait(make_account(world.neighbour, phone="0987654321"))
    portal_login(client, mine)
    response = client.get(reverse("identity:my_portrait"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == mine.portrait.read()
    assert "no-store" in response["Cache-Control"]
    assert (
        f'src="{reverse("identity:my_portrait")}"'
        in client.get(reverse("identity:me")).content.decode()
    )


def test_no_public_media_url(client: Client, world: World) -> None:
    account = _with_portrait(make_account(world.person))
    assert client.get("/media/" + account.portrait.name).status_code == 404


def test_queues_log_the_persons_they_show(client: Client, world: World) -> None:
    from congdan.identity.services.accounts import report_error

    account = make_account(world.person)
    level2.request_level2(account)
    report_error(account, ["full_name"], "Tên tôi viết sai dấu.")
    client.force_login(world.commune_officer)
    client.get(reverse("identity:level2_queue"))
    client.get(reverse("identity:report_queue"))
    logged = set(
        AccessLogEntry.objects.filter(person=world.person, actor=world.commune_officer).values_list(
            "view", flat=True
        )
    )
    assert {"level2_queue", "report_queue"} <= logged
    client.force_login(world.other_commune_officer)  # sees none of them: logs none
    client.get(reverse("identity:level2_queue"))
    assert not AccessLogEntry.objects.filter(actor=world.other_commune_officer).exists()

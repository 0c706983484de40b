"""The citizen's pages: registration input, reset, /me/, reports, security, TOTP, outbox."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from congdan.core.models import OutboxMessage, User
from congdan.identity.models import (
    AccountStatus,
    CorrectionRequest,
    EidAccount,
    OneTimeCode,
    UserSession,
)
from congdan.identity.portraits import MAX_BYTES, MAX_SIDE
from congdan.identity.services import accounts as svc
from tests.conftest import World
from tests.identity.account_helpers import full_login, image_bytes, last_code, totp_token
from tests.identity.helpers import PASSWORD, make_account, portal_login
from tests.identity.test_account_views_register import form_data

pytestmark = pytest.mark.usefixtures("sms_now")


def body(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]  # a test response


def nothing_written() -> tuple[int, int, int]:
    return EidAccount.objects.count(), User.objects.count(), OneTimeCode.objects.count()


# --- registration input ---------------------------------------------------------------


def test_register_page(client: Client) -> None:
    response = client.get(reverse("identity:register"))
    assert response.status_code == 200
    page = body(response)
    assert 'enctype="multipart/form-data"' in page
    assert 'accept="image/jpeg,image/png"' in page


def test_jpeg_portrait_is_accepted_and_reencoded(client: Client, world: World) -> None:
    portrait = SimpleUploadedFile("anh.jpeg", image_bytes(fmt="JPEG"), "image/jpeg")
    response = client.post(reverse("identity:register"), form_data(world, portrait=portrait))
    assert response.status_code == 302
    account = EidAccount.objects.get(person=world.person)
    with account.portrait.open("rb") as stored:
        assert stored.read(2) == b"\xff\xd8"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("anh.jpg", b"not an image at all" * 10, "image/jpeg"),
            "không phải ảnh",
        ),
        (SimpleUploadedFile("anh.gif", b"GIF89a" + b"\x00" * 100, "image/gif"), "không phải ảnh"),
        (
            SimpleUploadedFile("anh.png", image_bytes(MAX_SIDE + 1, 300), "image/png"),
            "quá lớn",
        ),
        (SimpleUploadedFile("anh.png", image_bytes(50, 50), "image/png"), "quá nhỏ"),
        (
            SimpleUploadedFile("anh.jpg", b"\xff\xd8" + b"\x00" * (MAX_BYTES + 10), "image/jpeg"),
            "2 MB",
        ),
    ],
)
def test_bad_portraits_are_refused_on_the_field(
    client: Client, world: World, upload: SimpleUploadedFile, message: str
) -> None:
    before = nothing_written()
    response = client.post(reverse("identity:register"), form_data(world, portrait=upload))
    assert response.status_code == 200
    page = body(response)
    assert 'role="alert"' in page
    assert message in page
    assert nothing_written() == before


def test_gif_disguised_with_png_content_type_is_refused(client: Client, world: World) -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 300)).save(out, format="GIF")
    upload = SimpleUploadedFile("anh.png", out.getvalue(), "image/png")
    response = client.post(reverse("identity:register"), form_data(world, portrait=upload))
    assert "không phải ảnh" in body(response)


def test_mismatch_shows_the_generic_message_only(client: Client, world: World) -> None:
    before = nothing_written()
    wrong_name = client.post(reverse("identity:register"), form_data(world, full_name="Ai Đó"))
    unknown = client.post(reverse("identity:register"), form_data(world, id_number="048090999999"))
    for response in (wrong_name, unknown):
        page = body(response)
        assert str(svc.MISMATCH) in page
        assert world.person.full_name not in page
    assert nothing_written() == before


def test_field_format_errors(client: Client, world: World) -> None:
    response = client.post(
        reverse("identity:register"),
        form_data(world, id_number="12ab", birth_date="31/02/1990", phone="abc", new_password2="x"),
    )
    page = body(response)
    assert "12 chữ số" in page
    assert "Ngày sinh không hợp lệ" in page
    assert "Hai mật khẩu không giống nhau" in page
    assert 'href="#id_id_number"' in page


def test_oversized_request_and_malformed_multipart_are_not_500(
    client: Client, world: World
) -> None:
    response = client.post(
        reverse("identity:register"),
        data=b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n',
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code < 500
    response = client.post(
        reverse("identity:register"),
        data=b"garbage",
        content_type="multipart/form-data",  # no boundary
    )
    assert response.status_code < 500
    response = client.post(reverse("identity:register"), {"full_name": "A" * 100_000})
    assert response.status_code == 200
    assert "150" in body(response)
    response = client.post(
        reverse("identity:register"),
        form_data(world),
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    assert response.status_code in (400, 413)


def test_verify_page_without_registration_redirects(client: Client) -> None:
    assert client.get(reverse("identity:register_verify"))["Location"] == reverse(
        "identity:register"
    )


def test_verify_page_wrong_code_and_resend_cooldown(client: Client, world: World) -> None:
    client.post(reverse("identity:register"), form_data(world))
    url = reverse("identity:register_verify")
    right = last_code("0912345678")
    response = client.post(url, {"code": "000000" if right != "000000" else "111111"})
    assert str(svc.CODE_WRONG) in body(response)
    response = client.post(url, {"resend": "1"}, follow=True)
    assert "Vui lòng chờ" in body(response)
    assert client.post(url, {"code": right}).status_code == 302


# --- password reset -----------------------------------------------------------------------


def test_password_reset_flow_logs_the_other_browser_out(
    client: Client, citizen: EidAccount
) -> None:
    other = Client()
    full_login(other, citizen)
    assert other.session.get("_auth_user_id")
    client.post(reverse("identity:password_reset"), {"id_number": citizen.user.username})
    response = client.post(
        reverse("identity:password_reset_verify"),
        {
            "code": last_code(citizen.phone),
            "new_password1": "Mot-mat-khau-moi-2026",
            "new_password2": "Mot-mat-khau-moi-2026",
        },
    )
    assert response["Location"] == reverse("identity:login")
    portal_login(Client(), citizen)  # sanity: the account still works
    response = other.get(reverse("identity:security"))
    assert response.status_code == 302
    assert "_auth_user_id" not in other.session


def test_password_reset_is_neutral(client: Client, citizen: EidAccount) -> None:
    sent_before = OutboxMessage.objects.count()
    known = client.post(reverse("identity:password_reset"), {"id_number": citizen.user.username})
    unknown = Client().post(reverse("identity:password_reset"), {"id_number": "048090999999"})
    assert known["Location"] == unknown["Location"] == reverse("identity:password_reset_verify")
    assert OutboxMessage.objects.count() == sent_before + 1
    page_known = body(client.get(reverse("identity:password_reset_verify")))
    assert "Nếu số định danh có tài khoản" in page_known


# --- /me/ -----------------------------------------------------------------------------


def test_me_anonymous_and_officer_are_sent_to_login(client: Client, world: World) -> None:
    response = client.get(reverse("identity:me"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:portal_login"))
    client.force_login(world.commune_officer)
    assert client.get(reverse("identity:me")).status_code == 302


def test_me_shows_the_citizens_own_data(client: Client, world: World, citizen: EidAccount) -> None:
    portal_login(client, citizen)
    response = client.get(reverse("identity:me"))
    assert response.status_code == 200
    page = body(response)
    assert world.person.full_name in page
    assert world.person.id_number in page
    assert "Nâng lên mức độ 2" in page
    assert "Thông tin của tôi" in page  # citizen navigation
    assert world.neighbour.full_name not in page


def test_report_error_and_confirmation(client: Client, world: World, citizen: EidAccount) -> None:
    portal_login(client, citizen)
    assert client.get(reverse("identity:report_error")).status_code == 200
    response = client.post(
        reverse("identity:report_error"),
        {"wrong_fields": ["full_name"], "message": "Tên đúng là Nguyễn Văn Ân"},
    )
    report = CorrectionRequest.objects.get()
    assert response["Location"] == reverse("identity:report_error_sent", args=[report.pk])
    assert "Đã gửi phản ánh" in body(client.get(response["Location"]))
    other = portal_login(Client(), make_account(world.neighbour))
    assert other.get(response["Location"]).status_code == 404
    bad = client.post(reverse("identity:report_error"), {"wrong_fields": ["nope"], "message": ""})
    assert bad.status_code == 200 and 'role="alert"' in body(bad)
    assert CorrectionRequest.objects.count() == 1


# --- security -------------------------------------------------------------------------


def test_security_page_lists_sessions_and_history(client: Client, citizen: EidAccount) -> None:
    full_login(client, citizen)
    portal_login(client, citizen)
    response = client.get(reverse("identity:security"))
    assert response.status_code == 200
    page = body(response)
    assert "Phiên này" in page
    assert "Thành công" in page


def test_revoke_logs_the_other_client_out(client: Client, citizen: EidAccount) -> None:
    other = Client()
    full_login(other, citizen)
    other_session = UserSession.objects.get(session_key=other.session.session_key)
    full_login(client, citizen)
    portal_login(client, citizen)
    response = client.post(reverse("identity:revoke_session", args=[other_session.pk]))
    assert response["Location"] == reverse("identity:security")
    other.get("/")
    assert "_auth_user_id" not in other.session
    assert client.get(reverse("identity:security")).status_code == 200


def test_revoke_someone_elses_session_is_404(
    client: Client, world: World, citizen: EidAccount
) -> None:
    neighbour = make_account(world.neighbour)
    other = Client()
    full_login(other, neighbour)
    theirs = UserSession.objects.get(user=neighbour.user)
    portal_login(client, citizen)
    assert client.post(reverse("identity:revoke_session", args=[theirs.pk])).status_code == 404
    assert UserSession.objects.get(pk=theirs.pk).ended_at is None


def test_lock_own_account_from_the_page(client: Client, citizen: EidAccount) -> None:
    full_login(client, citizen)
    portal_login(client, citizen)
    response = client.post(reverse("identity:lock_account"))
    assert response["Location"] == reverse("portal:home")
    citizen.refresh_from_db()
    assert citizen.status == AccountStatus.LOCKED
    assert "_auth_user_id" not in client.session


def test_change_password_page(client: Client, citizen: EidAccount) -> None:
    portal_login(client, citizen)
    bad = client.post(
        reverse("identity:change_password"),
        {
            "current_password": "x",
            "new_password1": "Mot-mat-khau-moi-2026",
            "new_password2": "Mot-mat-khau-moi-2026",
        },
    )
    assert bad.status_code == 400 and "Mật khẩu hiện tại không đúng" in body(bad)
    good = client.post(
        reverse("identity:change_password"),
        {
            "current_password": PASSWORD,
            "new_password1": "Mot-mat-khau-moi-2026",
            "new_password2": "Mot-mat-khau-moi-2026",
        },
    )
    assert good["Location"] == reverse("identity:security")
    assert client.get(reverse("identity:security")).status_code == 200  # still logged in


def test_totp_setup_page(client: Client, citizen: EidAccount, settings: object) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # type: ignore[attr-defined]  # no retry delay in tests
    portal_login(client, citizen)
    url = reverse("identity:totp_setup")
    assert "Bắt đầu thiết lập" in body(client.get(url))
    assert client.post(url, {"action": "start"})["Location"] == url
    page = body(client.get(url))
    assert "<svg" in page and 'class="mono secret"' in page
    device = svc.pending_totp_device(citizen)
    bad = client.post(url, {"action": "confirm", "token": "abc"})
    assert bad.status_code == 400
    response = client.post(url, {"action": "confirm", "token": totp_token(device)})
    assert response["Location"] == reverse("identity:security")
    assert svc.totp_device(citizen) is not None
    response = client.post(url, {"action": "remove", "password": PASSWORD})
    assert svc.totp_device(citizen) is None


def test_security_pages_need_a_citizen(client: Client, world: World) -> None:
    for name in ("identity:security", "identity:totp_setup", "identity:report_error"):
        assert client.get(reverse(name)).status_code == 302
    client.force_login(world.commune_officer)
    for name in ("identity:security", "identity:totp_setup"):
        assert client.get(reverse(name)).status_code == 302
    assert client.post(reverse("identity:lock_account")).status_code == 302


# --- home and outbox --------------------------------------------------------------------


def test_home_for_visitors_and_citizens(client: Client, world: World, citizen: EidAccount) -> None:
    page = body(client.get(reverse("portal:home")))
    assert reverse("identity:register") in page and reverse("identity:login") in page
    portal_login(client, citizen)
    assert client.get(reverse("portal:home"))["Location"] == reverse("identity:me")


def test_outbox_visible_with_debug_only(
    client: Client, citizen: EidAccount, settings: object
) -> None:
    client.post(reverse("identity:password_reset"), {"id_number": citizen.user.username})
    response = client.get(reverse("dev_outbox"), {"to": citizen.phone})
    assert response.status_code == 200
    assert last_code(citizen.phone) in body(response)
    settings.CONGDAN_OUTBOX_VISIBLE = False  # type: ignore[attr-defined]
    assert client.get(reverse("dev_outbox")).status_code == 404

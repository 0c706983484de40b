"""Login: password step (axes per account, IP throttle, one error), second factor."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from congdan.identity.middleware import SESSION_MARK
from congdan.identity.models import AccountStatus, EidAccount, LoginEvent, LoginOutcome, UserSession
from congdan.identity.services import accounts as svc
from tests.conftest import World
from tests.identity.account_helpers import full_login, last_code, totp_token
from tests.identity.helpers import PASSWORD

pytestmark = pytest.mark.usefixtures("sms_now")
LOGIN = reverse("identity:login")
VERIFY = reverse("identity:login_verify")


def post_password(client: Client, username: str, password: str, **extra: str) -> object:
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def error_text(response: object) -> str:
    body = response.content.decode()  # type: ignore[attr-defined]  # a test response
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'value="[^"]*"', "", body)


def test_login_page_renders(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'autocomplete="current-password"' in response.content.decode()


def test_unknown_number_and_wrong_password_look_the_same(
    client: Client, world: World, citizen: EidAccount
) -> None:
    wrong = post_password(client, citizen.user.username, "wrong-password")
    unknown = post_password(Client(), "048090999999", "wrong-password")
    officer = post_password(Client(), world.commune_officer.username, "wrong-password")
    assert wrong.status_code == unknown.status_code == officer.status_code == 400  # type: ignore[attr-defined]
    assert str(svc.LOGIN_FAILED) in wrong.content.decode()  # type: ignore[attr-defined]
    assert error_text(wrong).replace(citizen.user.username, "X") == error_text(unknown).replace(
        "048090999999", "X"
    )
    assert (
        LoginEvent.objects.filter(account=citizen, outcome=LoginOutcome.BAD_PASSWORD).count() == 1
    )


def test_officer_with_the_right_password_gets_the_generic_error(
    client: Client, world: World
) -> None:
    from tests.factories import PASSWORD as OFFICER_PASSWORD

    response = post_password(client, world.commune_officer.username, OFFICER_PASSWORD)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert str(svc.LOGIN_FAILED) in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_axes_locks_the_account_after_the_limit(client: Client, citizen: EidAccount) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_password(client, citizen.user.username, "wrong-password")
    response = post_password(client, citizen.user.username, PASSWORD)
    assert response.status_code == 429  # type: ignore[attr-defined]
    # Per account: another IP is refused as well, another account is not.
    other_ip = post_password(Client(), citizen.user.username, PASSWORD, REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code == 429  # type: ignore[attr-defined]


def test_ip_throttle_counts_failures_across_accounts(
    client: Client, citizen: EidAccount, settings: object
) -> None:
    settings.CONGDAN_AXES_IP_FAILURE_LIMIT = 3  # type: ignore[attr-defined]
    for n in range(3):
        post_password(client, f"04809000000{n}", "wrong-password")
    response = post_password(client, citizen.user.username, PASSWORD)
    assert response.status_code == 429  # type: ignore[attr-defined]
    fresh = post_password(Client(), citizen.user.username, PASSWORD, REMOTE_ADDR="10.1.1.1")
    assert fresh.status_code == 302  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [AccountStatus.LOCKED, AccountStatus.SUSPENDED])
def test_unusable_account_is_told_only_after_the_right_password(
    client: Client, citizen: EidAccount, status: str
) -> None:
    EidAccount.objects.filter(pk=citizen.pk).update(status=status)
    wrong = post_password(client, citizen.user.username, "wrong-password")
    assert str(svc.LOGIN_FAILED) in wrong.content.decode()  # type: ignore[attr-defined]
    right = post_password(client, citizen.user.username, PASSWORD)
    assert str(svc.STATUS_MESSAGES[status])[:20] in right.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_sms_second_factor_logs_in_and_tracks_the_session(
    client: Client, citizen: EidAccount
) -> None:
    response = post_password(
        client, citizen.user.username, PASSWORD, HTTP_USER_AGENT="Thử nghiệm/1.0"
    )
    assert response["Location"] == VERIFY  # type: ignore[index]
    assert "_auth_user_id" not in client.session  # not before the second factor
    response = client.post(
        VERIFY + "", {"code": last_code(citizen.phone)}, HTTP_USER_AGENT="Thử nghiệm/1.0"
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/login/"
    session = client.session
    assert session["_auth_user_id"] == str(citizen.user.pk)
    assert session["eid_auth"]["amr"] == ["pwd", "sms"]
    assert session["eid_auth"]["level"] == 1
    assert session[SESSION_MARK] is True
    tracked = UserSession.objects.get(session_key=session.session_key)
    assert tracked.user_agent == "Thử nghiệm/1.0"
    assert tracked.ip == "127.0.0.1"
    assert LoginEvent.objects.filter(account=citizen, outcome=LoginOutcome.SUCCESS).exists()


def test_next_is_kept_same_site_only(client: Client, citizen: EidAccount) -> None:
    client.post(
        LOGIN + "?next=/o/authorize/%3Fclient_id%3Dx",
        {"username": citizen.user.username, "password": PASSWORD},
    )
    response = client.post(VERIFY, {"code": last_code(citizen.phone)})
    assert response["Location"] == "/o/authorize/?client_id=x"
    other = Client()
    other.post(
        LOGIN,
        {"username": citizen.user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    from congdan.identity.models import OneTimeCode

    OneTimeCode.objects.update(created_at="2000-01-01T00:00:00Z")
    other.post(VERIFY, {"use_sms": "1"})
    response = other.post(VERIFY, {"code": last_code(citizen.phone)})
    assert response["Location"] == "/me/login/"


def test_bad_codes_count_and_restart_the_login(client: Client, citizen: EidAccount) -> None:
    post_password(client, citizen.user.username, PASSWORD)
    right = last_code(citizen.phone)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(svc.LOGIN_CODE_LIMIT - 1):
        response = client.post(VERIFY, {"code": wrong})
        assert response.status_code == 200
        assert (
            str(svc.CODE_WRONG) in response.content.decode()
            or "quá nhiều" in response.content.decode()
        )
    response = client.post(VERIFY, {"code": wrong})
    # Wrong codes are failures for django-axes too: with the default limits the fifth
    # one also locks the account out (429); either way the step is gone.
    assert response.status_code in (302, 429)
    assert client.get(VERIFY)["Location"] == LOGIN
    assert post_password(client, citizen.user.username, PASSWORD).status_code == 429  # type: ignore[attr-defined]
    assert (
        LoginEvent.objects.filter(account=citizen, outcome=LoginOutcome.BAD_CODE).count()
        == svc.LOGIN_CODE_LIMIT
    )
    assert "_auth_user_id" not in client.session


def test_totp_login(client: Client, citizen: EidAccount, settings: object) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # type: ignore[attr-defined]  # no retry delay in tests
    device = svc.start_totp_setup(citizen)
    svc.confirm_totp(citizen, totp_token(device))
    device.refresh_from_db()
    device.last_t = -1  # let the same time step be used again for the login
    device.save()
    post_password(client, citizen.user.username, PASSWORD)
    page = client.get(VERIFY).content.decode()
    assert "ứng dụng xác thực" in page and "Gửi mã qua SMS" in page
    response = client.post(VERIFY, {"code": totp_token(device)})
    assert response.status_code == 302
    session = client.session
    assert session["eid_auth"]["amr"] == ["pwd", "otp"]
    assert session["otp_device_id"] == device.persistent_id


def test_totp_user_may_ask_for_sms(client: Client, citizen: EidAccount) -> None:
    device = svc.start_totp_setup(citizen)
    svc.confirm_totp(citizen, totp_token(device))
    post_password(client, citizen.user.username, PASSWORD)
    client.post(VERIFY, {"use_sms": "1"})
    response = client.post(VERIFY, {"code": last_code(citizen.phone)})
    assert response.status_code == 302
    assert client.session["eid_auth"]["amr"] == ["pwd", "sms"]


def test_verify_without_password_step_goes_back(client: Client) -> None:
    assert client.get(VERIFY)["Location"] == LOGIN
    assert client.post(VERIFY, {"code": "123456"})["Location"] == LOGIN


def test_non_digit_and_huge_input_is_not_a_500(client: Client, citizen: EidAccount) -> None:
    response = post_password(client, "abc<script>", "x" * 5000)
    assert response.status_code in (200, 400)  # type: ignore[attr-defined]
    post_password(client, citizen.user.username, PASSWORD)
    response = client.post(VERIFY, {"code": "abcdef"})
    assert response.status_code == 200


def test_full_login_helper(client: Client, citizen: EidAccount) -> None:
    full_login(client, citizen)
    assert client.session["_auth_user_id"] == str(citizen.user.pk)

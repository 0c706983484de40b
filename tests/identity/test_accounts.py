"""Services of identity.services.accounts: registration, codes, reset, security, admin."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import OutboxMessage, User
from congdan.identity import otp
from congdan.identity.models import (
    AccountStatus,
    CorrectionRequest,
    EidAccount,
    OneTimeCode,
    UserSession,
)
from congdan.identity.services import accounts as svc
from congdan.registry.models import DatePrecision, VitalStatus
from tests import factories
from tests.conftest import World
from tests.identity.account_helpers import last_code, totp_token
from tests.identity.helpers import PASSWORD, make_account

pytestmark = pytest.mark.usefixtures("sms_now")
JPEG = b"\xff\xd8fake-jpeg-bytes"  # the service trusts identity.portraits for this


def registration(world: World, **overrides: object) -> svc.Registration:
    values: dict[str, object] = {
        "id_number": world.person.id_number,
        "full_name": "NGUYEN VAN AN",
        "birth_date": dt.date(1990, 5, 17),
        "birth_precision": DatePrecision.DAY,
        "phone": "+84912345678",
        "password": PASSWORD,
        "portrait_jpeg": JPEG,
    }
    values.update(overrides)
    return svc.Registration(**values)  # type: ignore[arg-type]  # test data


def counts() -> tuple[int, int, int, int, int]:
    return (
        EidAccount.objects.count(),
        User.objects.count(),
        OneTimeCode.objects.count(),
        ChangeRecord.objects.count(),
        OutboxMessage.objects.count(),
    )


# --- registration ---------------------------------------------------------------------


def test_start_registration_makes_a_pending_account_and_sends_a_code(world: World) -> None:
    account = svc.start_registration(registration(world))
    assert account.status == AccountStatus.PENDING
    assert account.phone == "0912345678"
    assert account.user.username == world.person.id_number
    assert account.user.first_name == world.person.full_name
    assert account.user.check_password(PASSWORD)
    assert account.user.role == ""
    assert account.portrait.name.startswith("portraits/")
    code = OneTimeCode.objects.get(account=account)
    assert len(code.code_hash) == 64
    sent = last_code("0912345678")
    assert sent not in code.code_hash  # only the HMAC is stored
    record = ChangeRecord.objects.get(action="eid_register")
    assert PASSWORD not in str(record.changes) and sent not in str(record.changes)


def test_sms_goes_out_only_on_commit(
    world: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: object
) -> None:
    from congdan.core.notify import send_sms

    monkeypatch.setattr(
        svc,
        "_sms_on_commit",
        lambda phone, body: svc.transaction.on_commit(lambda: send_sms(phone, body)),
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]  # pytest-django fixture
        svc.start_registration(registration(world))
        assert not OutboxMessage.objects.exists()
    assert callbacks
    assert OutboxMessage.objects.filter(recipient="0912345678").count() == 1


def test_verify_registration_activates(world: World) -> None:
    account = svc.start_registration(registration(world))
    svc.verify_registration(account.pk, last_code("0912345678"))
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.phone_verified_at and account.activated_at
    assert ChangeRecord.objects.filter(action="eid_activate").exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"full_name": "Nguyễn Văn Bình"},
        {"birth_date": dt.date(1990, 5, 18)},
        {"birth_date": dt.date(1990, 1, 1), "birth_precision": DatePrecision.YEAR},
        {"id_number": "048090000000"},  # well formed, not in the registry
    ],
)
def test_mismatch_is_one_generic_refusal_and_writes_nothing(
    world: World, overrides: dict[str, object]
) -> None:
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        svc.start_registration(registration(world, **overrides))
    assert caught.value.code == "registry_mismatch"
    assert caught.value.field is None
    assert str(caught.value.message) == str(svc.MISMATCH)
    assert counts() == before


def test_deceased_person_gets_the_same_refusal(world: World) -> None:
    world.person.vital_status = VitalStatus.DECEASED
    world.person.death_date = dt.date(2024, 1, 1)
    world.person.save()
    with pytest.raises(ValidationFailed) as caught:
        svc.start_registration(registration(world))
    assert str(caught.value.message) == str(svc.MISMATCH)
    assert not EidAccount.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "04809abc"}, "id_number"),
        ({"phone": "12345"}, "phone"),
        ({"password": "123"}, "password"),
        ({"full_name": "   "}, "full_name"),
        ({"portrait_jpeg": b""}, "portrait"),
    ],
)
def test_format_problems_name_the_field(
    world: World, overrides: dict[str, object], field: str
) -> None:
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        svc.start_registration(registration(world, **overrides))
    assert caught.value.field == field
    assert counts() == before


def test_birth_date_with_month_precision_matches_on_what_is_known(world: World) -> None:
    person = factories.make_person(
        world.commune,
        full_name="Hoàng Thị Dung",
        birth_date=dt.date(1970, 3, 1),
        sex="F",
        birth_date_precision=DatePrecision.MONTH,
    )
    assert svc.birth_date_matches(person, dt.date(1970, 3, 25), DatePrecision.DAY)
    assert svc.birth_date_matches(person, dt.date(1970, 3, 1), DatePrecision.MONTH)
    assert not svc.birth_date_matches(person, dt.date(1970, 4, 1), DatePrecision.MONTH)
    assert not svc.birth_date_matches(person, dt.date(1970, 1, 1), DatePrecision.YEAR)
    account = svc.start_registration(
        registration(
            world,
            id_number=person.id_number,
            full_name="hoang thi dung",
            birth_date=dt.date(1970, 3, 9),
        )
    )
    assert account.person == person


def test_active_account_gets_a_neutral_refusal(world: World, citizen: EidAccount) -> None:
    before = counts()
    with pytest.raises(Conflict) as caught:
        svc.start_registration(registration(world))
    assert caught.value.code == "account_exists"
    assert counts() == before


def test_new_attempt_replaces_an_abandoned_pending_account(world: World) -> None:
    first = svc.start_registration(registration(world))
    second = svc.start_registration(registration(world, phone="0987654321"))
    assert EidAccount.objects.filter(person=world.person).count() == 1
    assert not EidAccount.objects.filter(pk=first.pk).exists()
    assert second.phone == "0987654321"
    assert User.objects.filter(username=world.person.id_number).count() == 1


def test_code_wrong_then_attempts_cap(world: World) -> None:
    account = svc.start_registration(registration(world))
    right = last_code("0912345678")
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(otp.MAX_ATTEMPTS - 1):
        with pytest.raises(ValidationFailed) as caught:
            svc.verify_registration(account.pk, wrong)
        assert caught.value.code == "code_invalid"
    with pytest.raises(ValidationFailed) as caught:
        svc.verify_registration(account.pk, wrong)
    assert caught.value.code == "code_attempts"
    assert OneTimeCode.objects.get(account=account).attempts == otp.MAX_ATTEMPTS
    with pytest.raises(ValidationFailed) as caught:
        svc.verify_registration(account.pk, right)  # even the right code: too late
    assert caught.value.code == "code_attempts"
    account.refresh_from_db()
    assert account.status == AccountStatus.PENDING


def test_expired_code_is_refused(world: World) -> None:
    account = svc.start_registration(registration(world))
    OneTimeCode.objects.filter(account=account).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ValidationFailed) as caught:
        svc.verify_registration(account.pk, last_code("0912345678"))
    assert caught.value.code == "code_expired"


def test_resend_cooldown_and_hourly_cap(world: World) -> None:
    account = svc.start_registration(registration(world))
    with pytest.raises(Conflict) as caught:
        svc.resend_registration_code(account.pk)
    assert caught.value.code == "code_cooldown"
    old = last_code("0912345678")
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    svc.resend_registration_code(account.pk)
    new = last_code("0912345678")
    if new != old:  # the previous code stops working
        with pytest.raises(ValidationFailed):
            svc.verify_registration(account.pk, old)
    for _ in range(otp.HOURLY_CAP - 2):
        OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
        svc.resend_registration_code(account.pk)
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    with pytest.raises(Conflict) as caught:
        svc.resend_registration_code(account.pk)
    assert caught.value.code == "code_hourly_cap"


def test_purge_stale_pending(world: World, citizen: EidAccount) -> None:
    pending = svc.start_registration(
        registration(
            world,
            id_number=world.neighbour.id_number,
            full_name=world.neighbour.full_name,
            birth_date=world.neighbour.birth_date,
        )
    )
    assert svc.purge_stale_pending() == 0
    EidAccount.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=25))
    call_command("identity_purge")
    assert not EidAccount.objects.filter(pk=pending.pk).exists()
    assert not User.objects.filter(username=world.neighbour.id_number).exists()
    assert EidAccount.objects.filter(pk=citizen.pk).exists()  # active ones stay
    with pytest.raises(NotFound):
        svc.verify_registration(pending.pk, "123456")


# --- password reset -----------------------------------------------------------------------


def _session_for(user: User) -> str:
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    UserSession.objects.create(user=user, session_key=store.session_key)
    return str(store.session_key)


def test_password_reset_sets_the_password_and_ends_sessions(citizen: EidAccount) -> None:
    key = _session_for(citizen.user)
    svc.start_password_reset(citizen.user.username)
    svc.complete_password_reset(
        citizen.user.username, last_code(citizen.phone), "Mot-mat-khau-moi-2026"
    )
    citizen.user.refresh_from_db()
    assert citizen.user.check_password("Mot-mat-khau-moi-2026")
    assert not Session.objects.filter(session_key=key).exists()
    assert UserSession.objects.get(session_key=key).ended_at is not None
    record = ChangeRecord.objects.get(action="eid_password_reset")
    assert "Mot-mat-khau" not in str(record.changes)


def test_password_reset_is_neutral_for_unknown_numbers(world: World, citizen: EidAccount) -> None:
    before = counts()
    svc.start_password_reset("048090999999")
    svc.start_password_reset("not-a-number")
    assert counts() == before
    with pytest.raises(ValidationFailed) as unknown:
        svc.complete_password_reset("048090999999", "123456", "Mot-mat-khau-moi-2026")
    svc.start_password_reset(citizen.user.username)
    OneTimeCode.objects.update(expires_at=timezone.now())
    with pytest.raises(ValidationFailed) as expired:
        svc.complete_password_reset(citizen.user.username, "123456", "Mot-mat-khau-moi-2026")
    assert str(unknown.value.message) == str(expired.value.message)


def test_password_reset_unlocks_a_self_locked_account(citizen: EidAccount) -> None:
    svc.lock_own_account(citizen)
    citizen.refresh_from_db()
    assert citizen.status == AccountStatus.LOCKED
    svc.start_password_reset(citizen.user.username)
    svc.complete_password_reset(
        citizen.user.username, last_code(citizen.phone), "Mot-mat-khau-moi-2026"
    )
    citizen.refresh_from_db()
    assert citizen.status == AccountStatus.ACTIVE


def test_password_reset_does_not_lift_an_admin_lock(world: World, citizen: EidAccount) -> None:
    svc.set_account_status(world.admin, citizen.pk, AccountStatus.LOCKED, "Nghi ngờ gian lận")
    svc.start_password_reset(citizen.user.username)
    svc.complete_password_reset(
        citizen.user.username, last_code(citizen.phone), "Mot-mat-khau-moi-2026"
    )
    citizen.refresh_from_db()
    assert citizen.status == AccountStatus.LOCKED


def test_weak_new_password_is_refused_first(citizen: EidAccount) -> None:
    with pytest.raises(ValidationFailed) as caught:
        svc.complete_password_reset(citizen.user.username, "123456", "1234")
    assert caught.value.field == "new_password1"


# --- security -----------------------------------------------------------------------------


def test_lock_own_account_ends_everything(citizen: EidAccount) -> None:
    key = _session_for(citizen.user)
    svc.lock_own_account(citizen)
    citizen.refresh_from_db()
    assert (citizen.status, citizen.status_reason) == (AccountStatus.LOCKED, svc.SELF_LOCK_REASON)
    assert not Session.objects.filter(session_key=key).exists()
    with pytest.raises(Conflict):
        svc.lock_own_account(citizen)


def test_change_password_needs_the_current_one(citizen: EidAccount) -> None:
    keep = _session_for(citizen.user)
    other = _session_for(citizen.user)
    with pytest.raises(ValidationFailed) as caught:
        svc.change_password(
            citizen, current="wrong", new="Mot-mat-khau-moi-2026", keep_session_key=keep
        )
    assert caught.value.field == "current_password"
    svc.change_password(
        citizen, current=PASSWORD, new="Mot-mat-khau-moi-2026", keep_session_key=keep
    )
    citizen.user.refresh_from_db()
    assert citizen.user.check_password("Mot-mat-khau-moi-2026")
    assert Session.objects.filter(session_key=keep).exists()
    assert not Session.objects.filter(session_key=other).exists()


def test_revoke_session_only_ones_own(world: World, citizen: EidAccount) -> None:
    key = _session_for(citizen.user)
    tracked = UserSession.objects.get(session_key=key)
    other = make_account(world.neighbour)
    with pytest.raises(NotFound):
        svc.revoke_session(other, tracked.pk)
    svc.revoke_session(citizen, tracked.pk)
    assert not Session.objects.filter(session_key=key).exists()
    with pytest.raises(NotFound):
        svc.revoke_session(citizen, tracked.pk)


def test_totp_setup_confirm_and_remove(citizen: EidAccount, settings: object) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # type: ignore[attr-defined]  # django-otp delays retries
    device = svc.start_totp_setup(citizen)
    assert not device.confirmed
    with pytest.raises(ValidationFailed):
        svc.confirm_totp(citizen, "000000" if totp_token(device) != "000000" else "111111")
    svc.confirm_totp(citizen, totp_token(device))
    assert svc.totp_device(citizen) is not None
    with pytest.raises(Conflict):
        svc.start_totp_setup(citizen)
    with pytest.raises(ValidationFailed):
        svc.remove_totp(citizen, "wrong")
    svc.remove_totp(citizen, PASSWORD)
    assert not TOTPDevice.objects.filter(user=citizen.user).exists()


def test_set_account_status_needs_the_permission(world: World, citizen: EidAccount) -> None:
    with pytest.raises(PermissionDenied):
        svc.set_account_status(world.commune_officer, citizen.pk, AccountStatus.SUSPENDED, "x")
    with pytest.raises(ValidationFailed):
        svc.set_account_status(world.admin, citizen.pk, AccountStatus.SUSPENDED, "")
    with pytest.raises(ValidationFailed):
        svc.set_account_status(world.admin, citizen.pk, AccountStatus.DEACTIVATED, "chết")
    svc.set_account_status(world.admin, citizen.pk, AccountStatus.SUSPENDED, "Yêu cầu của cơ quan")
    citizen.refresh_from_db()
    assert citizen.status == AccountStatus.SUSPENDED
    record = ChangeRecord.objects.get(action="eid_status")
    assert record.actor == world.admin
    svc.set_account_status(world.admin, citizen.pk, AccountStatus.ACTIVE, "")
    citizen.refresh_from_db()
    assert citizen.status == AccountStatus.ACTIVE
    with pytest.raises(NotFound):
        svc.set_account_status(world.admin, 999999, AccountStatus.ACTIVE, "")


def test_report_error(world: World, citizen: EidAccount) -> None:
    report = svc.report_error(citizen, ["full_name", "birth_date"], "Tên đúng là Nguyễn Văn Ân")
    assert report.commune == world.commune
    assert report.person == world.person
    assert report.fields == ["full_name", "birth_date"]
    for fields, message, field in [
        ([], "Tên đúng là Nguyễn Văn Ân", "fields"),
        (["password"], "Tên đúng là Nguyễn Văn Ân", "fields"),
        (["full_name"], "ngắn", "message"),
        (["full_name"], "x" * 2001, "message"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            svc.report_error(citizen, fields, message)
        assert caught.value.field == field
    for _ in range(svc.MAX_OPEN_REPORTS - 1):
        svc.report_error(citizen, ["other"], "Một phản ánh khác nữa")
    with pytest.raises(Conflict):
        svc.report_error(citizen, ["other"], "Một phản ánh khác nữa")
    assert CorrectionRequest.objects.count() == svc.MAX_OPEN_REPORTS

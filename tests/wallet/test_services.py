"""Issuing, verifying and revoking wallet documents; who sees them; who is told."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import AgencyKind, OutboxMessage
from congdan.core.permissions import Role
from congdan.registry.models import Person
from congdan.wallet import jose, selectors, services
from congdan.wallet import keys as wallet_keys
from congdan.wallet.models import Document, DocumentStatus, IssuerKey
from tests import factories
from tests.identity.helpers import make_account
from tests.wallet.conftest import FATHER_PHONE, Family, issue

if TYPE_CHECKING:
    from tests.conftest import World

TODAY = timezone.localdate()


def _sms() -> list[tuple[str, str]]:
    return list(
        OutboxMessage.objects.filter(channel="sms").order_by("id").values_list("recipient", "body")
    )


# --- issue ----------------------------------------------------------------------------


def test_issue_document(family: Family, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        document = issue(family, valid_until=TODAY + dt.timedelta(days=365))
    document = Document.objects.get(pk=document.pk)
    assert re.fullmatch(rf"{family.agency.code}-birth_certificate-[0-9A-F]{{12}}", document.number)
    assert document.holder == family.child
    assert document.issuer == family.agency
    assert document.issued_by == family.officer
    assert document.status == DocumentStatus.VALID
    assert document.source_ref == "HS-2026-000123"
    # Dates in the fields are stored (and signed) as ISO strings.
    assert document.data["birth_date"] == family.child.birth_date.isoformat()
    verdict = selectors.verify_document(document)
    assert verdict is not None and verdict.valid, verdict
    assert verdict.claims["full_name"] == family.child.full_name
    assert ChangeRecord.objects.filter(
        action="issue_document", object_id=document.pk, person_id=family.child.pk
    ).exists()
    # The child has no e-ID account: the father, who has one, is told (the mother has none).
    assert len(_sms()) == 1
    phone, body = _sms()[0]
    assert phone == FATHER_PHONE
    assert document.number in body and "Giấy khai sinh" in body


def test_the_holder_with_an_account_is_told(
    family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issue(family, holder=family.father)
    assert [phone for phone, _body in _sms()] == [FATHER_PHONE]


def test_both_parents_with_accounts_are_told(
    family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    make_account(family.mother, phone="0987000003")
    with django_capture_on_commit_callbacks(execute=True):
        issue(family)
    assert sorted(phone for phone, _body in _sms()) == ["0912000001", "0987000003"]


def test_an_adult_without_account_is_not_told_nor_are_parents(
    world: World, family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    adult_child = factories.make_person(
        world.commune,
        full_name="Nguyễn Văn Lớn",
        birth_date=dt.date(2000, 1, 1),
        father=family.father,
    )
    with django_capture_on_commit_callbacks(execute=True):
        issue(family, holder=adult_child)
    assert _sms() == []


class RollbackError(Exception):
    """Raised inside an outer transaction to roll it back."""


def test_issue_joins_the_callers_transaction(
    family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    def approve_then_fail() -> None:
        with transaction.atomic():
            issue(family)
            raise RollbackError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RollbackError),
    ):
        approve_then_fail()
    assert callbacks == []
    assert not Document.objects.exists()
    assert _sms() == []


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"doc_type": "Birth-Certificate"}, "invalid_doc_type", "doc_type"),
        ({"doc_type": ""}, "invalid_doc_type", "doc_type"),
        ({"title_vi": " "}, "required", "title_vi"),
        ({"title_en": ""}, "required", "title_en"),
        ({"data": ["not", "fields"]}, "invalid_data", "data"),
        ({"data": {"x": object()}}, "invalid_data", "data"),
        ({"data": {"x": float("nan")}}, "invalid_data", "data"),
        ({"valid_until": TODAY - dt.timedelta(days=1)}, "date_in_past", "valid_until"),
    ],
)
def test_issue_rejects_bad_input(
    family: Family, changes: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        issue(family, **changes)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert not Document.objects.exists()


def test_an_inactive_issuer_is_refused(family: Family) -> None:
    other = factories.make_agency(None, kind=AgencyKind.JUSTICE)
    other.active = False
    other.save()
    with pytest.raises(ValidationFailed) as exc:
        issue(family, issuer=other)
    assert exc.value.code == "issuer_inactive"


def test_a_missing_issuer_is_refused(family: Family) -> None:
    with pytest.raises(ValidationFailed) as exc:
        issue(family, issuer=None)
    assert (exc.value.code, exc.value.field) == ("required", "issuer")


def test_issue_needs_dossier_processing(world: World, family: Family) -> None:
    for actor in (world.steward, world.nobody):
        with pytest.raises(PermissionDenied):
            services.issue_document(
                actor,
                holder=family.child,
                doc_type="birth_certificate",
                title_vi="Giấy khai sinh",
                title_en="Birth certificate",
                issuer=family.agency,
                data={},
                source_ref="HS-1",
            )
    assert not Document.objects.exists()


# --- verification of the stored copy -------------------------------------------------


def _code(document: Document) -> str:
    document.refresh_from_db()
    verdict = selectors.verify_document(document)
    assert verdict is not None
    return verdict.code


def test_tampered_data_fails_verification(family: Family) -> None:
    document = issue(family)
    assert _code(document) == "valid"
    Document.objects.filter(pk=document.pk).update(
        data={**document.data, "full_name": "Nguyễn Văn Giả"}
    )
    document.refresh_from_db()
    verdict = selectors.verify_document(document)
    assert verdict is not None
    assert (verdict.valid, verdict.code) == (False, "tampered")
    assert verdict.claims == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("number", "X-birth_certificate-000000000000"),
        ("data", {"full_name": "Nguyễn Văn Giả"}),
        ("data", {}),
    ],
)
def test_changed_signed_content_fails_verification(family: Family, field: str, value: Any) -> None:
    document = issue(family)
    Document.objects.filter(pk=document.pk).update(**{field: value})
    assert _code(document) == "tampered"


def test_a_changed_expiry_fails_verification(family: Family) -> None:
    document = issue(family, valid_until=TODAY + dt.timedelta(days=30))
    Document.objects.filter(pk=document.pk).update(valid_until=TODAY + dt.timedelta(days=3000))
    assert _code(document) == "tampered"
    Document.objects.filter(pk=document.pk).update(valid_until=None)
    assert _code(document) == "tampered"


def test_a_changed_issue_time_fails_verification(family: Family) -> None:
    document = issue(family)
    Document.objects.filter(pk=document.pk).update(
        issued_at=document.issued_at - dt.timedelta(days=1)
    )
    assert _code(document) == "tampered"


def test_a_changed_holder_fails_verification(family: Family) -> None:
    """The credential is bound to the holder's key: moving it to someone else shows."""
    document = issue(family)
    Document.objects.filter(pk=document.pk).update(holder=family.father)
    assert _code(document) == "tampered"


def test_an_added_field_fails_verification(family: Family) -> None:
    document = issue(family)
    Document.objects.filter(pk=document.pk).update(data={**document.data, "note": "thêm"})
    assert _code(document) == "tampered"


def test_the_holders_name_is_not_signed(family: Family) -> None:
    """A later correction of the holder's name leaves the issued document valid."""
    document = issue(family)
    Person.objects.filter(pk=family.child.pk).update(full_name="Nguyễn Minh Khôi")
    document = Document.objects.select_related("holder").get(pk=document.pk)
    verdict = selectors.verify_document(document)
    assert verdict is not None and verdict.valid


def test_foreign_or_broken_signatures_fail(family: Family) -> None:
    document = issue(family)
    jwt, *disclosures = document.credential.split("~")
    header, payload, _input, _signature = jose.parse(jwt)
    stranger = jose.generate_private_key()
    forged = jose.sign(header, payload, stranger)  # our kid, someone else's key
    hs256 = ".".join(
        [jose.json_b64({**header, "alg": "HS256"}), jose.json_b64(payload), jose.b64e(b"x" * 32)]
    )
    no_kid = jose.sign({k: v for k, v in header.items() if k != "kid"}, payload, stranger)
    cases = {
        "~".join([forged, *disclosures]): "bad_signature",
        "~".join([no_kid, *disclosures]): "unknown_key",
        "~".join([hs256, *disclosures]): "malformed",
        "not-a-jws": "malformed",
        document.credential[: len(jwt) - 4] + "AAAA~" + "~".join(disclosures): "bad_signature",
    }
    for credential, code in cases.items():
        Document.objects.filter(pk=document.pk).update(credential=credential)
        assert _code(document) == code, credential[:60]


def test_a_rotated_key_keeps_verifying(family: Family) -> None:
    document = issue(family)
    old_kid = jose.parse(document.credential.split("~")[0])[0]["kid"]
    new = wallet_keys.rotate(family.agency)
    assert new.kid != old_kid
    assert IssuerKey.objects.get(kid=old_kid).retired_at is not None
    later = issue(family)
    assert jose.parse(later.credential.split("~")[0])[0]["kid"] == new.kid
    assert _code(document) == "valid"
    assert _code(later) == "valid"
    wallet_keys.rotate(family.agency)
    assert _code(document) == "valid"


def test_the_rotate_command(family: Family) -> None:
    document = issue(family)
    out = StringIO()
    call_command("wallet_rotate_key", family.agency.code, stdout=out)
    assert "new signing key" in out.getvalue()
    assert IssuerKey.objects.filter(agency=family.agency).count() == 2
    assert _code(document) == "valid"
    with pytest.raises(CommandError):
        call_command("wallet_rotate_key", "NO-SUCH-AGENCY")


# --- revoke -----------------------------------------------------------------------------


def test_revoke_document(family: Family, django_capture_on_commit_callbacks: Any) -> None:
    document = issue(family)
    with django_capture_on_commit_callbacks(execute=True):
        revoked = services.revoke_document(
            family.officer, number=document.number, reason="Cấp nhầm người"
        )
    revoked.refresh_from_db()
    assert revoked.status == DocumentStatus.REVOKED
    assert revoked.revoked_by == family.officer
    assert revoked.revoked_at is not None
    assert revoked.revocation_reason == "Cấp nhầm người"
    verdict = selectors.verify_document(revoked)  # still authentic; the status says revoked
    assert verdict is not None and (verdict.valid, verdict.code) == (False, "revoked")
    record = ChangeRecord.objects.get(action="revoke_document", object_id=document.pk)
    assert record.changes == {"status": ["valid", "revoked"]}
    assert record.reason == "Cấp nhầm người"
    assert [phone for phone, _body in _sms()] == [FATHER_PHONE]
    assert "thu hồi" in _sms()[0][1]
    with pytest.raises(Conflict) as exc:
        services.revoke_document(family.officer, number=document.number, reason="Lần hai")
    assert exc.value.code == "already_revoked"


def test_only_the_issuer_revokes(world: World, family: Family) -> None:
    document = issue(family)
    for actor in (world.commune_officer, world.admin):  # police: other agency; admin: none
        with pytest.raises(PermissionDenied) as exc:
            services.revoke_document(actor, number=document.number, reason="Sai")
        assert exc.value.code == "not_issuer"
    with pytest.raises(PermissionDenied) as exc:
        services.revoke_document(world.steward, number=document.number, reason="Sai")
    assert exc.value.code == "permission_denied"
    colleague = factories.make_user(Role.OFFICER, agency=family.agency)
    services.revoke_document(colleague, number=document.number, reason="Sai")
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED


def test_revoke_rejects_bad_input(family: Family) -> None:
    document = issue(family)
    with pytest.raises(ValidationFailed) as exc:
        services.revoke_document(family.officer, number=document.number, reason="  ")
    assert (exc.value.code, exc.value.field) == ("required", "reason")
    with pytest.raises(ValidationFailed) as exc:
        services.revoke_document(family.officer, number=document.number, reason="x" * 301)
    assert exc.value.code == "too_long"
    with pytest.raises(NotFound):
        services.revoke_document(family.officer, number="nope", reason="Sai")
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


# --- suspend and reinstate ---------------------------------------------------------


def test_suspend_and_reinstate(family: Family, django_capture_on_commit_callbacks: Any) -> None:
    document = issue(family, holder=family.father)
    with django_capture_on_commit_callbacks(execute=True):
        suspended = services.suspend_document(
            family.officer, number=document.number, reason="Đang xác minh lại"
        )
    assert suspended.status == DocumentStatus.SUSPENDED
    assert suspended.suspended_by == family.officer
    assert suspended.suspension_reason == "Đang xác minh lại"
    assert _code(suspended) == "suspended"
    assert "tạm đình chỉ" in _sms()[-1][1]
    assert ChangeRecord.objects.get(action="suspend_document").changes == {
        "status": ["valid", "suspended"]
    }
    with django_capture_on_commit_callbacks(execute=True):
        back = services.reinstate_document(
            family.officer, number=document.number, reason="Đã xác minh"
        )
    assert back.status == DocumentStatus.VALID
    assert back.suspended_at is None and back.suspension_reason == ""
    assert _code(back) == "valid"
    assert "khôi phục" in _sms()[-1][1]
    kinds = list(document.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["issued", "suspended", "reinstated"]


def test_status_change_conflicts(family: Family) -> None:
    document = issue(family)
    with pytest.raises(Conflict) as exc:
        services.reinstate_document(family.officer, number=document.number, reason="x")
    assert exc.value.code == "not_suspended"
    services.suspend_document(family.officer, number=document.number, reason="x")
    with pytest.raises(Conflict) as exc:
        services.suspend_document(family.officer, number=document.number, reason="x")
    assert exc.value.code == "not_valid"
    services.revoke_document(family.officer, number=document.number, reason="x")  # from suspended
    for change in (services.suspend_document, services.reinstate_document):
        with pytest.raises(Conflict):
            change(family.officer, number=document.number, reason="x")
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED
    assert _code(document) == "revoked"


def test_only_the_issuers_officers_suspend_or_reinstate(world: World, family: Family) -> None:
    document = issue(family)
    for change in (services.suspend_document, services.reinstate_document):
        for actor in (world.commune_officer, world.admin):
            with pytest.raises(PermissionDenied) as exc:
                change(actor, number=document.number, reason="Sai")
            assert exc.value.code == "not_issuer"
        with pytest.raises(PermissionDenied) as exc:
            change(world.steward, number=document.number, reason="Sai")
        assert exc.value.code == "permission_denied"
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID
    colleague = factories.make_user(Role.OFFICER, agency=family.agency)
    services.suspend_document(colleague, number=document.number, reason="Kiểm tra")
    document.refresh_from_db()
    assert document.status == DocumentStatus.SUSPENDED


# --- selectors --------------------------------------------------------------------------


def test_documents_for_citizen(world: World, family: Family) -> None:
    own = issue(family, holder=family.father)
    childs = issue(family)
    adult_child = factories.make_person(
        world.commune,
        full_name="Nguyễn Văn Lớn",
        birth_date=dt.date(2000, 1, 1),
        father=family.father,
    )
    grown = issue(family, holder=adult_child)
    strangers = issue(family, holder=world.neighbour)
    numbers = {d.number for d in selectors.documents_for_citizen(family.father)}
    assert numbers == {own.number, childs.number}
    assert {d.number for d in selectors.documents_for_citizen(family.mother)} == {childs.number}
    assert {d.number for d in selectors.documents_for_citizen(adult_child)} == {grown.number}
    assert {d.number for d in selectors.documents_for_citizen(world.neighbour)} == {
        strangers.number
    }


def test_a_child_turning_18_leaves_the_parents_wallet(world: World, family: Family) -> None:
    eighteen_today = (
        TODAY.replace(year=TODAY.year - 18)
        if (TODAY.month, TODAY.day) != (2, 29)
        else TODAY.replace(year=TODAY.year - 18, day=28)
    )
    Person.objects.filter(pk=family.child.pk).update(birth_date=eighteen_today)
    issue(family)
    assert selectors.documents_for_citizen(family.father) == []
    Person.objects.filter(pk=family.child.pk).update(
        birth_date=eighteen_today + dt.timedelta(days=1)
    )
    assert len(selectors.documents_for_citizen(family.father)) == 1


def test_get_document_for_citizen(world: World, family: Family) -> None:
    document = issue(family)
    assert selectors.get_document_for_citizen(family.father, document.number) == document
    with pytest.raises(NotFound):
        selectors.get_document_for_citizen(world.neighbour, document.number)
    with pytest.raises(NotFound):
        selectors.get_document_for_citizen(family.father, "missing")


def test_a_parent_reading_a_childs_document_is_access_logged(family: Family) -> None:
    document = issue(family)
    own = issue(family, holder=family.father)
    selectors.get_document_for_citizen(family.father, own.number)
    assert not AccessLogEntry.objects.exists()  # one's own documents: no log
    selectors.get_document_for_citizen(family.father, document.number)
    entry = AccessLogEntry.objects.get()
    assert entry.person_id == family.child.pk
    assert entry.actor == family.father_account.user
    assert entry.purpose == "parent_of_minor"
    selectors.documents_for_citizen(family.father)
    assert AccessLogEntry.objects.filter(person_id=family.child.pk).count() == 2

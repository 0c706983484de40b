"""Who may move a dossier: every officer transition, allowed and refused (permission,
jurisdiction, agency kind, position), and the assignee's check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import Position, User
from congdan.core.permissions import Role
from congdan.procedures import services
from congdan.procedures.models import Dossier, DossierEvent, DossierStatus
from tests import factories
from tests.procedures import builders as b
from tests.procedures.helpers import Family


def submitted(family: Family) -> Dossier:
    result = b.submit("birth_registration", family.account)
    assert result.dossier is not None
    return result.dossier


def in_state(family: Family, action: str) -> Dossier:
    """A birth registration ready for ``action``."""
    dossier = submitted(family)
    if action != "receive":
        services.receive_dossier(family.justice, code=dossier.code)
    if action == "approve":
        services.complete_review(family.justice, code=dossier.code)
    return Dossier.objects.get(pk=dossier.pk)


def colleague(family: Family) -> User:
    return b.justice(family.commune, username="tuphap2")


ACTIONS: dict[str, Callable[[Any, str, Family], Any]] = {
    "receive": lambda actor, code, f: services.receive_dossier(actor, code=code),
    "claim": lambda actor, code, f: services.claim_dossier(actor, code=code),
    "assign": lambda actor, code, f: services.assign_dossier(
        actor, code=code, to_username=colleague(f).username
    ),
    "review": lambda actor, code, f: services.complete_review(actor, code=code),
    "supplement": lambda actor, code, f: services.request_supplement(
        actor, code=code, reason="Bổ sung"
    ),
    "approve": lambda actor, code, f: services.approve_dossier(actor, code=code),
    "reject": lambda actor, code, f: services.reject_dossier(actor, code=code, reason="Sai"),
}
EFFECT = {
    "receive": lambda d: d.status == DossierStatus.RECEIVED and d.received_at is not None,
    "claim": lambda d: d.status == DossierStatus.IN_PROCESSING and d.assigned_to is not None,
    "assign": lambda d: d.assigned_to is not None and d.assigned_to.username == "tuphap2",
    "review": lambda d: d.status == DossierStatus.IN_PROCESSING and d.step_index == 2,
    "supplement": lambda d: d.status == DossierStatus.SUPPLEMENT_REQUESTED,
    "approve": lambda d: d.status == DossierStatus.RESULT_ISSUED and d.subject is not None,
    "reject": lambda d: d.status == DossierStatus.REJECTED,
}


def snapshot(dossier: Dossier) -> tuple[Any, ...]:
    dossier.refresh_from_db()
    return (
        dossier.status,
        dossier.step_index,
        dossier.assigned_to_id,
        DossierEvent.objects.filter(dossier=dossier).count(),
        ChangeRecord.objects.count(),
    )


@pytest.mark.parametrize("action", list(ACTIONS))
def test_allowed_for_the_agency_of_the_dossier(family: Family, action: str) -> None:
    dossier = in_state(family, action)
    ACTIONS[action](family.justice, dossier.code, family)
    dossier.refresh_from_db()
    assert EFFECT[action](dossier)
    event = dossier.events.order_by("-id").first()
    assert event is not None and event.actor_id == family.justice.pk


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", ["steward", "citizen", "nobody"])
def test_denied_without_the_permission(family: Family, action: str, who: str) -> None:
    dossier = in_state(family, action)
    actor = {
        "steward": lambda: factories.make_user(Role.STEWARD, unit=None),
        "citizen": lambda: family.account.user,
        "nobody": lambda: factories.make_user(Role.NONE, unit=family.commune),
    }[who]()
    before = snapshot(dossier)
    with pytest.raises(PermissionDenied):
        ACTIONS[action](actor, dossier.code, family)
    assert snapshot(dossier) == before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_outside_jurisdiction_is_not_found(family: Family, action: str) -> None:
    dossier = in_state(family, action)
    before = snapshot(dossier)
    with pytest.raises(NotFound):
        ACTIONS[action](family.other_justice, dossier.code, family)
    assert snapshot(dossier) == before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_another_agency_kind_is_not_found(family: Family, action: str) -> None:
    dossier = in_state(family, action)
    before = snapshot(dossier)
    with pytest.raises(NotFound):
        ACTIONS[action](family.police, dossier.code, family)
    assert snapshot(dossier) == before


def test_a_provincial_officer_of_the_kind_sees_the_communes(family: Family) -> None:
    dossier = in_state(family, "receive")
    province_justice = b.justice(family.province)
    services.receive_dossier(province_justice, code=dossier.code)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RECEIVED


@pytest.mark.parametrize(
    ("action", "position"),
    [
        ("approve", Position.COUNTER),
        ("approve", Position.SPECIALIST),
        ("review", Position.COUNTER),
        ("review", Position.LEADER),
        ("receive", Position.LEADER),
    ],
)
def test_wrong_position(family: Family, action: str, position: str) -> None:
    dossier = in_state(family, action)
    actor = b.justice(family.commune, position=position)
    before = snapshot(dossier)
    with pytest.raises(PermissionDenied) as excinfo:
        ACTIONS[action](actor, dossier.code, family)
    assert excinfo.value.code == "wrong_position"
    assert snapshot(dossier) == before


def test_each_position_does_its_own_step(family: Family) -> None:
    dossier = submitted(family)
    counter = b.justice(family.commune, position=Position.COUNTER)
    specialist = b.justice(family.commune, position=Position.SPECIALIST)
    leader = b.justice(family.commune, position=Position.LEADER)
    services.receive_dossier(counter, code=dossier.code)
    services.complete_review(specialist, code=dossier.code)
    services.approve_dossier(leader, code=dossier.code)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RESULT_ISSUED


def test_only_a_leader_assigns(family: Family) -> None:
    dossier = in_state(family, "assign")
    specialist = b.justice(family.commune, position=Position.SPECIALIST)
    with pytest.raises(PermissionDenied) as excinfo:
        services.assign_dossier(specialist, code=dossier.code, to_username=family.justice.username)
    assert excinfo.value.code == "not_leader"


@pytest.mark.parametrize("target", ["other_commune", "police", "unknown", "citizen"])
def test_assign_to_someone_who_cannot_act(family: Family, target: str) -> None:
    dossier = in_state(family, "assign")
    username = {
        "other_commune": lambda: family.other_justice.username,
        "police": lambda: family.police.username,
        "unknown": lambda: "khong-co",
        "citizen": lambda: family.account.user.username,
    }[target]()
    before = snapshot(dossier)
    with pytest.raises(ValidationFailed) as excinfo:
        services.assign_dossier(family.justice, code=dossier.code, to_username=username)
    assert excinfo.value.code == "invalid_assignee"
    assert snapshot(dossier) == before


def test_a_claimed_dossier_is_not_taken_by_another(family: Family) -> None:
    dossier = in_state(family, "claim")
    services.claim_dossier(family.justice, code=dossier.code)
    with pytest.raises(Conflict) as excinfo:
        services.claim_dossier(colleague(family), code=dossier.code)
    assert excinfo.value.code == "already_claimed"


def test_approve_before_the_review_step(family: Family) -> None:
    dossier = in_state(family, "review")
    with pytest.raises(Conflict) as excinfo:
        services.approve_dossier(family.justice, code=dossier.code)
    assert excinfo.value.code == "steps_pending"


def test_receive_twice_is_a_conflict(family: Family) -> None:
    dossier = in_state(family, "claim")
    with pytest.raises(Conflict) as excinfo:
        services.receive_dossier(family.justice, code=dossier.code)
    assert excinfo.value.code == "wrong_status"


def test_reject_needs_a_reason(family: Family) -> None:
    dossier = in_state(family, "reject")
    with pytest.raises(ValidationFailed):
        services.reject_dossier(family.justice, code=dossier.code, reason=" ")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RECEIVED


def test_rejecting_a_paid_dossier_refunds_it(family: Family) -> None:
    from congdan.payments.models import Payment, PaymentStatus

    result = b.submit("marital_status_certificate", family.account)
    assert result.dossier is not None
    b.pay(family.account.user, result.dossier)
    services.receive_dossier(family.justice, code=result.dossier.code)
    services.reject_dossier(family.justice, code=result.dossier.code, reason="Không đủ điều kiện")
    payment = Payment.objects.get(purpose_ref=result.dossier.code)
    assert payment.status == PaymentStatus.REFUNDED

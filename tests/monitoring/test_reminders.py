"""Deadline reminders: thresholds 3 days, 1 day, passed; each sent once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from congdan.core.models import OutboxMessage
from congdan.monitoring import reminders
from congdan.monitoring.models import GroupMember, GroupRole, ProgrammeTask
from tests.monitoring.helpers_g import TaskWorld, build_world, make_group, make_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tw(db: None) -> TaskWorld:
    return build_world()


TODAY = dt.date(2026, 5, 10)


def at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def run(day: dt.date) -> int:
    """The poller as if run at noon on ``day``."""
    return reminders.send_due(at_noon(day))


def test_each_threshold_once(tw: TaskWorld) -> None:
    group = make_group(tw.commune)
    GroupMember.objects.create(
        group=group, name="Tổ trưởng", role=GroupRole.HEAD, phone="0905000111"
    )
    GroupMember.objects.create(
        group=group, name="Thành viên", role=GroupRole.MEMBER, phone="0905000222"
    )
    deadline = TODAY + dt.timedelta(days=5)
    task = make_task(tw.police, tw.commune, deadline=deadline, group=group, code="NV-NHAC")
    sent_on = []
    for offset in range(-6, 4):  # from 6 days before the deadline to 3 days after
        day = deadline + dt.timedelta(days=offset)
        if run(day):
            sent_on.append(offset)
        assert run(day) == 0  # a second round the same day sends nothing
    # 3 days before, 1 day before, the first day after the deadline.
    assert sent_on == [-3, -1, 1]
    messages = list(OutboxMessage.objects.order_by("id").values_list("channel", "recipient"))
    assert messages == [("email", "canbo@example.vn"), ("sms", "0905000111")] * 3
    assert OutboxMessage.objects.filter(body__contains="NV-NHAC").count() == 6
    task.refresh_from_db()
    assert task.reminded_at == at_noon(deadline + dt.timedelta(days=1))


def test_first_seen_late_gets_nearest_threshold_only(tw: TaskWorld) -> None:
    make_task(tw.police, tw.commune, deadline=TODAY)  # due today: the 1-day threshold
    assert run(TODAY) == 1
    assert run(TODAY) == 0
    assert run(TODAY + dt.timedelta(days=1)) == 1  # then passed
    assert run(TODAY + dt.timedelta(days=2)) == 0


def test_done_cancelled_far_and_undated_not_reminded(tw: TaskWorld) -> None:
    make_task(tw.police, tw.commune, deadline=TODAY, status="done")
    make_task(tw.police, tw.commune, deadline=TODAY - dt.timedelta(days=3), status="cancelled")
    make_task(tw.police, tw.commune, deadline=TODAY + dt.timedelta(days=4))
    make_task(tw.police, tw.commune, deadline=None)
    assert run(TODAY) == 0
    assert not OutboxMessage.objects.exists()


def test_moved_deadline_starts_over(tw: TaskWorld) -> None:
    task = make_task(tw.police, tw.commune, deadline=TODAY + dt.timedelta(days=3))
    assert run(TODAY) == 1
    ProgrammeTask.objects.filter(pk=task.pk).update(deadline=TODAY + dt.timedelta(days=30))
    assert run(TODAY + dt.timedelta(days=1)) == 0
    assert run(TODAY + dt.timedelta(days=27)) == 1


def test_no_recipient_still_recorded_once(tw: TaskWorld) -> None:
    task = make_task(tw.justice, tw.commune, deadline=TODAY - dt.timedelta(days=2))
    assert run(TODAY) == 1  # the justice officer has no e-mail; no group
    assert not OutboxMessage.objects.exists()
    task.refresh_from_db()
    assert task.reminded_at is not None
    assert run(TODAY + dt.timedelta(days=1)) == 0


def test_batch_bound(tw: TaskWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reminders, "BATCH", 2)
    for _ in range(3):
        make_task(tw.justice, tw.commune, deadline=TODAY)
    assert run(TODAY) == 2
    assert run(TODAY) == 1
    assert run(TODAY) == 0

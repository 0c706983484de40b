"""Reminders before a task's deadline (a poller of ``congdan worker``, decision 0010).

``send_due()`` finds open tasks (not done, not cancelled) whose deadline is 3 days away
or less, 1 day away or less (the deadline day included), or passed, and which have not
yet been reminded for that threshold; it notifies the owner agency's active officers
(e-mail, when they have one) and the head of the task's working group (SMS, when a phone
is recorded), and records ``reminded_at``. The threshold a reminder was sent for is read
back from ``reminded_at``: a task reminded on or after the day a threshold began is not
reminded again for it, so each threshold is sent at most once (a moved deadline starts
over). Bounded work: at most ``BATCH`` tasks per call, each in its own short
transaction; returns the number of tasks reminded.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from congdan.core import notify
from congdan.core.models import User
from congdan.core.permissions import Role
from congdan.monitoring.models import GroupMember, GroupRole, ProgrammeTask, TaskStatus

logger = logging.getLogger(__name__)

BATCH = 200
# Days before the deadline at which a reminder goes out; the deadline passed is the last.
THRESHOLDS = (3, 1)
OPEN = ~Q(status__in=(TaskStatus.DONE, TaskStatus.CANCELLED))


def _start_of(day: dt.date) -> dt.datetime:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def due_filter(today: dt.date) -> Q:
    """Open tasks with a deadline at a threshold they were not reminded for."""
    cond = Q(pk__in=[])
    previous = today - dt.timedelta(days=1)
    upper = None
    for days in sorted(THRESHOLDS):
        # Deadlines whose nearest threshold is ``days``: today + (previous threshold + 1)
        # … today + days.
        lowest = today if upper is None else today + dt.timedelta(days=upper + 1)
        day = lowest
        while day <= today + dt.timedelta(days=days):
            began = _start_of(day - dt.timedelta(days=days))
            cond |= Q(deadline=day) & (Q(reminded_at__isnull=True) | Q(reminded_at__lt=began))
            day += dt.timedelta(days=1)
        upper = days
    # Passed: reminded (if ever) on or before the deadline day, so not since it passed.
    cond |= Q(deadline__lte=previous) & (
        Q(reminded_at__isnull=True) | Q(reminded_day__lte=F("deadline"))
    )
    return cond


def _due(today: dt.date) -> list[int]:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return list(
        ProgrammeTask.objects.filter(OPEN, deadline__isnull=False)
        .annotate(reminded_day=TruncDate("reminded_at", tzinfo=tz))
        .filter(due_filter(today))
        .order_by("deadline", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def _message(task: ProgrammeTask, today: dt.date) -> str:
    assert task.deadline is not None  # noqa: S101 -- only tasks with a deadline are due
    left = (task.deadline - today).days
    deadline = task.deadline.strftime("%d/%m/%Y")
    if left < 0:
        when = _("đã quá hạn %(n)d ngày (hạn %(day)s)") % {"n": -left, "day": deadline}
    elif left == 0:
        when = _("đến hạn hôm nay (%(day)s)") % {"day": deadline}
    else:
        when = _("còn %(n)d ngày đến hạn (%(day)s)") % {"n": left, "day": deadline}
    return _("Nhắc việc Đề án 06: nhiệm vụ %(code)s “%(title)s” %(when)s. Tiến độ: %(p)d%%.") % {
        "code": task.code,
        "title": task.title[:120],
        "when": when,
        "p": task.progress,
    }


def recipients(task: ProgrammeTask) -> tuple[list[str], list[str]]:
    """(e-mail addresses of the owner agency's active officers, phones of the group head)."""
    officers = User.objects.filter(
        agency_id=task.owner_agency_id, is_active=True, role=Role.OFFICER
    ).exclude(email="")
    emails = sorted(set(officers.values_list("email", flat=True)))
    phones: list[str] = []
    if task.group_id is not None:
        phones = sorted(
            set(
                GroupMember.objects.filter(group_id=task.group_id, role=GroupRole.HEAD)
                .exclude(phone="")
                .values_list("phone", flat=True)
            )
        )
    return emails, phones


def _remind(pk: int, today: dt.date, now: dt.datetime) -> bool:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with transaction.atomic():
        task = (
            ProgrammeTask.objects.select_for_update()
            .filter(OPEN, pk=pk)
            .annotate(reminded_day=TruncDate("reminded_at", tzinfo=tz))
            .filter(due_filter(today))
            .first()
        )
        if task is None:  # changed since it was picked
            return False
        emails, phones = recipients(task)
        body = _message(task, today)
        task.reminded_at = now
        task.save(update_fields=["reminded_at"])

        def deliver() -> None:
            for address in emails:
                notify.send_email(address, body)
            for phone in phones:
                notify.send_sms(phone, body)

        transaction.on_commit(deliver)
    return True


def send_due(now: dt.datetime | None = None) -> int:
    """Remind the tasks due at ``now`` (default: the current time); returns how many
    were reminded."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for pk in _due(today):
            if _remind(pk, today, now):
                sent += 1
    if sent:
        logger.info("reminded %d programme tasks", sent)
    return sent


__all__ = ["BATCH", "THRESHOLDS", "due_filter", "recipients", "send_due"]

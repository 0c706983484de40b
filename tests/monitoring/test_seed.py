"""The demo seed of monitoring data (``congdan seed_monitoring``): deterministic,
idempotent, consistent, and varied between communes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from congdan.audit.models import AccessLogEntry
from congdan.audit.models import Channel as LogChannel
from congdan.core.calendar import add_working_days, is_working_day
from congdan.core.errors import DomainError
from congdan.core.models import User
from congdan.core.permissions import Role
from congdan.identity.models import AccountStatus, EidAccount
from congdan.monitoring import seed as seeding
from congdan.monitoring.models import (
    DossierFact,
    PaperDossierCount,
    ProgrammeTask,
    RefreshedDay,
    TaskStatus,
    WorkingGroup,
)
from congdan.procedures.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Channel,
    Dossier,
    DossierEvent,
    DossierStatus,
)
from congdan.procedures.services import processing
from congdan.procedures.specs import catalogue
from tests import factories

TZ = timezone.get_default_timezone()
NOW = dt.datetime(2026, 6, 30, 15, 0, tzinfo=TZ)  # "today" is 30/6/2026 for every run
TODAY = dt.date(2026, 6, 30)
PER_COMMUNE = 100


@pytest.fixture
def population(world: Any) -> Any:
    """100 adults in each of the two communes of the home province (~200 persons)."""
    for commune in (world.commune, world.other_commune):
        for n in range(PER_COMMUNE - 1):  # the world already has one person in each
            factories.make_person(
                commune,
                full_name=f"Người Thử {n}",
                birth_date=dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                sex="MF"[n % 2],
            )
    return world


def _run(**kwargs: Any) -> seeding.SeedStats:
    options: dict[str, Any] = {"province_code": "48", "seed": 1, "refresh": False, "now": NOW}
    options.update(kwargs)
    return seeding.seed_monitoring(**options)


def _snapshot() -> dict[str, Any]:
    """What a run wrote, by natural keys (primary keys differ between runs)."""
    return {
        "dossiers": sorted(
            Dossier.objects.filter(code__startswith="S").values_list(
                "code",
                "procedure_code",
                "applicant_id",
                "channel",
                "status",
                "submitted_at",
                "decided_at",
                "due_date",
                "fee_amount",
                "rating",
            )
        ),
        "events": DossierEvent.objects.filter(dossier__code__startswith="S").count(),
        "accounts": sorted(
            EidAccount.objects.values_list("person_id", "level", "created_at", "level2_at")
        ),
        "lookups": sorted(
            AccessLogEntry.objects.filter(request_id="monitoring-seed").values_list(
                "person_id", "at", "organisation", "purpose"
            )
        ),
        "paper": sorted(
            PaperDossierCount.objects.values_list("day", "commune_id", "procedure_code", "count")
        ),
        "tasks": sorted(
            ProgrammeTask.objects.values_list("code", "status", "deadline", "progress")
        ),
        "members": sorted(WorkingGroup.objects.values_list("name", "members__name")),
    }


class _RollbackError(Exception):
    pass


@pytest.mark.django_db
def test_same_seed_same_data_other_seed_other_data(population: Any) -> None:
    try:
        with transaction.atomic():
            _run(seed=1)
            first = _snapshot()
            raise _RollbackError
    except _RollbackError:
        pass
    assert not Dossier.objects.filter(code__startswith="S").exists()
    try:
        with transaction.atomic():
            _run(seed=2)
            other = _snapshot()
            raise _RollbackError
    except _RollbackError:
        pass
    _run(seed=1)
    again = _snapshot()
    assert first == again
    assert len(first["dossiers"]) > 50
    assert other["dossiers"] != first["dossiers"]


@pytest.mark.django_db
def test_second_run_adds_nothing(population: Any) -> None:
    stats = _run()
    assert not stats.skipped
    assert stats.created["dossiers"] == Dossier.objects.filter(code__startswith="S").count()
    before = _snapshot()
    users = User.objects.count()
    again = _run(seed=7)
    assert again.skipped
    assert not again.created
    assert _snapshot() == before
    assert User.objects.count() == users


@pytest.mark.django_db
def test_online_share_differs_between_communes(population: Any) -> None:
    _run()
    share = {}
    for commune in (population.commune, population.other_commune):
        channels = Counter(
            Dossier.objects.filter(
                code__startswith="S", applicant__residence_commune=commune
            ).values_list("channel", flat=True)
        )
        total = channels[Channel.ONLINE] + channels[Channel.COUNTER]
        assert total >= 25
        share[commune.pk] = channels[Channel.ONLINE] / total
    # Two communes get the two ends of the 10 %–85 % range.
    assert abs(share[population.commune.pk] - share[population.other_commune.pk]) >= 0.30
    # e-ID coverage follows: the commune that files online has more accounts.
    accounts = Counter(
        EidAccount.objects.values_list("person__residence_commune", flat=True).order_by()
    )
    leader = max(share, key=lambda pk: share[pk])
    laggard = min(share, key=lambda pk: share[pk])
    assert accounts[leader] > accounts[laggard]
    # Paper dossiers are counted only at the counters of the commune with few online.
    profiles = seeding.profiles_for("48", seed=1)
    paper_communes = set(PaperDossierCount.objects.values_list("commune__code", flat=True))
    assert paper_communes <= {code for code, p in profiles.items() if p.online < 0.35}


@pytest.mark.django_db
def test_online_share_rises_through_the_year(population: Any) -> None:
    _run()
    halves: dict[bool, Counter[str]] = defaultdict(Counter)
    middle = NOW - dt.timedelta(days=182)
    for submitted, channel in Dossier.objects.filter(code__startswith="S").values_list(
        "submitted_at", "channel"
    ):
        assert submitted is not None
        halves[submitted >= middle][channel] += 1
    first, second = halves[False], halves[True]
    assert second[Channel.ONLINE] / second.total() > first[Channel.ONLINE] / first.total()


@pytest.mark.django_db
def test_dossiers_are_consistent(population: Any) -> None:
    _run()
    cat = catalogue()
    dossiers = list(
        Dossier.objects.filter(code__startswith="S").select_related("applicant", "unit")
    )
    events: dict[int, list[DossierEvent]] = defaultdict(list)
    for event in DossierEvent.objects.filter(dossier__code__startswith="S").order_by("at", "id"):
        events[event.dossier_id].append(event)
    accounts = {a.user_id: a for a in EidAccount.objects.all()}
    on_time = late = overdue_open = 0
    for d in dossiers:
        spec = cat.procedure(d.procedure_code)
        assert spec is not None
        assert d.submitted_at is not None
        submitted_on = timezone.localtime(d.submitted_at).date()
        assert d.due_date == add_working_days(submitted_on, spec.deadline_days)
        assert d.submitted_at < NOW
        if d.received_at is not None:
            assert d.received_at >= d.submitted_at
        if d.status in FINAL_STATUSES:
            assert d.decided_at is not None
            assert d.received_at is not None
            assert d.decided_at >= d.received_at
            assert d.decided_at < NOW
            assert is_working_day(timezone.localtime(d.decided_at).date())
            if timezone.localtime(d.decided_at).date() <= d.due_date:
                on_time += 1
            else:
                late += 1
        else:
            assert d.status in OPEN_STATUSES
            assert d.decided_at is None
            overdue_open += d.due_date < TODAY
        assert d.rating is None or (d.status == DossierStatus.RESULT_ISSUED and 1 <= d.rating <= 5)
        # The form is filled in as a citizen would have.
        assert all(f.name in d.data for f in spec.fields if f.required)
        # The timeline ends in the dossier's status and runs forward in time.
        timeline = events[d.pk]
        assert timeline[0].from_status == DossierStatus.DRAFT
        assert timeline[-1].to_status == d.status
        assert all(a.at <= b.at for a, b in itertools.pairwise(timeline))
        assert all(a.to_status == b.from_status for a, b in itertools.pairwise(timeline))
        # Where it is handled: the applicant's commune, or the province.
        if spec.agency.level == "commune":
            assert d.unit_id == d.applicant.residence_commune_id
        else:
            assert d.unit_id == population.province.pk
        if d.channel == Channel.ONLINE:
            assert d.applicant_user_id is not None
            account = accounts[d.applicant_user_id]
            assert account.person_id == d.applicant_id
            assert account.activated_at is not None
            assert account.activated_at <= d.submitted_at
            if spec.min_eid_level == 2:
                assert account.level2_at is not None
                assert account.level2_at <= d.submitted_at
            assert bool(d.payment_reference) == (d.fee_amount > 0)
            assert d.filed_by_id is None
        else:
            assert d.filed_by_id is not None
            assert d.payment_reference == ""
            assert is_working_day(submitted_on)
    assert on_time > late > 0
    assert overdue_open >= 1


@pytest.mark.django_db
def test_open_seeded_dossiers_can_be_processed(population: Any) -> None:
    """A seeded dossier still open sits in an officer's queue like any other: the
    officer can take it through its remaining steps (or gets a domain error)."""
    _run(now=timezone.now())
    open_ones = list(
        Dossier.objects.filter(
            code__startswith="S",
            status__in=(DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING),
        ).select_related("agency")
    )
    assert open_ones
    approved = 0
    for dossier in open_ones:
        assert dossier.agency is not None
        officer = factories.make_user(Role.OFFICER, agency=dossier.agency)
        steps = catalogue().procedure(dossier.procedure_code).steps  # type: ignore[union-attr]  # seeded from the catalogue
        try:
            for step in steps[dossier.step_index : -1]:
                assert step.kind == "review"
                processing.complete_review(officer, code=dossier.code)
            processing.approve_dossier(officer, code=dossier.code)
        except DomainError:
            continue
        dossier.refresh_from_db()
        assert dossier.status == DossierStatus.RESULT_ISSUED
        approved += 1
    assert approved >= 1


@pytest.mark.django_db
def test_accounts_skip_persons_who_have_one(population: Any) -> None:
    user = User.objects.create_user(username=population.person.id_number, password=None)
    EidAccount.objects.create(
        user=user,
        person=population.person,
        status=AccountStatus.ACTIVE,
        phone="0900000001",
        activated_at=NOW - dt.timedelta(days=400),
    )
    _run()
    assert EidAccount.objects.filter(person=population.person).count() == 1
    seeded = EidAccount.objects.exclude(person=population.person).select_related("user")
    assert seeded.count() > 80
    for account in seeded:
        assert not account.user.has_usable_password()
        assert account.user.username == account.person.id_number
        assert account.activated_at is not None
        assert account.created_at <= account.activated_at < NOW
        assert (account.level == 2) == (account.level2_at is not None)
        if account.level2_at is not None:
            assert account.activated_at <= account.level2_at < NOW


@pytest.mark.django_db
def test_lookups_are_older_than_the_exchange_demo_and_weekday_heavy(population: Any) -> None:
    _run()
    entries = list(AccessLogEntry.objects.filter(request_id="monitoring-seed"))
    assert entries
    assert {e.channel for e in entries} == {LogChannel.EXCHANGE}
    assert {"NHDEMO", "BHXHVN"} <= {e.organisation for e in entries}
    newest = max(timezone.localtime(e.at).date() for e in entries)
    assert newest <= TODAY - dt.timedelta(days=31)
    working = Counter(is_working_day(timezone.localtime(e.at).date()) for e in entries)
    assert working[True] > 3 * working[False]


@pytest.mark.django_db
def test_working_groups_and_tasks(population: Any) -> None:
    _run()
    groups = Counter(WorkingGroup.objects.values_list("level", flat=True))
    assert groups == {"province": 1, "commune": 2, "village": 4}
    assert all(g.members.exists() for g in WorkingGroup.objects.all())
    tasks = list(ProgrammeTask.objects.all())
    # The provincial list, then the commune tasks of (here) both communes.
    assert len(tasks) == len(seeding.PROVINCE_TASKS) + 2 * len(seeding.COMMUNE_TASKS)
    statuses = Counter(t.status for t in tasks)
    assert statuses[TaskStatus.DONE] > statuses[TaskStatus.NOT_STARTED]
    assert statuses[TaskStatus.WAITING] == 3
    overdue = [
        t
        for t in tasks
        if t.deadline is not None and t.deadline < TODAY and t.status not in ("done", "cancelled")
    ]
    assert overdue
    for task in tasks:
        assert task.legal_source
        assert (task.status == TaskStatus.DONE) == (task.completed_at is not None)
        assert (task.progress == 100) == (task.status == TaskStatus.DONE)
    assert any(t.notes.exists() for t in tasks)


@pytest.mark.django_db
def test_facts_refreshed_at_the_end(population: Any) -> None:
    stats = _run(days=30, refresh=True)
    assert stats.facts_refreshed
    assert RefreshedDay.objects.count() == 30
    assert DossierFact.objects.exists()


@pytest.mark.django_db
def test_command(population: Any) -> None:
    out = StringIO()
    call_command("seed_monitoring", province="48", seed=1, days=60, no_refresh=True, stdout=out)
    assert "dossiers" in out.getvalue()
    out = StringIO()
    call_command("seed_monitoring", province="48", seed=1, no_refresh=True, stdout=out)
    assert "nothing added" in out.getvalue()
    with pytest.raises(CommandError, match="unknown current province"):
        call_command("seed_monitoring", province="99", no_refresh=True)
    with pytest.raises(CommandError, match="--days"):
        call_command("seed_monitoring", province="48", days=5, no_refresh=True)


@pytest.mark.django_db
def test_command_needs_a_population(world: Any) -> None:
    # Nobody lives in province 79 in the world: there is nothing to build on.
    with pytest.raises(CommandError, match="no persons"):
        call_command("seed_monitoring", province="79", no_refresh=True)

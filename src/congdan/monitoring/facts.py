"""Daily facts: recompute one day's aggregates from the raw tables.

``refresh_day(day)`` deletes the day's ``DossierFact`` and ``LookupFact`` rows (and, unless
``population=False``, its ``PopulationFact`` rows) and inserts fresh ones computed with a
handful of ``GROUP BY`` queries, in one transaction. Running it twice, or after a change
of the raw data, gives exactly what a from-scratch computation gives.

Days are local days (Asia/Ho_Chi_Minh). What a dossier contributes to a day:

* received (+ online, fully online, digitised, with fee, paid online): the day of its
  submission (``submitted_at``; ``received_at`` if it was never submitted online); drafts,
  dossiers waiting for payment or for an earlier procedure, and dossiers cancelled before
  submission have neither and count nowhere. Paper dossiers counted at the counter
  (``PaperDossierCount``) add to ``received`` only.
* decided, on time, results issued/digitised, ratings: the day of ``decided_at``. No
  rating time is stored, so a rating counts on its dossier's decision day (a rating given
  later marks that day stale through the dossier's event, and the day is recomputed).
* overdue_open: open at the end of the day and past its deadline — reconstructed as of
  that day (submitted by then, due before the day, and either still open or decided
  after the day), so recomputing a past day does not change its figure. A dossier
  paused for the applicant's supplement (``paused_at`` set by the end of the day) is not
  overdue: its clock is stopped, as on the officer's queue (``Dossier.is_overdue``). Only
  the current pause is stored, so an earlier pause since resumed shows through its
  extended ``due_date`` instead.

Population facts are coverage snapshots per commune: residents (alive, active records),
adults (14 or older on the day), active e-ID accounts of level 1/2 activated by the day
(level 2 from ``level2_at``), valid chip cards issued by the day. They use today's
statuses, so a past day recomputed later may differ from the snapshot taken then: the
poller refreshes population only for today and yesterday; ``refresh_range`` (backfill,
seed) recomputes it for every day.

``refresh_recent()`` is the poller (``congdan worker``, every 300 s): today, yesterday,
and past days marked stale — by ``mark_stale(day)`` or because a dossier event, a dossier
update or a paper count was written since the last refresh (bounded per run).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.utils import timezone

from congdan.audit.models import AccessLogEntry
from congdan.geo.models import AdministrativeUnit
from congdan.identity.models import AccountStatus, EidAccount
from congdan.monitoring.models import (
    DossierFact,
    LookupFact,
    PaperDossierCount,
    PopulationFact,
    RefreshedDay,
)
from congdan.procedures.models import OPEN_STATUSES, Dossier, DossierEvent, DossierStatus
from congdan.procedures.specs import catalogue
from congdan.registry.models import CardStatus, IdentityCard, Person, RecordStatus, VitalStatus

__all__ = ["mark_stale", "refresh_day", "refresh_range", "refresh_recent"]

ADULT_AGE = 14
MAX_STALE_PER_RUN = 31  # past days recomputed per poller run; the rest wait for the next
SLACK = dt.timedelta(minutes=2)  # rows timestamped just before a refresh, committed after
DECIDED = (DossierStatus.APPROVED, DossierStatus.RESULT_ISSUED, DossierStatus.REJECTED)

_COUNTS = (
    "received",
    "received_online",
    "received_fully_online",
    "digitised",
    "decided",
    "decided_on_time",
    "results_issued",
    "results_digitised",
    "overdue_open",
    "with_fee",
    "paid_online",
    "rating_count",
    "rating_sum",
    "rating_satisfied",
)


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return start, end


def _adult_birth_limit(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - ADULT_AGE)
    except ValueError:  # 29 February
        return day.replace(year=day.year - ADULT_AGE, day=28)


def _places(unit_ids: set[int]) -> dict[int, tuple[int | None, int | None]]:
    """unit id -> (province id, commune id): a commune's province is its top ancestor."""
    known: dict[int, tuple[int, str, int | None]] = {}
    wanted = {pk for pk in unit_ids if pk is not None}
    while wanted:
        rows = AdministrativeUnit.objects.filter(pk__in=wanted).values_list(
            "pk", "level", "parent_id"
        )
        wanted = set()
        for pk, level, parent in rows:
            known[pk] = (pk, level, parent)
            if parent is not None and parent not in known:
                wanted.add(parent)
    result: dict[int, tuple[int | None, int | None]] = {}
    for pk in unit_ids:
        if pk not in known:
            continue
        top = pk
        seen = {pk}
        while (up := known[top][2]) is not None and up in known and up not in seen:
            seen.add(up)
            top = up
        commune = pk if known[pk][1] == "commune" else None
        province = top if known[top][1] == "province" else None
        result[pk] = (province, commune)
    return result


def _dossier_rows(day: dt.date) -> list[DossierFact]:
    start, end = _bounds(day)
    key = ("unit_id", "agency_id", "procedure_code")
    fully = [code for code, spec in catalogue().procedures.items() if spec.fully_online]
    counts: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))

    received_on_day = Q(submitted_at__gte=start, submitted_at__lt=end) | Q(
        submitted_at__isnull=True, received_at__gte=start, received_at__lt=end
    )
    online = Q(channel="online")
    with_fee = Q(fee_amount__gt=0)
    received = (
        Dossier.objects.filter(received_on_day)
        .exclude(status=DossierStatus.DRAFT)
        .values(*key)
        .annotate(
            received=Count("id"),
            received_online=Count("id", filter=online),
            received_fully_online=Count("id", filter=online & Q(procedure_code__in=fully)),
            with_fee=Count("id", filter=with_fee),
            paid_online=Count("id", filter=with_fee & ~Q(payment_reference="")),
        )
        .order_by()
    )
    for row in received:
        bucket = counts[tuple(row[k] for k in key)]
        for name in ("received", "received_online", "received_fully_online"):
            bucket[name] += row[name]
        # Every dossier on the platform (online or entered at the counter) is data.
        bucket["digitised"] += row["received"]
        bucket["with_fee"] += row["with_fee"]
        bucket["paid_online"] += row["paid_online"]

    issued = Q(status=DossierStatus.RESULT_ISSUED)
    rated = Q(rating__isnull=False)
    decided = (
        Dossier.objects.filter(decided_at__gte=start, decided_at__lt=end, status__in=DECIDED)
        .values(*key)
        .annotate(
            decided=Count("id"),
            decided_on_time=Count("id", filter=Q(due_date__gte=day) | Q(due_date__isnull=True)),
            results_issued=Count("id", filter=issued),
            results_digitised=Count("id", filter=issued & Q(result_document__isnull=False)),
            rating_count=Count("id", filter=rated),
            rating_sum=Sum("rating", filter=rated),
            rating_satisfied=Count("id", filter=Q(rating__gte=4)),
        )
        .order_by()
    )
    for row in decided:
        bucket = counts[tuple(row[k] for k in key)]
        for name in (
            "decided",
            "decided_on_time",
            "results_issued",
            "results_digitised",
            "rating_count",
            "rating_sum",
            "rating_satisfied",
        ):
            bucket[name] += row[name] or 0

    submitted_by_end = Q(submitted_at__lt=end) | Q(submitted_at__isnull=True, received_at__lt=end)
    open_at_end = Q(decided_at__isnull=True, status__in=OPEN_STATUSES) | Q(decided_at__gte=end)
    overdue = (
        Dossier.objects.filter(submitted_by_end, open_at_end, due_date__lt=day)
        .exclude(status=DossierStatus.DRAFT)
        .exclude(paused_at__lt=end)
        .values(*key)
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in overdue:
        counts[tuple(row[k] for k in key)]["overdue_open"] += row["n"]

    paper = (
        PaperDossierCount.objects.filter(day=day)
        .values("commune_id", "agency_id", "procedure_code")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for row in paper:
        counts[(row["commune_id"], row["agency_id"], row["procedure_code"])]["received"] += row["n"]

    places = _places({k[0] for k in counts if k[0] is not None})
    facts = []
    for (unit_id, agency_id, procedure_code), values in counts.items():
        if not any(values.values()):
            continue
        province, commune = places.get(unit_id, (None, None)) if unit_id else (None, None)
        facts.append(
            DossierFact(
                day=day,
                province_id=province,
                commune_id=commune,
                agency_id=agency_id,
                procedure_code=procedure_code,
                **values,
            )
        )
    return _merge(facts)


def _merge(facts: list[DossierFact]) -> list[DossierFact]:
    """One fact per unique key (day, commune, agency, procedure): dossiers of a
    province-level unit and of no unit both have no commune, so two such groups of the
    same agency and procedure are added up (their province kept only if it agrees)."""
    by_key: dict[tuple[Any, ...], DossierFact] = {}
    for fact in facts:
        k = (fact.commune_id, fact.agency_id, fact.procedure_code)
        other = by_key.get(k)
        if other is None:
            by_key[k] = fact
            continue
        for name in _COUNTS:
            setattr(other, name, getattr(other, name) + getattr(fact, name))
        if other.province_id != fact.province_id:
            other.province_id = None
    return list(by_key.values())


def _population_rows(day: dt.date) -> list[PopulationFact]:
    _start, end = _bounds(day)
    limit = _adult_birth_limit(day)
    resident = {
        "vital_status": VitalStatus.ALIVE,
        "status": RecordStatus.ACTIVE,
        "residence_commune__isnull": False,
    }
    people = Person.objects.filter(**resident)
    # Accounts and cards of adult residents: filtered through one join on the person
    # (not ``person__in=<subquery>``, which PostgreSQL answers by reading the persons
    # twice).
    adult = {f"person__{k}": v for k, v in resident.items()} | {"person__birth_date__lte": limit}
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("residents", "adults", "eid_level1", "eid_level2", "chip_cards"), 0)
    )
    for row in (
        people.values("residence_commune_id")
        .annotate(residents=Count("id"), adults=Count("id", filter=Q(birth_date__lte=limit)))
        .order_by()
    ):
        counts[row["residence_commune_id"]]["residents"] = row["residents"]
        counts[row["residence_commune_id"]]["adults"] = row["adults"]

    active_by_end = Q(activated_at__lt=end) | Q(activated_at__isnull=True, created_at__lt=end)
    level2_by_end = Q(level=2) & (Q(level2_at__lt=end) | Q(level2_at__isnull=True))
    for eid in (
        EidAccount.objects.filter(
            active_by_end,
            status=AccountStatus.ACTIVE,
            **adult,
        )
        .values("person__residence_commune_id")
        .annotate(
            l2=Count("id", filter=level2_by_end),
            total=Count("id"),
        )
        .order_by()
    ):
        bucket = counts[eid["person__residence_commune_id"]]
        bucket["eid_level2"] = eid["l2"]
        bucket["eid_level1"] = eid["total"] - eid["l2"]

    # A person counts once however many valid cards the registry holds: adults with a
    # card (a semi-join), not cards counted DISTINCT (a sort of every card, on disk).
    # Folding it into the first pass as a FILTER is slower: the EXISTS then runs per row.
    valid_card = IdentityCard.objects.filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=day),
        person=OuterRef("pk"),
        status=CardStatus.VALID,
        issue_date__lte=day,
    )
    for card in (
        people.filter(Exists(valid_card), birth_date__lte=limit)
        .values("residence_commune_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[card["residence_commune_id"]]["chip_cards"] = card["n"]

    places = _places(set(counts))
    return [
        PopulationFact(day=day, province_id=places.get(pk, (None, None))[0], commune_id=pk, **v)
        for pk, v in counts.items()
    ]


def _lookup_rows(day: dt.date) -> list[LookupFact]:
    start, end = _bounds(day)
    rows = (
        AccessLogEntry.objects.filter(at__gte=start, at__lt=end)
        .values("channel", "organisation", "view", "purpose")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        LookupFact(
            day=day,
            channel=row["channel"],
            organisation=row["organisation"],
            service=row["view"],
            purpose=row["purpose"],
            count=row["n"],
        )
        for row in rows
    ]


def refresh_day(day: dt.date, *, population: bool = True) -> None:
    """Recompute the facts of ``day`` (population facts too unless ``population=False``)."""
    with transaction.atomic():
        RefreshedDay.objects.get_or_create(day=day, defaults={"stale": True})
        # Serialise refreshes of the same day (two workers, the seed and the poller).
        RefreshedDay.objects.select_for_update().get(day=day)
        dossier_facts = _dossier_rows(day)
        lookup_facts = _lookup_rows(day)
        DossierFact.objects.filter(day=day).delete()
        DossierFact.objects.bulk_create(dossier_facts, batch_size=2000)
        LookupFact.objects.filter(day=day).delete()
        LookupFact.objects.bulk_create(lookup_facts, batch_size=2000)
        if population:
            population_facts = _population_rows(day)
            PopulationFact.objects.filter(day=day).delete()
            PopulationFact.objects.bulk_create(population_facts, batch_size=2000)
        RefreshedDay.objects.filter(day=day).update(refreshed_at=timezone.now(), stale=False)


def refresh_range(start: dt.date, end: dt.date, *, population: bool = True) -> int:
    """Recompute every day from ``start`` to ``end`` (inclusive); returns days refreshed."""
    day = start
    n = 0
    while day <= end:
        refresh_day(day, population=population)
        day += dt.timedelta(days=1)
        n += 1
    return n


def mark_stale(day: dt.date) -> None:
    """The raw data of ``day`` changed: the poller will recompute it."""
    updated = RefreshedDay.objects.filter(day=day).update(stale=True)
    if not updated:
        RefreshedDay.objects.get_or_create(day=day, defaults={"stale": True})


def _touched_days(since: dt.datetime) -> set[dt.date]:
    """Days whose facts a dossier event, dossier update or paper count since ``since``
    may have changed."""
    days: set[dt.date] = set()
    touched = Dossier.objects.filter(
        Q(updated_at__gte=since)
        | Q(pk__in=DossierEvent.objects.filter(at__gte=since).values("dossier_id"))
    ).values_list("submitted_at", "received_at", "decided_at")
    for submitted, received, decided in touched.distinct().iterator():
        for moment in (submitted or received, decided):
            if moment is not None:
                days.add(timezone.localdate(moment))
    days.update(
        PaperDossierCount.objects.filter(recorded_at__gte=since)
        .values_list("day", flat=True)
        .distinct()
    )
    return days


def refresh_recent() -> int:
    """Poller: refresh today, yesterday and (bounded) stale past days; days refreshed."""
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    last = RefreshedDay.objects.filter(stale=False).aggregate(m=Max("refreshed_at"))["m"]
    if last is not None:
        for day in _touched_days(last - SLACK):
            if day < yesterday:
                mark_stale(day)
    refresh_day(today)
    refresh_day(yesterday)
    stale = list(
        RefreshedDay.objects.filter(stale=True, day__lt=yesterday)
        .order_by("-day")
        .values_list("day", flat=True)[:MAX_STALE_PER_RUN]
    )
    for day in stale:
        refresh_day(day, population=False)
    return 2 + len(stale)

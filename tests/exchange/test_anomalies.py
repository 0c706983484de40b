"""Anomaly rules on constructed traffic: for each rule a positive case and a near miss."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, Channel
from congdan.exchange import anomalies
from congdan.registry.models import Ethnicity, Person
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()
MONDAY = dt.date(2025, 3, 10)  # a working day
SATURDAY = dt.date(2025, 3, 8)
NATIONAL_DAY = dt.date(2025, 9, 2)  # a Tuesday, a public holiday


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def add(
    org: str,
    person_ids: Sequence[int],
    when: dt.datetime,
    *,
    channel: str = Channel.EXCHANGE,
    view: str = "person-basic",
    purpose: str = "kyc_account_opening",
) -> None:
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=when,
                actor_label=f"VN/COM/{org}/main",
                organisation=org,
                person_id=pid,
                channel=channel,
                view=view,
                fields="full_name",
                purpose=purpose,
            )
            for pid in person_ids
        ]
    )


def add_many(org: str, person_id: int, when: dt.datetime, count: int) -> None:
    add(org, [person_id] * count, when)


def persons_numbered(first_serial: int, count: int, *, skip: int | None = None) -> list[Person]:
    """Persons whose ID numbers are ``0481 90 <serial>`` for consecutive serials."""
    province = factories.legacy_province("048")
    ethnicity = Ethnicity.objects.get(code="01")
    out = []
    for serial in range(first_serial, first_serial + count):
        if serial == skip:
            continue
        out.append(
            Person.objects.create(
                id_number=f"048190{serial:06d}",
                full_name=f"Người thử {serial}",
                birth_date=dt.date(1990, 1, 1),
                sex="M",
                ethnicity=ethnicity,
                birth_registration_province=province,
            )
        )
    return out


# --- volume far above the baseline ---------------------------------------------------------


def test_volume_spike_above_factor_and_minimum(world: World) -> None:
    pid = world.person.pk
    for back in range(1, 29):  # baseline: 10 a day for 28 days → mean 10
        add_many("bank1", pid, at(MONDAY - dt.timedelta(days=back)), 10)
    add_many("bank1", pid, at(MONDAY, 9), 101)

    found = anomalies.volume_spikes(MONDAY)

    assert [(f.rule, f.organisation, f.count) for f in found] == [("volume", "bank1", 101)]
    assert found[0].detail["mean"] == 10.0
    assert found[0].entries().count() == 101


def test_volume_near_misses(world: World) -> None:
    pid = world.person.pk
    for back in range(1, 29):
        add_many("steady", pid, at(MONDAY - dt.timedelta(days=back)), 40)  # 3 × 40 = 120
    add_many("steady", pid, at(MONDAY), 115)  # above the minimum, not above 3× baseline
    add_many("small", pid, at(MONDAY), 100)  # new, but not above the minimum of 100
    # The next day's traffic is another day's business.
    add_many("later", pid, at(MONDAY + dt.timedelta(days=1), 1), 500)

    assert anomalies.volume_spikes(MONDAY) == []
    # The same data with a lower factor flags the steady organisation: the rule works.
    assert [f.organisation for f in anomalies.volume_spikes(MONDAY, factor=2.5)] == ["steady"]


def test_volume_counts_local_days(world: World) -> None:
    """The day is the local (UTC+7) day: 00:30 local on Monday is Sunday 17:30 UTC."""
    pid = world.person.pk
    add_many("night", pid, at(MONDAY, 0, 30), 101)
    add_many("night", pid, at(MONDAY - dt.timedelta(days=1), 23, 59), 5)

    found = anomalies.volume_spikes(MONDAY)

    assert [(f.organisation, f.count) for f in found] == [("night", 101)]


# --- sequential scanning -----------------------------------------------------------------


def test_sequential_scan_of_twenty_consecutive_numbers(world: World) -> None:
    scanned = persons_numbered(500, 20)
    add("scanner", [p.pk for p in scanned], at(MONDAY, 14))
    add("scanner", [world.person.pk], at(MONDAY, 14))  # unrelated, not in the run

    found = anomalies.sequential_scans(MONDAY)

    assert len(found) == 1
    finding = found[0]
    assert (finding.organisation, finding.count) == ("scanner", 20)
    assert (finding.first, finding.last) == ("048190000500", "048190000519")
    assert set(finding.entries().values_list("person_id", flat=True)) == {p.pk for p in scanned}


def test_sequential_near_misses(world: World) -> None:
    # 19 consecutive numbers; a run of 20 broken by a gap; 20 split across two members;
    # the same person read many times (distinct numbers count, not reads).
    add("short", [p.pk for p in persons_numbered(100, 19)], at(MONDAY))
    add("gap", [p.pk for p in persons_numbered(200, 21, skip=210)], at(MONDAY))
    split = persons_numbered(300, 20)
    add("half1", [p.pk for p in split[:10]], at(MONDAY))
    add("half2", [p.pk for p in split[10:]], at(MONDAY))
    add_many("repeat", world.person.pk, at(MONDAY), 30)
    # A full run, but the day before.
    add("yesterday", [p.pk for p in persons_numbered(400, 20)], at(MONDAY - dt.timedelta(1)))

    assert anomalies.sequential_scans(MONDAY) == []
    # The short run is found with a lower threshold: the near miss is a near miss.
    assert [f.organisation for f in anomalies.sequential_scans(MONDAY, min_run=19)] == ["short"]


# --- one person, many members --------------------------------------------------------------


def test_person_looked_up_by_five_members_in_a_week(world: World) -> None:
    pid = world.person.pk
    for n, org in enumerate(["m1", "m2", "m3", "m4", "m5"]):
        add(org, [pid], at(MONDAY - dt.timedelta(days=n), 11))
    add("m1", [world.neighbour.pk], at(MONDAY))

    found = anomalies.many_members(MONDAY)

    assert len(found) == 1
    assert found[0].person_id == pid
    assert found[0].detail["organisations"] == ["m1", "m2", "m3", "m4", "m5"]
    assert found[0].entries().count() == 5


def test_many_members_near_misses(world: World) -> None:
    pid = world.person.pk
    for org in ["m1", "m2", "m3", "m4"]:  # four members, many reads each
        add(org, [pid] * 10, at(MONDAY))
    add("m5", [pid], at(MONDAY - dt.timedelta(days=7)))  # the fifth is 8 days back
    add("m6", [pid], at(MONDAY + dt.timedelta(days=1)))  # or after the day

    assert anomalies.many_members(MONDAY) == []
    assert len(anomalies.many_members(MONDAY, window_days=8)) == 1


# --- outside working hours -------------------------------------------------------------------


def test_off_hours_on_a_working_day(world: World) -> None:
    pid = world.person.pk
    add_many("owl", pid, at(MONDAY, 6, 59), 30)
    add_many("owl", pid, at(MONDAY, 19, 0), 21)
    add_many("owl", pid, at(MONDAY, 12), 500)  # office hours do not count

    found = anomalies.off_hours(MONDAY)

    assert [(f.organisation, f.count) for f in found] == [("owl", 51)]
    assert found[0].entries().count() == 51


def test_off_hours_near_misses(world: World) -> None:
    pid = world.person.pk
    add_many("edge", pid, at(MONDAY, 6, 59), 50)  # exactly the threshold
    add_many("day", pid, at(MONDAY, 7, 0), 100)  # 07:00 and 18:59 are working hours
    add_many("day", pid, at(MONDAY, 18, 59), 100)

    assert anomalies.off_hours(MONDAY) == []


@pytest.mark.parametrize("day", [SATURDAY, NATIONAL_DAY], ids=["weekend", "holiday"])
def test_off_hours_all_day_on_days_off(world: World, day: dt.date) -> None:
    add_many("weekend", world.person.pk, at(day, 12), 51)
    add_many("quiet", world.person.pk, at(day, 12), 50)

    assert [f.organisation for f in anomalies.off_hours(day)] == ["weekend"]


# --- common ------------------------------------------------------------------------------------


def test_supervision_reads_and_unnamed_readers_are_left_out(world: World) -> None:
    pid = world.person.pk
    add("dpo-agency", [pid] * 200, at(SATURDAY, 3), channel=Channel.UI, view="supervision")
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=at(SATURDAY, 3),
                actor_label="system",
                person_id=pid,
                channel=Channel.SYSTEM,
                view="x",
                purpose="y",
            )
            for _ in range(200)
        ]
    )

    assert anomalies.run_all(SATURDAY) == []


def test_finding_params_round_trip(world: World) -> None:
    scanned = persons_numbered(700, 20)
    add("scanner", [p.pk for p in scanned], at(MONDAY))
    add_many("scanner", world.person.pk, at(MONDAY, 3), 120)
    for org in ["m1", "m2", "m3", "m4", "m5"]:
        add(org, [world.neighbour.pk], at(MONDAY))

    found = anomalies.run_all(MONDAY)

    assert {f.rule for f in found} == set(anomalies.RULES)
    for finding in found:
        again = anomalies.from_params(finding.params())
        assert again.rule == finding.rule
        assert set(again.entries().values_list("id", flat=True)) == set(
            finding.entries().values_list("id", flat=True)
        )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"rule": "nope", "day": "2025-03-10", "org": "x"},
        {"rule": "volume", "day": "not-a-day", "org": "x"},
        {"rule": "volume", "day": "0001-01-01", "org": "x"},
        {"rule": "volume", "day": "2025-03-10"},
        {"rule": "volume", "day": "2025-03-10", "org": "a\x00b"},
        {"rule": "sequential", "day": "2025-03-10", "org": "x", "first": "1", "last": "2"},
        {"rule": "many_members", "day": "2025-03-10", "person": "-1"},
        {"rule": "many_members", "day": "2025-03-10", "person": "9" * 40},
    ],
)
def test_malformed_finding_params_are_not_found(params: dict[str, str]) -> None:
    from congdan.core.errors import NotFound

    with pytest.raises(NotFound):
        anomalies.from_params(params)

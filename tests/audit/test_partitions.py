"""The access log partitioned by month on PostgreSQL, partitions made ahead, retention."""

from __future__ import annotations

import datetime as dt
import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from congdan.audit import partitions, sealing
from congdan.audit.models import AccessLogEntry, AccessLogSeal, Channel
from congdan.audit.sealing import add_months, month_bounds, month_of
from congdan.audit.services import log_access

pytestmark = pytest.mark.django_db

NOW = timezone.now()
THIS_MONTH = month_of(NOW)

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="partitions exist on PostgreSQL only"
)


def add(month: dt.date, day: int = 2) -> AccessLogEntry:
    entry = AccessLogEntry(
        at=month_bounds(month)[0] + dt.timedelta(days=day - 1, hours=9),
        actor_label="officer",
        person_id=1,
        channel=Channel.API,
        view="v",
        purpose="p",
    )
    entry.save(force_insert=True)
    return entry


def table_of(entry: AccessLogEntry) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_accesslogentry WHERE id = %s", [entry.pk]
        )
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def seal_all() -> None:
    while sealing.seal_pending():
        pass


# --- the partitioned table ------------------------------------------------------------


@postgres_only
def test_table_is_partitioned_by_month() -> None:
    assert partitions.is_partitioned()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_partkeydef('audit_accesslogentry'::regclass),"
            " pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " WHERE c.conrelid = 'audit_accesslogentry'::regclass AND c.contype = 'p'"
        )
        partkey, pkey = cursor.fetchone()
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_accesslogentry'")
        indexes = " ".join(r[0] for r in cursor.fetchall())
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_accesslogentry'::regclass"
        )
        triggers = {r[0] for r in cursor.fetchall()}
        sequences = connection.introspection.get_sequences(cursor, "audit_accesslogentry")
    assert partkey == "RANGE (at)"
    assert pkey == "PRIMARY KEY (id, at)"
    assert "(person_id, at)" in indexes
    assert "(actor_id, at)" in indexes
    assert "audit_access_append_only" in triggers
    # Django finds the id sequence (flush with reset_sequences, sqlsequencereset).
    assert [s["column"] for s in sequences] == ["id"]


@postgres_only
def test_entries_land_in_their_month_and_stay_append_only() -> None:
    partitions.maintain()
    log_access(None, person_ids=[1, 2], channel=Channel.SYSTEM, view="v", fields=[], purpose="p")
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert entries[0].pk < entries[1].pk
    assert table_of(entries[0]) == partitions.partition_name(THIS_MONTH)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entries[0].pk).update(purpose="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {partitions.partition_name(THIS_MONTH)} WHERE id = %s",  # noqa: S608 -- generated name
            [entries[0].pk],
        )
    assert AccessLogEntry.objects.count() == 2


@postgres_only
def test_maintain_creates_partitions_ahead_idempotently(settings: object) -> None:
    settings.ACCESS_LOG_RETENTION_MONTHS = 0  # type: ignore[attr-defined]  # pytest-django settings fixture
    later = NOW + dt.timedelta(days=400)
    created = partitions.maintain(now=later)
    assert created >= 3  # months over a year ahead did not exist
    months = partitions.monthly_partitions()
    for i in range(3):
        assert add_months(month_of(later), i) in months
    assert partitions.maintain(now=later) == 0


@postgres_only
def test_entries_in_the_default_partition_move_to_a_new_one() -> None:
    far = add_months(THIS_MONTH, 9)
    entry = add(far)
    assert table_of(entry) == partitions.DEFAULT_PARTITION
    assert partitions.ensure_partition(far)
    assert table_of(entry) == partitions.partition_name(far)
    assert not partitions.ensure_partition(far)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(purpose="x")
    # The default partition's trigger is back on too.
    other = add(add_months(THIS_MONTH, 14))
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=other.pk).delete()


# --- retention (both databases) -------------------------------------------------------


def test_retention_removes_old_months_and_prunes_their_seals(settings: object) -> None:
    settings.ACCESS_LOG_RETENTION_MONTHS = 12  # type: ignore[attr-defined]  # pytest-django settings fixture
    very_old, old, recent = (
        add_months(THIS_MONTH, -30),
        add_months(THIS_MONTH, -13),
        add_months(THIS_MONTH, -2),
    )
    gone = [add(very_old), add(old), add(old, day=3)]
    kept = add(recent)
    if connection.vendor == "postgresql":
        partitions.ensure_partition(old)  # very_old stays in the DEFAULT partition
    seal_all()
    assert sealing.verify().ok

    removed = partitions.maintain()
    assert removed >= 2
    assert list(AccessLogEntry.objects.values_list("id", flat=True)) == [kept.pk]
    assert not AccessLogEntry.objects.filter(pk__in=[e.pk for e in gone]).exists()
    pruned = AccessLogSeal.objects.filter(pruned_at__isnull=False)
    assert set(pruned.values_list("month", flat=True)) == {
        m
        for m in AccessLogSeal.objects.values_list("month", flat=True)
        if m < add_months(THIS_MONTH, -12)
    }
    assert AccessLogSeal.objects.get(month=old).pruned_at is not None
    assert AccessLogSeal.objects.get(month=recent).pruned_at is None
    if connection.vendor == "postgresql":
        assert old not in partitions.monthly_partitions()

    report = sealing.verify()
    assert report.ok, report.problems
    assert report.pruned_segments == pruned.count()
    assert report.entries_checked == 1
    assert partitions.maintain() == 0  # nothing left to remove

    # An entry slipped into a pruned month is still found.
    add(old, day=9)
    assert not sealing.verify().ok


def test_retention_zero_keeps_everything(settings: object) -> None:
    settings.ACCESS_LOG_RETENTION_MONTHS = 0  # type: ignore[attr-defined]  # pytest-django settings fixture
    entry = add(add_months(THIS_MONTH, -200))
    partitions.apply_retention()
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_a_seal_pruned_within_retention_is_flagged(settings: object) -> None:
    settings.ACCESS_LOG_RETENTION_MONTHS = 12  # type: ignore[attr-defined]  # pytest-django settings fixture
    old = add_months(THIS_MONTH, -20)
    add(old)
    seal_all()
    partitions.maintain()
    assert sealing.verify().ok
    # The operator sets retention to "for ever": seals pruned earlier are now suspect.
    settings.ACCESS_LOG_RETENTION_MONTHS = 0  # type: ignore[attr-defined]  # pytest-django settings fixture
    assert "pruned_early" in {p.kind for p in sealing.verify().problems}


def test_maintain_command(settings: object) -> None:
    settings.ACCESS_LOG_RETENTION_MONTHS = 12  # type: ignore[attr-defined]  # pytest-django settings fixture
    add(add_months(THIS_MONTH, -24))
    add(add_months(THIS_MONTH, -1))
    out = StringIO()
    call_command("access_log_maintain", "--seal", stdout=out)
    assert "access log: sealed 1 item(s)" in out.getvalue()
    assert AccessLogEntry.objects.count() == 1
    assert sealing.verify().ok


@postgres_only
def test_migration_converts_a_plain_table_and_back() -> None:
    """0009 both ways with entries in place: rows, ids, indexes and the trigger survive."""
    migration = importlib.import_module("congdan.audit.migrations.0009_partition_access_log")
    first, old = add(THIS_MONTH), add(add_months(THIS_MONTH, -40))
    with connection.schema_editor() as editor:
        migration.unpartition(None, editor)
    assert not partitions.is_partitioned()
    plain = add(THIS_MONTH, day=3)
    assert plain.pk > old.pk
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=first.pk).update(purpose="x")

    with connection.schema_editor() as editor:
        migration.partition(None, editor)
    assert partitions.is_partitioned()
    assert add_months(THIS_MONTH, -40) in partitions.monthly_partitions()
    assert table_of(old) == partitions.partition_name(add_months(THIS_MONTH, -40))
    assert sorted(AccessLogEntry.objects.values_list("id", flat=True)) == sorted(
        [first.pk, old.pk, plain.pk]
    )
    newest = add(THIS_MONTH, day=4)
    assert newest.pk > plain.pk
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogEntry.objects.filter(pk=old.pk).update(purpose="x")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'audit_accesslogentry'")
        row = cursor.fetchone()
    assert row is not None
    assert row[0] == 6  # primary key (id, at) and the five indexes (0011 adds one on at)

"""Monthly partitions of the access log (PostgreSQL) and its retention (both databases).

Migration 0009 turns ``audit_accesslogentry`` into a table partitioned by range of ``at``
on PostgreSQL, one partition per UTC month named ``audit_accesslogentry_yYYYYmMM`` and a
DEFAULT partition for anything else. ``maintain`` (a poller of ``congdan worker``, also
``congdan access_log_maintain``) keeps partitions ahead of time and applies
``ACCESS_LOG_RETENTION_MONTHS``: on PostgreSQL it drops whole monthly partitions, on
SQLite it deletes the rows; either way it marks the seals of those months pruned in the
same transaction (docs/access-log.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, AccessLogSeal
from congdan.audit.sealing import add_months, month_bounds, month_of

logger = logging.getLogger(__name__)

PARENT = "audit_accesslogentry"
DEFAULT_PARTITION = f"{PARENT}_default"
TRIGGER = "audit_access_append_only"
PARTITIONS_AHEAD = 2
_NAME = re.compile(rf"^{PARENT}_y(\d{{4}})m(\d{{2}})$")


def partition_name(month: dt.date) -> str:
    return f"{PARENT}_y{month:%Y}m{month:%m}"


def _literal(value: dt.datetime) -> str:
    # Bounds are made here from dates, never from input: safe to inline in DDL.
    return "'" + value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00") + "'"


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", [PARENT])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def monthly_partitions() -> dict[dt.date, str]:
    """month → partition name, for the monthly partitions that exist (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [PARENT],
        )
        names = [r[0] for r in cursor.fetchall()]
    found = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            found[dt.date(int(match[1]), int(match[2]), 1)] = name
    return found


def ensure_partition(month: dt.date) -> bool:
    """Create the partition of ``month`` unless it exists (PostgreSQL, partitioned table).
    Entries of that month already in the DEFAULT partition move into it. Returns True
    when a partition was created."""
    if not is_partitioned():
        return False
    month = dt.date(month.year, month.month, 1)
    name = partition_name(month)
    start, end = month_bounds(month)
    low, high = _literal(start), _literal(end)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        row = cursor.fetchone()
        if row is not None and row[0]:
            return False
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        row = cursor.fetchone()
        if row is not None and row[0]:
            return False
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} "  # noqa: S608 -- constants and generated bounds
            f"WHERE at >= {low} AND at < {high})"
        )
        row = cursor.fetchone()
        stranded = bool(row and row[0])
        if not stranded:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ({low}) TO ({high})"
            )
            return True
        # Rows of the month landed in DEFAULT (the worker did not run ahead of time):
        # move them into a new table, then attach it as the month's partition.
        logger.warning("access log: moving %s entries from the default partition", name)
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(f"ALTER TABLE {DEFAULT_PARTITION} DISABLE TRIGGER {TRIGGER}")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 -- constants and generated bounds
            f"WHERE at >= {low} AND at < {high} RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        )
        cursor.execute(f"ALTER TABLE {DEFAULT_PARTITION} ENABLE TRIGGER {TRIGGER}")
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"
        )
    return True


def retention_cutoff(now: dt.datetime) -> dt.date | None:
    """First month kept under ``ACCESS_LOG_RETENTION_MONTHS`` (None: keep everything)."""
    months = settings.ACCESS_LOG_RETENTION_MONTHS
    if not months:
        return None
    return add_months(month_of(now), -months)


def _mark_pruned(month: dt.date, now: dt.datetime) -> None:
    AccessLogSeal.objects.filter(month=month, pruned_at__isnull=True).update(pruned_at=now)


def apply_retention(*, now: dt.datetime | None = None) -> int:
    """Remove the entries of months older than the retention; one month per transaction,
    the month's seals marked pruned in it. Returns the number of months removed."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    if connection.vendor == "postgresql":
        return _drop_old_partitions(cutoff, now)
    return _delete_old_rows(cutoff, now)


def _drop_old_partitions(cutoff: dt.date, now: dt.datetime) -> int:
    if not is_partitioned():
        logger.warning("access log: not partitioned; retention skipped (run migrations)")
        return 0
    removed = 0
    for month, name in sorted(monthly_partitions().items()):
        if month >= cutoff:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            _mark_pruned(month, now)
        logger.info("access log: dropped partition %s (retention)", name)
        removed += 1
    # Old entries stranded in the DEFAULT partition (no monthly partition existed).
    low = _literal(month_bounds(cutoff)[0])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date "  # noqa: S608 -- constants and generated bounds
            f"FROM {DEFAULT_PARTITION} WHERE at < {low}"
        )
        months = [r[0] for r in cursor.fetchall()]
        if months:
            cursor.execute(f"ALTER TABLE {DEFAULT_PARTITION} DISABLE TRIGGER {TRIGGER}")
            cursor.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE at < {low}")  # noqa: S608 -- constants and generated bounds
            cursor.execute(f"ALTER TABLE {DEFAULT_PARTITION} ENABLE TRIGGER {TRIGGER}")
            for month in months:
                _mark_pruned(month, now)
            removed += len(months)
    # Sealed months with no partition left (dropped by hand, or empty) are pruned too.
    AccessLogSeal.objects.filter(month__lt=cutoff, pruned_at__isnull=True).update(pruned_at=now)
    return removed


def _delete_old_rows(cutoff: dt.date, now: dt.datetime) -> int:
    removed = 0
    cutoff_at = month_bounds(cutoff)[0]
    while True:
        oldest = (
            AccessLogEntry.objects.filter(at__lt=cutoff_at)
            .order_by("at")
            .values_list("at", flat=True)
            .first()
        )
        if oldest is None:
            break
        month = month_of(oldest)
        start, end = month_bounds(month)
        with transaction.atomic():
            # QuerySet.delete() issues DELETE ... WHERE; Model.delete() (refused) is not
            # called. SQLite has no DELETE trigger on the log.
            AccessLogEntry.objects.filter(at__gte=start, at__lt=end).delete()
            _mark_pruned(month, now)
        logger.info("access log: deleted the entries of %s (retention)", month)
        removed += 1
    AccessLogSeal.objects.filter(month__lt=cutoff, pruned_at__isnull=True).update(pruned_at=now)
    return removed


def maintain(*, now: dt.datetime | None = None, ahead: int = PARTITIONS_AHEAD) -> int:
    """Poller: create the partitions of this month and the next ``ahead`` months
    (idempotent), then apply retention. Returns partitions created + months removed."""
    now = now or timezone.now()
    done = 0
    if is_partitioned():
        this_month = month_of(now)
        for i in range(ahead + 1):
            done += ensure_partition(add_months(this_month, i))
    return done + apply_retention(now=now)

"""PostgreSQL: partition the access log by month of ``at``. SQLite: nothing to do.

The table becomes ``PARTITIONED BY RANGE (at)`` with primary key ``(id, at)``; every
index is re-created on the parent (and so on each partition), the append-only trigger
too (a BEFORE row trigger on a partitioned table, PostgreSQL >= 13). ``id`` keeps a
bigint sequence (identity columns on partitioned tables need PostgreSQL 17), continuing
after the highest id. Partitions: every month that has entries, this month and the next
two, and a DEFAULT partition. Existing rows are copied inside the migration's
transaction: plan a maintenance window for a large log (docs/access-log.md).

Partition names (``audit_accesslogentry_yYYYYmMM``) are what congdan.audit.partitions
expects; this file keeps its own copy of the SQL so that it never changes with the app.
"""

import datetime as dt

from django.db import migrations

TABLE = "audit_accesslogentry"
OLD = "audit_accesslogentry_unpartitioned"
SEQ = "audit_accesslogentry_id_seq"
TRIGGER_SQL = (
    f"CREATE TRIGGER audit_access_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
)


def _relkind(cursor, name):
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [name])
    row = cursor.fetchone()
    return row[0] if row else None


def _index_defs(cursor, table):
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s AND indexname <> %s "
        "ORDER BY indexname",
        [table, f"{table}_pkey"],
    )
    return cursor.fetchall()


def _add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _create_partition(cursor, month):
    nxt = _add_months(month, 1)
    cursor.execute(
        f"CREATE TABLE {TABLE}_y{month:%Y}m{month:%m} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{month:%Y-%m-%d} 00:00:00+00') TO ('{nxt:%Y-%m-%d} 00:00:00+00')"
    )


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "r":
            return  # already partitioned (by hand, following the old operations guide)
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        indexes = _index_defs(cursor, TABLE)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(f"ALTER INDEX {TABLE}_pkey RENAME TO {OLD}_pkey")
        cursor.execute(f"SELECT pg_get_serial_sequence('{OLD}', 'id')")
        old_seq = cursor.fetchone()[0]
        last = 0
        if old_seq:
            cursor.execute(f"SELECT last_value, is_called FROM {old_seq}")
            value, called = cursor.fetchone()
            last = value if called else 0
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (at)"
        )
        # A default copied from the old table would tie the partitions to its sequence.
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id DROP DEFAULT")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, at)")
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM {OLD}"
        )
        months = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT (now() AT TIME ZONE 'UTC')::date")
        today = cursor.fetchone()[0]
        this_month = dt.date(today.year, today.month, 1)
        months |= {_add_months(this_month, i) for i in range(3)}
        for month in sorted(months):
            _create_partition(cursor, month)
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(f"SELECT max(id) FROM {TABLE}")
        last = max(last, cursor.fetchone()[0] or 0)
        cursor.execute(f"DROP TABLE {OLD}")  # its trigger and identity sequence go with it
        cursor.execute(f"CREATE SEQUENCE {SEQ} AS bigint OWNED BY {TABLE}.id")
        if last:
            cursor.execute("SELECT setval(%s, %s, true)", [SEQ, last])
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{SEQ}')")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(TRIGGER_SQL)


def unpartition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "p":
            return
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        indexes = _index_defs(cursor, TABLE)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(f"ALTER SEQUENCE {SEQ} OWNED BY NONE")
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(f"ALTER INDEX {TABLE}_pkey RENAME TO {OLD}_pkey")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE INCLUDING COMMENTS)"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(f"DROP TABLE {OLD} CASCADE")
        cursor.execute(f"ALTER SEQUENCE {SEQ} OWNED BY {TABLE}.id")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(TRIGGER_SQL)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_access_log_seal")]

    operations = [migrations.RunPython(partition, unpartition)]

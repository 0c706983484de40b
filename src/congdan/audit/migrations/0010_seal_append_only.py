"""Seals are written once; the only later change is setting ``pruned_at`` (retention).

PostgreSQL: a trigger refuses DELETE and any UPDATE but setting ``pruned_at`` from NULL.
SQLite: the same for UPDATE (DELETE stays possible there: Django's test flush deletes).

SQLite also gets the access log's own UPDATE trigger back: 0007 added columns, which on
SQLite rebuilds the table and drops its triggers (0003).
"""

from django.db import migrations

COLUMNS = (
    "id", "month", "first_id", "last_id", "count", "closed", "entries_digest", "prev_hash",
    "seal_hash", "signature", "key_id", "sealed_at",
)

PG_UP = """
CREATE OR REPLACE FUNCTION audit_seal_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.pruned_at IS NULL AND NEW.pruned_at IS NOT NULL
     AND (to_jsonb(NEW) - 'pruned_at') = (to_jsonb(OLD) - 'pruned_at') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION USING MESSAGE =
    'audit_accesslogseal: ' || TG_OP || ' refused (only pruned_at may be set, once)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_accesslogseal
FOR EACH ROW EXECUTE FUNCTION audit_seal_guard();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_accesslogseal;
DROP FUNCTION IF EXISTS audit_seal_guard();
"""
SQLITE_UP = (
    "CREATE TRIGGER audit_seal_append_only BEFORE UPDATE ON audit_accesslogseal "
    "WHEN OLD.pruned_at IS NOT NULL OR NEW.pruned_at IS NULL OR "
    + " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in COLUMNS)
    + " BEGIN SELECT RAISE(ABORT, 'audit_accesslogseal: only pruned_at may be set, once'); END;"
)
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_seal_append_only;"
SQLITE_ENTRY_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS audit_access_append_only BEFORE UPDATE ON audit_accesslogentry"
    " BEGIN SELECT RAISE(ABORT, 'audit_accesslogentry is append-only'); END;"
)


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
        schema_editor.execute(SQLITE_ENTRY_TRIGGER)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_partition_access_log")]

    operations = [migrations.RunPython(up, down)]

"""Make the access log append-only in the database, not only in the model.

PostgreSQL: a trigger refuses UPDATE and DELETE (TRUNCATE / dropping a monthly partition
stays possible for retention, an operator's act). SQLite: a trigger refuses UPDATE (DELETE
stays possible there because Django's test flush empties tables with DELETE).
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = 'audit_accesslogentry is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_access_append_only BEFORE UPDATE OR DELETE ON audit_accesslogentry
FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS audit_access_append_only ON audit_accesslogentry;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""
SQLITE_UP = """
CREATE TRIGGER audit_access_append_only BEFORE UPDATE ON audit_accesslogentry
BEGIN SELECT RAISE(ABORT, 'audit_accesslogentry is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_access_append_only;"


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunPython(up, down)]

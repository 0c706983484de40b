"""PostgreSQL: the folded name in byte order, for ordered prefix search (docs/search.md)."""

from django.db import migrations


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS reg_person_name_c ON registry_person "
            '((name_search COLLATE "C"), id)'
        )


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS reg_person_name_c")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_reference_data_and_search")]

    operations = [migrations.RunPython(up, down)]

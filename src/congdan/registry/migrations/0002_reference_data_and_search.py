"""Reference data (54 ethnic groups, recognised religions) and PostgreSQL search indexes."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def load_reference_data(apps, schema_editor):
    for model_name, filename in (("Ethnicity", "ethnicities.json"), ("Religion", "religions.json")):
        model = apps.get_model("registry", model_name)
        items = json.loads((DATA / filename).read_text(encoding="utf-8"))["items"]
        for item in items:
            model.objects.update_or_create(
                code=item["code"], defaults={"name": item["name"], "name_en": item["name_en"]}
            )


def pg_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # Substring and prefix search on the folded name ("van an" within "nguyen van an").
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS reg_person_name_trgm ON registry_person "
        "USING gin (name_search gin_trgm_ops)"
    )


def drop_pg_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS reg_person_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(load_reference_data, migrations.RunPython.noop),
        migrations.RunPython(pg_search_indexes, drop_pg_search_indexes),
    ]

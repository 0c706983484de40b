"""Load the administrative units of both schemes (see congdan.geo.loader, docs/geo.md)."""

from django.db import migrations


def load(apps, schema_editor):
    from congdan.geo.loader import load_units

    load_units(
        apps.get_model("geo", "AdministrativeUnit"), using=schema_editor.connection.alias
    )


class Migration(migrations.Migration):

    dependencies = [
        ("geo", "0002_successor_partial"),
    ]

    operations = [
        # Reverse is a no-op: units are reference data that other tables point at
        # (on_delete=PROTECT); rolling back the schema drops them anyway.
        migrations.RunPython(load, migrations.RunPython.noop, elidable=False),
    ]

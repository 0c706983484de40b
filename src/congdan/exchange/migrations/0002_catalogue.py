"""Load the data-service catalogue (congdan.exchange.catalogue)."""

from django.db import migrations


def load(apps, schema_editor):
    from congdan.exchange.catalogue import ensure_catalogue

    ensure_catalogue(apps)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

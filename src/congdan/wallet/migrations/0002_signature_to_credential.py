from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="document", name="wallet_doc_revoked_at"),
        migrations.RenameField(model_name="document", old_name="signature", new_name="credential"),
    ]

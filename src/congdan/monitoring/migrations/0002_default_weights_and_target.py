"""Data: the default weights of the Decision 766 service index and the national target
for the online dossier rate in 2026 (≥ 40 %)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations

# Decision 766/QĐ-TTg scores 100 points; its separate "online services" (12) and "online
# payment" (10) groups are one group here (22).
WEIGHTS = {
    "transparency": Decimal(18),
    "progress": Decimal(20),
    "digitisation": Decimal(22),
    "online": Decimal(22),
    "satisfaction": Decimal(18),
}


def forwards(apps: Any, schema_editor: Any) -> None:
    index_weight = apps.get_model("monitoring", "IndexWeight")
    target = apps.get_model("monitoring", "Target")
    for group, weight in WEIGHTS.items():
        index_weight.objects.get_or_create(group=group, defaults={"weight": weight})
    if not target.objects.filter(kpi="online_dossier_rate", unit=None, year=2026).exists():
        target.objects.create(
            kpi="online_dossier_rate",
            unit=None,
            year=2026,
            value=Decimal(40),
            amber_margin=Decimal(10),
            note="Mục tiêu toàn quốc: tỷ lệ hồ sơ trực tuyến tối thiểu 40%",
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    apps.get_model("monitoring", "IndexWeight").objects.filter(group__in=list(WEIGHTS)).delete()
    apps.get_model("monitoring", "Target").objects.filter(
        kpi="online_dossier_rate", unit=None, year=2026
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

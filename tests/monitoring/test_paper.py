"""Counter mode: paper dossier counts recorded by commune counter officers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congdan.audit.models import ChangeRecord
from congdan.core.errors import PermissionDenied, ValidationFailed
from congdan.monitoring.models import PaperDossierCount, RefreshedDay
from congdan.monitoring.services import paper as svc
from tests.monitoring.helpers_g import TaskWorld, build_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def tw(db: None) -> TaskWorld:
    return build_world()


def test_record_then_correct_is_upsert_audited(tw: TaskWorld) -> None:
    day = timezone.localdate() - dt.timedelta(days=1)
    RefreshedDay.objects.create(day=day)
    row = svc.record_paper_count(tw.officer, day=day, procedure_code="birth_registration", count=7)
    assert (row.commune_id, row.agency_id, row.count) == (tw.commune.pk, tw.police.pk, 7)
    assert RefreshedDay.objects.get(day=day).stale
    svc.record_paper_count(
        tw.justice_officer, day=day, procedure_code="birth_registration", count=2
    )
    again = svc.record_paper_count(
        tw.officer, day=day, procedure_code="birth_registration", count=9
    )
    assert again.pk == row.pk
    assert PaperDossierCount.objects.count() == 2  # one per agency
    changes = list(
        ChangeRecord.objects.filter(action="record_paper_count", object_id=row.pk)
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert changes == [{"count": [None, 7]}, {"count": [7, 9]}]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"day": "future", "count": 1}, "day"),
        ({"day": "old", "count": 1}, "day"),
        ({"count": -1}, "count"),
        ({"count": 10_001}, "count"),
        ({"count": "3.5"}, "count"),
        ({"procedure_code": "no_such_procedure", "count": 1}, "procedure_code"),
    ],
)
def test_validation(tw: TaskWorld, kwargs: dict[str, object], field: str) -> None:
    today = timezone.localdate()
    days = {"future": today + dt.timedelta(days=1), "old": today - dt.timedelta(days=400)}
    args = {"day": today, "procedure_code": "birth_registration", **kwargs}
    args["day"] = days.get(str(args["day"]), args["day"])
    with pytest.raises(ValidationFailed) as exc:
        svc.record_paper_count(tw.officer, **args)
    assert exc.value.field == field
    assert not PaperDossierCount.objects.exists()


def test_limits_accepted(tw: TaskWorld) -> None:
    today = timezone.localdate()
    assert (
        svc.record_paper_count(
            tw.officer, day=today, procedure_code="birth_registration", count=0
        ).count
        == 0
    )
    assert (
        svc.record_paper_count(
            tw.officer, day=today, procedure_code="death_registration", count=10_000
        ).count
        == 10_000
    )


def test_denied(tw: TaskWorld) -> None:
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):  # leaders do not hold PAPER_COUNT_RECORD
        svc.record_paper_count(
            tw.commune_leader, day=today, procedure_code="birth_registration", count=1
        )
    with pytest.raises(PermissionDenied) as exc:  # a provincial agency has no counter here
        svc.record_paper_count(
            tw.province_officer, day=today, procedure_code="birth_registration", count=1
        )
    assert exc.value.code == "not_commune_counter"


def test_recent_counts_only_own_agency_last_30_days(tw: TaskWorld) -> None:
    today = timezone.localdate()
    svc.record_paper_count(tw.officer, day=today, procedure_code="birth_registration", count=3)
    svc.record_paper_count(
        tw.officer, day=today - dt.timedelta(days=29), procedure_code="birth_registration", count=4
    )
    svc.record_paper_count(
        tw.officer, day=today - dt.timedelta(days=30), procedure_code="birth_registration", count=5
    )
    svc.record_paper_count(
        tw.other_officer, day=today, procedure_code="birth_registration", count=6
    )
    assert [r.count for r in svc.recent_counts(tw.officer)] == [3, 4]


def test_page(tw: TaskWorld) -> None:
    client = Client()
    client.force_login(tw.officer)
    url = reverse("monitoring:paper_counts")
    assert client.get(url).status_code == 200
    today = timezone.localdate()
    ok = client.post(
        url, {"day": today.isoformat(), "procedure_code": "birth_registration", "count": "12"}
    )
    assert ok.status_code == 302
    page = client.get(url).content.decode()
    assert "12" in page
    future = (today + dt.timedelta(days=2)).isoformat()
    bad = client.post(url, {"day": future, "procedure_code": "birth_registration", "count": "1"})
    assert bad.status_code == 400
    junk = client.post(url, {"day": "xx", "procedure_code": "zz", "count": "-5"})
    assert junk.status_code == 400
    assert PaperDossierCount.objects.get().count == 12
    for user, status in ((tw.province_officer, 403), (tw.commune_leader, 403), (tw.nobody, 403)):
        other = Client()
        other.force_login(user)
        assert other.get(url).status_code == status

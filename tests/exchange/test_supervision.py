"""Supervision for the data-protection officer (/supervision/access/): who may see it,
volumes per organisation × service × purpose per day/month in local time, the chart and
its table, CSV, anomalies and the entries behind a finding (whose viewing is logged)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, Channel
from congdan.core.models import User
from congdan.core.permissions import Role
from congdan.exchange import anomalies, supervision
from congdan.exchange.models import MemberKind
from congdan.exchange.services import members
from tests import factories
from tests.conftest import World
from tests.exchange.test_anomalies import MONDAY, add, add_many, at, persons_numbered
from tests.exchange.test_tracker import shown_ids
from tests.identity.helpers import make_account, portal_login

pytestmark = [pytest.mark.django_db]

URL = "/supervision/access/"
EXPORT = "/supervision/access/export.csv"
ANOMALIES = "/supervision/access/anomalies/"
FINDING = "/supervision/access/finding/"
PERIOD = {"start": "2025-03-01", "end": "2025-03-31"}


@pytest.fixture
def dpo(world: World) -> User:
    return factories.make_user(Role.DPO, unit=None, username="dpo")


@pytest.fixture
def http(client: Client, dpo: User) -> Client:
    client.force_login(dpo)
    return client


def body_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- who may see it --------------------------------------------------------------------------

PAGES = [
    URL,
    EXPORT,
    ANOMALIES,
    f"{FINDING}?rule=volume&day=2025-03-10&org=bank1",
]


@pytest.mark.parametrize("page", PAGES)
def test_only_the_data_protection_officer(
    client: Client, world: World, dpo: User, page: str
) -> None:
    assert client.get(page).status_code == 302  # to the login page
    portal_login(client, make_account(world.person))  # a citizen
    assert client.get(page).status_code == 403
    for user in (world.commune_officer, world.province_officer, world.steward, world.nobody):
        client.force_login(user)
        assert client.get(page).status_code == 403, user
    for user in (dpo, world.admin):
        client.force_login(user)
        assert client.get(page).status_code == 200, user


# --- volumes ---------------------------------------------------------------------------------


def test_volumes_per_day_organisation_service_and_purpose(http: Client, world: World) -> None:
    bank = members.register_member(
        None, code="bank1", name="Ngân hàng Một", kind=MemberKind.BANK, member_class="COM"
    )
    pid = world.person.pk
    add_many(bank.code, pid, at(dt.date(2025, 3, 3), 23, 30), 3)  # local 23:30 → the 3rd
    add_many(bank.code, pid, at(dt.date(2025, 3, 4), 0, 30), 2)  # local 00:30 → the 4th
    add("bank1", [pid], at(dt.date(2025, 3, 4)), view="card-status", purpose="boarding_check")
    add("tel", [pid] * 4, at(dt.date(2025, 3, 4)))
    add("bank1", [pid] * 9, at(dt.date(2025, 4, 1)))  # outside the period

    response = http.get(URL, PERIOD)

    assert response.status_code == 200
    totals = {t["day"]: t["count"] for t in response.context["totals"]}
    assert len(totals) == 31 and totals[dt.date(2025, 3, 3)] == 3
    assert totals[dt.date(2025, 3, 4)] == 7
    assert response.context["total"] == 10
    assert [(o["code"], o["name"], o["count"]) for o in response.context["by_org"]] == [
        ("bank1", "Ngân hàng Một", 6),
        ("tel", "tel", 4),
    ]
    detail = [
        (d["row"].bucket, d["row"].organisation, d["row"].view, d["row"].purpose, d["row"].count)
        for d in response.context["detail"]
    ]
    assert detail == [
        (dt.date(2025, 3, 3), "bank1", "person-basic", "kyc_account_opening", 3),
        (dt.date(2025, 3, 4), "bank1", "card-status", "boarding_check", 1),
        (dt.date(2025, 3, 4), "bank1", "person-basic", "kyc_account_opening", 2),
        (dt.date(2025, 3, 4), "tel", "person-basic", "kyc_account_opening", 4),
    ]
    content = response.content.decode()
    assert "<svg" in content and content.count("<rect") == 31  # one bar a day
    # Coordinates are plain numbers whatever the language (vi writes 216,0).
    assert re.search(r'<rect x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="[0-9.]+"', content)
    assert not re.search(r'(x|y|width|height)="[0-9]+,[0-9]', content)
    assert "Ngân hàng Một" in content


def test_volumes_per_month_and_filtered(http: Client, world: World) -> None:
    pid = world.person.pk
    add("bank1", [pid] * 2, at(dt.date(2025, 1, 31), 23))
    add("bank1", [pid] * 5, at(dt.date(2025, 2, 1), 1))
    add("tel", [pid] * 7, at(dt.date(2025, 2, 2)), channel=Channel.API)

    response = http.get(URL, {"start": "2025-01-01", "end": "2025-03-31", "granularity": "month"})
    assert [(t["day"], t["count"]) for t in response.context["totals"]] == [
        (dt.date(2025, 1, 1), 2),
        (dt.date(2025, 2, 1), 12),
        (dt.date(2025, 3, 1), 0),
    ]
    only_bank = http.get(
        URL,
        {
            "start": "2025-01-01",
            "end": "2025-03-31",
            "granularity": "month",
            "organisation": "bank1",
        },
    )
    assert only_bank.context["total"] == 7
    only_api = http.get(URL, {"start": "2025-01-01", "end": "2025-03-31", "channel": "api"})
    assert only_api.context["total"] == 7


def test_volume_csv_export(http: Client, world: World) -> None:
    add("bank1", [world.person.pk] * 3, at(dt.date(2025, 3, 5)))

    response = http.get(EXPORT, PERIOD)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = body_rows(response)
    assert rows[0][0] == "Kỳ"
    assert rows[1:] == [
        ["2025-03-05", "bank1", "bank1", "person-basic", "kyc_account_opening", "3"]
    ]
    monthly = body_rows(http.get(EXPORT, {**PERIOD, "granularity": "month"}))
    assert monthly[1][0] == "2025-03"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-03-31", "end": "2025-03-01"},
        {"start": "2020-01-01", "end": "2025-03-01"},
        {"start": "0001-01-01", "end": "2025-03-01", "granularity": "month"},
        {"start": "soon", "end": "2025-03-01"},
        {"granularity": "hour"},
        {"organisation": "a\x00b"},
        {"channel": "x"},
    ],
)
def test_bad_volume_parameters_are_a_400(http: Client, params: dict[str, str]) -> None:
    response = http.get(URL, params)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert http.get(EXPORT, params).status_code == 400


def test_bar_chart_scales_to_the_largest_bucket() -> None:
    chart = supervision.bar_chart([("a", 0), ("b", 50), ("c", 100)])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1])
    assert chart.max_count == 100
    assert chart.ticks[-1][1] == 100
    assert supervision.bar_chart([]).bars == []


# --- anomalies and their entries --------------------------------------------------------------


def test_anomaly_page_links_each_finding_to_its_entries(http: Client, world: World) -> None:
    scanned = persons_numbered(800, 20)
    add("scanner", [p.pk for p in scanned], at(MONDAY, 15))

    response = http.get(ANOMALIES, {"day": MONDAY.isoformat()})

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["finding"].rule for row in rows] == [anomalies.SEQUENTIAL]
    link = f"{FINDING}?{rows[0]['query']}"
    assert link.replace("&", "&amp;") in response.content.decode()

    before = AccessLogEntry.objects.count()
    page = http.get(link)

    assert page.status_code == 200
    shown = {row["id_number"] for row in page.context["rows"]}
    assert shown == {p.id_number for p in scanned}
    # The officer's reading is logged on each person shown, and excluded from the rules.
    logged = AccessLogEntry.objects.filter(view=anomalies.SUPERVISION_VIEW)
    assert AccessLogEntry.objects.count() == before + 20
    assert set(logged.values_list("person_id", flat=True)) == {p.pk for p in scanned}
    assert set(logged.values_list("purpose", flat=True)) == {anomalies.SUPERVISION_PURPOSE}
    assert set(logged.values_list("channel", flat=True)) == {Channel.UI}
    assert set(logged.values_list("actor_label", flat=True)) == {"dpo"}
    assert http.get(link).context["rows"] == page.context["rows"]


def test_the_citizen_sees_the_supervision_in_the_tracker(
    http: Client, client: Client, world: World
) -> None:
    for org in ["m1", "m2", "m3", "m4", "m5"]:
        add(org, [world.person.pk], at(MONDAY))
    day = MONDAY.isoformat()
    assert (
        http.get(
            FINDING, {"rule": "many_members", "day": day, "person": str(world.person.pk)}
        ).status_code
        == 200
    )
    supervision_entry = AccessLogEntry.objects.get(view=anomalies.SUPERVISION_VIEW)

    citizen = portal_login(Client(), make_account(world.person))
    tracker = citizen.get("/me/data/access/")
    assert supervision_entry.pk in shown_ids(tracker)
    assert "Giám sát bảo vệ dữ liệu cá nhân" in tracker.content.decode()


def test_finding_entries_are_keyset_paged(http: Client, world: World) -> None:
    add_many("owl", world.person.pk, at(MONDAY, 2), 130)

    first = http.get(FINDING, {"rule": "off_hours", "day": MONDAY.isoformat(), "org": "owl"})
    assert len(first.context["rows"]) == 100
    second = http.get(
        FINDING,
        {
            "rule": "off_hours",
            "day": MONDAY.isoformat(),
            "org": "owl",
            "before": first.context["older"],
        },
    )
    assert len(second.context["rows"]) == 30
    assert second.context["older"] is None
    ids = [r["entry"].pk for r in first.context["rows"] + second.context["rows"]]
    assert len(set(ids)) == 130 and ids == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?rule=volume",
        "?rule=volume&day=2025-13-01&org=x",
        "?rule=sequential&day=2025-03-10&org=x&first=abc&last=def",
        "?rule=many_members&day=2025-03-10&person=abc",
        "?rule=gossip&day=2025-03-10&org=x",
    ],
)
def test_malformed_finding_is_a_404(http: Client, query: str) -> None:
    assert http.get(f"{FINDING}{query}").status_code == 404


@pytest.mark.parametrize("day", ["tomorrow", "0001-01-01", "2025-02-30"])
def test_bad_anomaly_day_is_a_400(http: Client, day: str) -> None:
    assert http.get(ANOMALIES, {"day": day}).status_code == 400


def test_anomaly_page_defaults_to_today(http: Client) -> None:
    response = http.get(ANOMALIES)
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()


def test_supervising_a_hidden_investigation_keeps_it_hidden(http: Client, world: World) -> None:
    """An investigation's reads are hidden from the citizens; the officer's read of the
    finding behind them is hidden as long, or it would reveal them."""
    from congdan.exchange.views.tracker import visible_entries

    scanned = persons_numbered(900, 20)
    until = timezone.localdate() + dt.timedelta(days=180)
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            at=at(MONDAY, 15),
            actor_label="VN/GOV/police/main",
            organisation="police",
            person_id=p.pk,
            channel=Channel.EXCHANGE,
            view="person-basic",
            fields="full_name",
            purpose="criminal_investigation",
            hidden_until=until,
        )
        for p in scanned
    )
    add("bank1", [scanned[0].pk], at(MONDAY, 16))  # one visible read of the first person
    finding = next(f for f in anomalies.run_all(MONDAY) if f.rule == anomalies.SEQUENTIAL)
    assert http.get(FINDING, finding.params()).status_code == 200
    logged = AccessLogEntry.objects.filter(view=anomalies.SUPERVISION_VIEW)
    assert logged.count() == 20
    assert set(logged.values_list("hidden_until", flat=True)) == {until}
    for person in scanned:
        assert not [e for e in visible_entries(person) if e.view == anomalies.SUPERVISION_VIEW]

"""The citizen's data tracker (/me/data/access/): exactly the citizen's own entries from
every channel, hidden entries appear on their date, filters, keyset paging, CSV export;
viewing it is not itself logged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, Channel, Outcome
from congdan.audit.services import log_access
from congdan.exchange.models import MemberKind
from congdan.exchange.services import members
from congdan.exchange.views.tracker import PAGE_SIZE, visible_entries
from congdan.identity.models import EidAccount
from congdan.registry.models import Person
from tests.conftest import World
from tests.identity.helpers import make_account, portal_login

pytestmark = [pytest.mark.django_db]

TZ = timezone.get_default_timezone()
URL = "/me/data/access/"
EXPORT = "/me/data/access/export.csv"


@pytest.fixture
def account(world: World) -> EidAccount:
    return make_account(world.person)


@pytest.fixture
def http(client: Client, account: EidAccount) -> Client:
    return portal_login(client, account)


def entry(person: Person | int, when: dt.datetime | None = None, **fields: Any) -> AccessLogEntry:
    values: dict[str, Any] = {
        "actor_label": "cax",
        "organisation": "",
        "channel": Channel.UI,
        "view": "person_detail",
        "fields": "full_name,birth_date",
        "purpose": "registry_lookup",
        **fields,
    }
    return AccessLogEntry.objects.create(
        person_id=person if isinstance(person, int) else person.pk,
        at=when or timezone.now(),
        **values,
    )


def local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def shown_ids(response: Any) -> list[int]:
    return [row["entry"].pk for row in response.context["rows"]]


def csv_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- whose entries ---------------------------------------------------------------------------


def test_shows_exactly_the_citizens_own_entries_from_every_channel(
    http: Client, world: World
) -> None:
    mine = [entry(world.person, channel=c, actor_label=f"reader-{c}") for c in Channel.values]
    log_access(
        world.commune_officer,
        person_ids=[world.person.pk, world.neighbour.pk],
        channel=Channel.UI,
        view="person_search",
        fields=("id_number", "full_name"),
        purpose="registry_search",
    )
    searched = AccessLogEntry.objects.get(person=world.person, view="person_search")
    entry(world.neighbour, actor_label="reader-of-neighbour")
    entry(world.far_person, actor_label="reader-of-far")

    response = http.get(URL)

    assert response.status_code == 200
    assert shown_ids(response) == sorted([e.pk for e in mine] + [searched.pk], reverse=True)
    content = response.content.decode()
    assert "reader-of-neighbour" not in content
    assert "reader-of-far" not in content


def test_another_persons_entries_are_never_reachable(http: Client, world: World) -> None:
    theirs = entry(world.neighbour, organisation="bank1", channel=Channel.EXCHANGE)
    mine = entry(world.person)

    for params in (
        {},
        {"organisation": "bank1"},
        {"before": str(theirs.pk + 1)},
        {"after": "0"},
        {"person": str(world.neighbour.pk)},
    ):
        response = http.get(URL, params)
        assert theirs.pk not in shown_ids(response), params
    assert shown_ids(http.get(URL)) == [mine.pk]
    exported = csv_rows(http.get(EXPORT))
    assert len(exported) == 2  # the header and the citizen's own entry


def test_citizens_only(client: Client, world: World) -> None:
    entry(world.person)
    response = client.get(URL)
    assert response.status_code == 302
    assert "next=" in response["Location"]
    client.force_login(world.commune_officer)  # an officer has no e-ID account
    assert client.get(URL).status_code == 302
    assert client.get(EXPORT).status_code == 302


def test_viewing_the_tracker_is_not_logged(http: Client, world: World) -> None:
    entry(world.person)
    before = AccessLogEntry.objects.count()

    assert http.get(URL).status_code == 200
    assert len(csv_rows(http.get(EXPORT))) == 2

    assert AccessLogEntry.objects.count() == before


# --- hidden entries ----------------------------------------------------------------------


def test_hidden_entries_are_neither_shown_counted_nor_exported(http: Client, world: World) -> None:
    today = timezone.localdate()
    hidden = entry(
        world.person,
        organisation="c01",
        actor_label="investigator",
        channel=Channel.EXCHANGE,
        hidden_until=today + dt.timedelta(days=1),
    )
    due = entry(world.person, hidden_until=today)
    past = entry(world.person, hidden_until=today - dt.timedelta(days=30))
    plain = entry(world.person)

    response = http.get(URL)

    assert shown_ids(response) == [plain.pk, past.pk, due.pk]
    assert "investigator" not in response.content.decode()
    # Not even as a filter choice.
    assert "c01" not in dict(response.context["form"].fields["organisation"].choices)
    assert hidden.pk not in shown_ids(http.get(URL, {"after": "0"}))
    assert len(csv_rows(http.get(EXPORT))) == 1 + 3


def test_hidden_entries_appear_on_their_date(
    http: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = timezone.localdate()
    hidden = entry(world.person, actor_label="investigator", hidden_until=today + dt.timedelta(180))
    assert shown_ids(http.get(URL)) == []
    assert visible_entries(world.person.pk, today + dt.timedelta(179)).count() == 0

    # The clock moves to the day the hiding ends.
    real_localdate = timezone.localdate
    monkeypatch.setattr(
        timezone, "localdate", lambda *a, **k: real_localdate(*a, **k) + dt.timedelta(180)
    )

    response = http.get(URL)
    assert shown_ids(response) == [hidden.pk]
    assert "investigator" in response.content.decode()
    assert len(csv_rows(http.get(EXPORT))) == 2


# --- what a row says ---------------------------------------------------------------------------


def test_rows_name_the_organisation_service_fields_and_purpose(http: Client, world: World) -> None:
    bank = members.register_member(
        None, code="vcb", name="Ngân hàng Ngoại thương", kind=MemberKind.BANK, member_class="COM"
    )
    entry(
        world.person,
        organisation=bank.code,
        actor_label="VN/COM/vcb/ekyc",
        channel=Channel.EXCHANGE,
        view="person-basic",
        fields="full_name,birth_date",
        purpose="kyc_full_profile",
        outcome=Outcome.OK,
    )
    agency = world.commune_officer.agency
    assert agency is not None
    entry(
        world.person,
        organisation=agency.code,
        channel=Channel.UI,
        fields="id_number",
        purpose="eid_level2",
    )

    response = http.get(URL)
    content = response.content.decode()

    assert "Ngân hàng Ngoại thương" in content
    assert "Thông tin cơ bản của công dân" in content  # the service's name
    assert "Định danh khách hàng (eKYC)" in content  # the purpose's name
    assert "Thông tư 17/2024/TT-NHNN" in content  # its legal basis
    assert "Họ, chữ đệm và tên" in content and "Ngày sinh" in content  # field labels
    assert agency.name in content
    assert "Xác thực định danh điện tử mức độ 2" in content
    assert "Đã cung cấp dữ liệu" in content


# --- filters, paging, export -----------------------------------------------------------------


def test_filters_by_date_range_organisation_and_channel(http: Client, world: World) -> None:
    day = dt.date(2025, 6, 10)
    early = entry(world.person, local(day, 0), organisation="bank1", channel=Channel.EXCHANGE)
    late = entry(world.person, local(day, 23), organisation="bank2", channel=Channel.EXCHANGE)
    before = entry(world.person, local(day - dt.timedelta(1), 23), organisation="bank1")
    after = entry(world.person, local(day + dt.timedelta(1), 0), channel=Channel.OIDC)

    def ids(**params: str) -> list[int]:
        response = http.get(URL, params)
        assert response.status_code == 200
        return shown_ids(response)

    assert ids(date_from="2025-06-10", date_to="2025-06-10") == [late.pk, early.pk]
    assert ids(date_from="10/06/2025") == [after.pk, late.pk, early.pk]
    assert ids(date_to="2025-06-09") == [before.pk]
    assert ids(organisation="bank1") == [before.pk, early.pk]
    assert ids(channel=Channel.OIDC) == [after.pk]
    assert ids(channel=Channel.EXCHANGE, organisation="bank2") == [late.pk]

    rows = csv_rows(http.get(EXPORT, {"organisation": "bank1", "date_from": "2025-06-10"}))
    assert len(rows) == 2
    assert rows[1][0] == "2025-06-10 00:00:00"  # local time


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "yesterday"},
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"date_from": "2025-06-10", "date_to": "2025-06-01"},
        {"channel": "telepathy"},
        {"organisation": "not-one-of-mine"},
        {"organisation": "a\x00b"},
    ],
)
def test_bad_filters_are_a_form_error_not_a_500(
    http: Client, world: World, params: dict[str, str]
) -> None:
    entry(world.person)
    response = http.get(URL, params)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert response.context["rows"] == []
    assert http.get(EXPORT, params).status_code == 400


@pytest.mark.parametrize("cursor", ["abc", "-5", "1" * 40, "1.5"])
def test_bad_cursors_fall_back_to_the_first_page(http: Client, world: World, cursor: str) -> None:
    only = entry(world.person)
    assert shown_ids(http.get(URL, {"before": cursor, "after": cursor})) == [only.pk]


def test_keyset_paging_newest_first(http: Client, world: World) -> None:
    log_access(
        None,
        person_ids=[world.person.pk],
        channel=Channel.SYSTEM,
        view="v",
        fields=(),
        purpose="p",
    )
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                person_id=world.person.pk,
                actor_label=f"r{n}",
                channel=Channel.UI,
                view="v",
                purpose="p",
            )
            for n in range(2 * PAGE_SIZE + 19)
        ]
    )
    all_ids = list(
        AccessLogEntry.objects.filter(person=world.person)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    assert len(all_ids) == 2 * PAGE_SIZE + 20

    first = http.get(URL)
    assert shown_ids(first) == all_ids[:PAGE_SIZE]
    assert first.context["newer"] is None
    second = http.get(URL, {"before": first.context["older"]})
    assert shown_ids(second) == all_ids[PAGE_SIZE : 2 * PAGE_SIZE]
    third = http.get(URL, {"before": second.context["older"]})
    assert shown_ids(third) == all_ids[2 * PAGE_SIZE :]
    assert third.context["older"] is None
    back = http.get(URL, {"after": third.context["newer"]})
    assert shown_ids(back) == all_ids[PAGE_SIZE : 2 * PAGE_SIZE]
    assert f"before={second.context['older']}" in second.content.decode()


def test_csv_export_is_utf8_with_bom_and_safe_for_spreadsheets(http: Client, world: World) -> None:
    entry(world.person, actor_label='=HYPERLINK("http://evil")', purpose="Kiểm tra")

    response = http.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][0] == "Thời điểm"
    assert rows[1][2].startswith("'=")
    assert rows[1][6] == "Kiểm tra"


def test_connected_applications_reads_are_labelled(http: Client, world: World) -> None:
    entry(
        world.person,
        channel=Channel.OIDC,
        actor_label="oidc:bank-app",
        organisation="Ngân hàng Thử",
        view="oidc:id_token",
        fields="name,birthdate,gender,id_number",
        purpose="oidc:bank-app",
    )
    [row] = http.get(URL).context["rows"]
    assert row["fields"] == ["Họ, chữ đệm và tên", "Ngày sinh", "Giới tính", "Số định danh cá nhân"]
    assert row["purpose"] == "Cung cấp thông tin cho ứng dụng bạn đã đồng ý kết nối"
    assert row["service"] == "Đăng nhập bằng tài khoản định danh (ID token)"
    assert row["organisation"] == "Ngân hàng Thử"

"""The programme dashboards: the overview of every KPI of a unit, the drill-down of one
KPI (ranking of child units with the laggards marked, per procedure and agency, time
series against the target), their scoping by jurisdiction and their query budget.

The figures are daily facts written directly (the KPI engine's own tests cover how facts
are computed from dossiers); every expectation below is computed by hand from them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring import charts, kpis, targets
from congdan.monitoring.models import DossierFact, Target
from congdan.monitoring.views.dashboard import TargetBook
from tests import factories

YEAR = 2025
BIRTH = "birth_registration"
TEMP = "temporary_residence_registration"
OVERVIEW = "/monitoring/"
ONLINE = "/monitoring/kpi/online_dossier_rate/"


@dataclass
class Dash:
    province: AdministrativeUnit
    c1: AdministrativeUnit
    c2: AdministrativeUnit
    c3: AdministrativeUnit
    c4: AdministrativeUnit
    c5: AdministrativeUnit
    far_province: AdministrativeUnit
    far_commune: AdministrativeUnit
    justice_c1: Agency
    police_c1: Agency
    province_leader: User
    commune_leader: User
    officer: User
    admin: User


def leader(unit: AdministrativeUnit, username: str | None = None) -> User:
    agency = Agency.objects.create(
        code=f"UBND-{unit.level}-{unit.code}",
        name=f"Ủy ban nhân dân {unit.name}",
        kind=AgencyKind.PEOPLES_COMMITTEE,
        jurisdiction=unit,
    )
    return factories.make_user(Role.LEADER, agency=agency, username=username)


def fact(  # noqa: PLR0917 -- one row of the fact table in the docstring's order
    day: dt.date,
    commune: AdministrativeUnit,
    agency: Agency,
    procedure: str,
    received: int,
    online: int,
) -> DossierFact:
    return DossierFact.objects.create(
        day=day,
        province_id=commune.parent_id,
        commune=commune,
        agency=agency,
        procedure_code=procedure,
        received=received,
        received_online=online,
        digitised=received,
    )


def build_dash() -> Dash:
    """Province 48 with five communes and one far commune (province 01):

    ======  =========================  ========  ======  =======
    unit    facts (day, procedure)     received  online  rate
    ======  =========================  ========  ======  =======
    c1      10/01 birth (justice)      10        6
            03/02 temporary (police)   10        2       40.00
    c2      15/01 birth                10        9       90.00
    c3      01/03 birth                20        5       25.00 (own target 20: green)
    c4      20/01 birth                10        3       30.00 (amber: 10 below 40)
    c5      05/03 birth                10        1       10.00 (red)
    far     10/01 birth                100       100     100.00
    ======  =========================  ========  ======  =======

    Province 48: 26 / 70 = 37.14 % (amber: 2.86 below the national 40).
    """
    province = factories.current_province("48")
    c1, c2, c3, c4, c5 = factories.communes_of(province)[:5]
    far_province = factories.current_province("01")
    far_commune = factories.communes_of(far_province)[0]
    justice = factories.make_agency(c1, kind=AgencyKind.JUSTICE)
    police = factories.make_agency(c1)
    fact(dt.date(YEAR, 1, 10), c1, justice, BIRTH, 10, 6)
    fact(dt.date(YEAR, 2, 3), c1, police, TEMP, 10, 2)
    fact(dt.date(YEAR, 1, 15), c2, factories.make_agency(c2), BIRTH, 10, 9)
    fact(dt.date(YEAR, 3, 1), c3, factories.make_agency(c3), BIRTH, 20, 5)
    fact(dt.date(YEAR, 1, 20), c4, factories.make_agency(c4), BIRTH, 10, 3)
    fact(dt.date(YEAR, 3, 5), c5, factories.make_agency(c5), BIRTH, 10, 1)
    fact(dt.date(YEAR, 1, 10), far_commune, factories.make_agency(far_commune), BIRTH, 100, 100)
    Target.objects.update_or_create(
        kpi="online_dossier_rate",
        unit=None,
        year=YEAR,
        defaults={"value": Decimal(40), "amber_margin": Decimal(10)},
    )
    Target.objects.create(
        kpi="online_dossier_rate", unit=c3, year=YEAR, value=Decimal(20), amber_margin=5
    )
    return Dash(
        province=province,
        c1=c1,
        c2=c2,
        c3=c3,
        c4=c4,
        c5=c5,
        far_province=far_province,
        far_commune=far_commune,
        justice_c1=justice,
        police_c1=police,
        province_leader=leader(province, "lanhdao.tinh.test"),
        commune_leader=leader(c1),
        officer=factories.make_user(Role.OFFICER, unit=c1),
        admin=factories.make_user(Role.ADMIN),
    )


@pytest.fixture
def dash(db: None) -> Dash:
    return build_dash()


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str, **params: Any) -> Any:
    params.setdefault("period", "year")
    params.setdefault("year", YEAR)
    return client.get(url, params)


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def table_rows(response: Any, table: str) -> list[str]:
    """The row headers (labels) of one table of the drill-down page, in order."""
    html = response.content.decode()
    start = html.index(f'id="table-{table}"')
    body = html[start : html.index("</table>", start)]
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', body, re.S)
    ]


def row_html(response: Any, table: str, label: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="table-{table}"')
    body = html[start : html.index("</table>", start)]
    for row in re.findall(r"<tr[^>]*>.*?</tr>", body, re.S):
        if f">{label}<" in row:
            return str(row)
    raise AssertionError(f"no row {label}")


# --- overview ---------------------------------------------------------------------------


def test_overview_of_the_province_for_its_leader(dash: Dash) -> None:
    response = get(as_user(dash.province_leader), OVERVIEW)
    assert response.status_code == 200
    page = text_of(response)
    assert f"Chỉ tiêu Đề án 06 — {dash.province.name}" in page
    card = page[page.index('id="kpi-online_dossier_rate"') :]
    card = card[: card.index("</li>")]
    assert "37,14 %" in card
    assert "26 / 70" in card
    assert "40 %" in card  # the national target, inherited
    assert "−2,86 điểm %" in card
    assert "Gần đạt" in card
    # The written definition of every KPI: numerator, denominator, period.
    assert "Số hồ sơ nộp trực tuyến tiếp nhận trong kỳ" in card
    assert "Các ngày trong kỳ" in card
    assert page.count("<details>") == 13  # 14 KPIs, lookups national-only
    # Its communes are listed for the drill-down, not the other province's.
    assert dash.c5.name in page
    assert dash.far_commune.name not in page


def test_overview_default_period_is_this_year(dash: Dash) -> None:
    response = as_user(dash.province_leader).get(OVERVIEW)
    assert response.status_code == 200
    this_year = dt.date.today().year
    assert f"Năm {this_year}" in text_of(response)


def test_overview_of_a_commune_for_the_commune_leader(dash: Dash) -> None:
    response = get(as_user(dash.commune_leader), OVERVIEW)
    assert response.status_code == 200
    page = text_of(response)
    card = page[page.index('id="kpi-online_dossier_rate"') :]
    card = card[: card.index("</li>")]
    assert "40 %" in card and "8 / 20" in card and "Đạt" in card


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ({"period": "month", "month": 1}, "18 / 30"),  # c1 10/6, c2 10/9, c4 10/3
        ({"period": "quarter", "quarter": 1}, "26 / 70"),
        ({"period": "quarter", "quarter": 2}, "0 / 0"),
        ({"period": "custom", "start": f"{YEAR}-02-01", "end": f"{YEAR}-03-01"}, "7 / 30"),
    ],
)
def test_overview_periods(dash: Dash, period: dict[str, Any], expected: str) -> None:
    response = get(as_user(dash.province_leader), OVERVIEW, **period)
    assert response.status_code == 200
    page = text_of(response)
    card = page[page.index('id="kpi-online_dossier_rate"') :]
    assert expected in card[: card.index("</li>")]


@pytest.mark.parametrize(
    "params",
    [
        {"year": "abc"},
        {"year": "1850"},
        {"period": "month", "month": "13"},
        {"period": "quarter", "quarter": "0"},
        {"period": "custom"},
        {"period": "custom", "start": f"{YEAR}-05-01", "end": f"{YEAR}-04-01"},
        {"period": "custom", "start": "2020-01-01", "end": "2025-01-01"},
        {"period": "custom", "start": "31/02/2025", "end": "2025-03-01"},
        {"period": "weekly"},
        {"start": "\x00", "period": "custom", "end": "2025-01-01"},
    ],
)
def test_bad_period_is_a_400_with_the_form(dash: Dash, params: dict[str, Any]) -> None:
    client = as_user(dash.province_leader)
    for url in (OVERVIEW, ONLINE):
        response = client.get(url, params)
        assert response.status_code == 400, (url, params)
        assert "error-summary" in response.content.decode()


# --- permissions and jurisdiction --------------------------------------------------------


@pytest.mark.parametrize("url", [OVERVIEW, ONLINE])
def test_commune_leader_sees_only_the_commune(dash: Dash, url: str) -> None:
    client = as_user(dash.commune_leader)
    assert get(client, url, unit=dash.c1.pk).status_code == 200
    for unit in (dash.c2, dash.province, dash.far_commune, dash.far_province):
        assert get(client, url, unit=unit.pk).status_code == 404, unit


@pytest.mark.parametrize("url", [OVERVIEW, ONLINE])
def test_province_leader_sees_the_province_and_its_communes(dash: Dash, url: str) -> None:
    client = as_user(dash.province_leader)
    for unit in (dash.province, dash.c1, dash.c5):
        assert get(client, url, unit=unit.pk).status_code == 200
    for unit in (dash.far_commune, dash.far_province):
        assert get(client, url, unit=unit.pk).status_code == 404


@pytest.mark.parametrize("unit", ["abc", "-1", "1.5", "99999999999999", "٣", "0"])
def test_bad_unit_is_a_404(dash: Dash, unit: str) -> None:
    assert as_user(dash.admin).get(OVERVIEW, {"unit": unit}).status_code == 404


def test_legacy_unit_is_a_404(dash: Dash) -> None:
    legacy = factories.legacy_province()
    assert get(as_user(dash.admin), OVERVIEW, unit=legacy.pk).status_code == 404


@pytest.mark.parametrize("url", [OVERVIEW, ONLINE])
def test_denied_without_the_permission(dash: Dash, url: str) -> None:
    # An officer at a one-stop counter has no MONITORING_VIEW: 403.
    assert get(as_user(dash.officer), url).status_code == 403
    # A citizen (an e-ID account, no role): 403.
    person = factories.make_person(dash.c1, full_name="Phạm Thị Dung")
    from tests.identity.helpers import make_account, portal_login

    citizen = portal_login(Client(), make_account(person))
    assert get(citizen, url).status_code == 403
    # Not logged in: the officers' login page.
    response = get(Client(), url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_leader_of_an_inactive_agency_is_denied(db: None) -> None:
    agency = Agency.objects.create(
        code="UBND-X", name="Đã giải thể", kind="peoples_committee", active=False
    )
    user = factories.make_user(Role.LEADER, agency=agency)
    assert get(as_user(user), OVERVIEW).status_code == 403


def test_leader_of_a_national_agency_sees_the_country(dash: Dash) -> None:
    ministry = Agency.objects.create(code="BCA-06", name="Bộ Công an", kind="ministry")
    response = get(as_user(factories.make_user(Role.LEADER, agency=ministry)), OVERVIEW)
    assert response.status_code == 200
    assert "Chỉ tiêu Đề án 06 — Toàn quốc" in text_of(response)


def test_national_user_sees_the_country_and_the_provinces(dash: Dash) -> None:
    client = as_user(dash.admin)
    page = text_of(get(client, OVERVIEW))
    assert "Chỉ tiêu Đề án 06 — Toàn quốc" in page
    card = page[page.index('id="kpi-online_dossier_rate"') :]
    assert "126 / 170" in card[: card.index("</li>")]  # 26/70 + 100/100
    ranking = get(client, ONLINE)
    assert ranking.status_code == 200
    labels = table_rows(ranking, "province")
    assert labels[:2] == [dash.far_province.name, dash.province.name]  # 100 %, 37.14 %


def test_post_is_not_allowed(dash: Dash) -> None:
    assert as_user(dash.admin).post(OVERVIEW).status_code == 405


# --- the drill-down ----------------------------------------------------------------------


def test_online_rate_per_commune_with_the_laggards_marked(dash: Dash) -> None:
    response = get(as_user(dash.province_leader), ONLINE)
    assert response.status_code == 200
    labels = table_rows(response, "commune")
    # Best first; communes without data after them.
    assert labels[:5] == [dash.c2.name, dash.c1.name, dash.c4.name, dash.c3.name, dash.c5.name]
    others = factories.communes_of(dash.province)[5:]
    assert sorted(labels[5:]) == sorted(c.name for c in others)
    amber = row_html(response, "commune", dash.c4.name)
    assert 'class="laggard-amber"' in amber and "Gần đạt" in amber and "30 %" in amber
    red = row_html(response, "commune", dash.c5.name)
    assert 'class="laggard-red"' in red and "Chưa đạt" in red and "−30 điểm %" in red
    own = row_html(response, "commune", dash.c3.name)  # its own target of 20 %
    assert "laggard" not in own and "Đạt" in own and "+5 điểm %" in own
    assert "laggard" not in row_html(response, "commune", dash.c1.name)  # exactly 40 %
    page = text_of(response)
    assert "2 đơn vị chưa đạt hoặc gần đạt mục tiêu" in page
    # The headline: the province against the national target.
    assert "37,14 %" in page and "Gần đạt" in page
    # Drill links: into a commune, into a procedure.
    assert f"unit={dash.c1.pk}" in row_html(response, "commune", dash.c1.name)
    assert f"procedure={BIRTH}" in row_html(response, "procedure", "Đăng ký khai sinh")


def test_ranking_per_procedure(dash: Dash) -> None:
    response = get(as_user(dash.province_leader), ONLINE)
    assert table_rows(response, "procedure") == ["Đăng ký khai sinh", "Đăng ký tạm trú"]
    birth = row_html(response, "procedure", "Đăng ký khai sinh")
    assert "40 %" in birth and ">24<" in birth and ">60<" in birth
    temp = row_html(response, "procedure", "Đăng ký tạm trú")
    assert "20 %" in temp and "Chưa đạt" in temp


def test_drill_into_a_procedure(dash: Dash) -> None:
    response = get(as_user(dash.province_leader), ONLINE, procedure=BIRTH)
    assert response.status_code == 200
    page = text_of(response)
    assert "Thủ tục: <strong>Đăng ký khai sinh</strong>" in page
    assert 'id="table-procedure"' not in page
    c1 = row_html(response, "commune", dash.c1.name)
    assert "60 %" in c1 and ">6<" in c1 and ">10<" in c1
    assert "24 / 60" in page  # births of the province: 40 %


def test_drill_into_a_commune_by_agency_and_procedure(dash: Dash) -> None:
    response = get(as_user(dash.province_leader), ONLINE, unit=dash.c1.pk)
    assert response.status_code == 200
    assert 'id="table-commune"' not in response.content.decode()
    assert table_rows(response, "agency") == [dash.justice_c1.name, dash.police_c1.name]
    assert "60 %" in row_html(response, "agency", dash.justice_c1.name)
    police = row_html(response, "agency", dash.police_c1.name)
    assert "20 %" in police and "laggard-red" in police
    assert f"agency={dash.police_c1.pk}" in police
    assert table_rows(response, "procedure") == ["Đăng ký khai sinh", "Đăng ký tạm trú"]
    far_agency = factories.make_agency(dash.far_commune)
    assert get(as_user(dash.commune_leader), ONLINE, agency=far_agency.pk).status_code == 404
    filtered = get(as_user(dash.province_leader), ONLINE, unit=dash.c1.pk, agency=dash.police_c1.pk)
    assert filtered.status_code == 200
    assert "2 / 10" in text_of(filtered)


def test_time_series_by_month_with_the_target(dash: Dash) -> None:
    response = get(as_user(dash.province_leader), ONLINE)
    months = table_rows(response, "month")
    assert months == [f"{m:02d}/{YEAR}" for m in range(1, 13)]
    assert "60 %" in row_html(response, "month", f"01/{YEAR}")  # 18 / 30
    assert "laggard-red" in row_html(response, "month", f"02/{YEAR}")  # 2 / 10 = 20 %
    assert "Chưa có số liệu" in row_html(response, "month", f"04/{YEAR}")
    html = response.content.decode()
    svg = html[html.index('aria-labelledby="chart-month-t') :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count("<circle") == 3
    assert "stroke-dasharray" in svg  # the target line


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"procedure": "no_such_procedure"}, 404),
        ({"agency": "999999"}, 404),
        ({"agency": "x"}, 404),
        ({"format": "pdf"}, 404),
        ({"format": "csv", "table": "nope"}, 404),
    ],
)
def test_bad_filters(dash: Dash, params: dict[str, Any], status: int) -> None:
    assert get(as_user(dash.province_leader), ONLINE, **params).status_code == status


def test_unknown_kpi_is_a_404(dash: Dash) -> None:
    assert get(as_user(dash.province_leader), "/monitoring/kpi/nope/").status_code == 404


@pytest.mark.parametrize(
    "code",
    [
        "lookups",
        "eid_coverage_level2",
        "fully_online_procedure_rate",
        "service_index_766",
        "overdue_count",
    ],
)
def test_every_kind_of_kpi_renders(dash: Dash, code: str) -> None:
    # The lookups KPI is national-only (see the next test); the admin is national.
    client = as_user(dash.admin if code == "lookups" else dash.province_leader)
    for unit in (dash.province, dash.c1):
        response = get(client, f"/monitoring/kpi/{code}/", unit=unit.pk)
        assert response.status_code == 200, (code, unit)
        for fmt in ("csv", "xlsx"):
            assert (
                get(client, f"/monitoring/kpi/{code}/", unit=unit.pk, format=fmt).status_code == 200
            )


def test_a_target_of_zero_is_shown(dash: Dash) -> None:
    Target.objects.create(kpi="overdue_count", unit=None, year=YEAR, value=Decimal(0))
    page = text_of(get(as_user(dash.province_leader), OVERVIEW))
    card = page[page.index('id="kpi-overdue_count"') :]
    card = card[: card.index("</li>")]
    assert re.search(r"Mục tiêu</dt>\s*<dd>0</dd>", card), card


def test_lookups_kpi_is_only_for_national_users(dash: Dash) -> None:
    """Lookups by organisation and purpose are national data: a provincial or commune
    leader neither sees the card nor reaches the page, its exports or the admin list."""
    for user in (dash.province_leader, dash.commune_leader):
        client = as_user(user)
        assert 'id="kpi-lookups"' not in text_of(get(client, OVERVIEW))
        exported = get(client, OVERVIEW, format="csv").content.decode()
        assert "lookups" not in exported
        for fmt in ("", "csv", "xlsx"):
            assert get(client, "/monitoring/kpi/lookups/", format=fmt).status_code == 404
        assert client.get("/admin/monitoring/lookupfact/").status_code in {302, 403}
    national = as_user(dash.admin)
    assert 'id="kpi-lookups"' in text_of(get(national, OVERVIEW))
    assert "lookups" in get(national, OVERVIEW, format="csv").content.decode()
    assert national.get("/admin/monitoring/lookupfact/").status_code == 200


# --- speed -----------------------------------------------------------------------------


def test_pages_run_a_bounded_number_of_queries(
    dash: Dash, django_assert_max_num_queries: Any
) -> None:
    client = as_user(dash.province_leader)
    get(client, ONLINE)  # warm the session and the procedure catalogue
    # The province has dozens of communes (every one is a row): no query per row.
    assert len(factories.communes_of(dash.province)) > 20
    with django_assert_max_num_queries(20):
        assert get(client, ONLINE).status_code == 200
    with django_assert_max_num_queries(20):
        assert get(client, ONLINE, format="xlsx").status_code == 200
    # The overview: a fixed number per KPI.
    with django_assert_max_num_queries(30):
        assert get(client, OVERVIEW).status_code == 200


# --- units of the views ------------------------------------------------------------------


def test_target_book_agrees_with_targets_status(dash: Dash) -> None:
    Target.objects.create(
        kpi="online_dossier_rate", unit=dash.province, year=YEAR, value=Decimal(35)
    )
    units = [dash.province, dash.c1, dash.c3, dash.far_commune, dash.far_province, None]
    for unit in units:
        if unit is None:
            chain: list[int | None] = [None]
        else:
            chain = [unit.pk, *([unit.parent_id] if unit.parent_id else []), None]
        book = TargetBook("online_dossier_rate", YEAR, [pk for pk in chain if pk])
        for value in (
            None,
            Decimal(0),
            Decimal("24.99"),
            Decimal(25),
            Decimal("34.99"),
            Decimal(35),
            Decimal(40),
            Decimal(100),
        ):
            expected = targets.status("online_dossier_rate", unit, YEAR, value)
            got = book.status(chain, value)
            assert (got.target, got.gap, got.light) == (
                expected.target,
                expected.gap,
                expected.light,
            ), (unit, value)
    # A lower-is-better KPI.
    Target.objects.create(kpi="overdue_count", unit=None, year=YEAR, value=5, amber_margin=2)
    book = TargetBook("overdue_count", YEAR, [])
    assert [book.status([None], v).light for v in (0, 5, 7, 8)] == [
        "green",
        "green",
        "amber",
        "red",
    ]


def test_svg_coordinates_are_never_localised() -> None:
    with translation.override("vi"):
        chart = charts.bar_chart(
            [charts.Datum("Xã A", Decimal("37.14"), "amber"), charts.Datum("<b>", None)],
            chart_id="c",
            title="T",
            target=Decimal(40),
        )
        line = charts.line_chart(
            [charts.Datum("01/2025", Decimal("12.5"), "red", Decimal(40))],
            chart_id="l",
            title="T",
        )
    for svg in (str(chart.svg), str(line.svg)):
        for _name, value in re.findall(r' (x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"', svg):
            if value != "100%":
                float(value)  # "216.0", never "216,0"
        assert "&lt;b&gt;" in svg or "<b>" not in svg
    assert "37,14 %" in str(chart.svg)  # the text the reader reads is Vietnamese
    assert 'width="' in str(chart.svg)


def test_nice_axis_maximum() -> None:
    assert charts.nice_max(37, "percent") == 100
    assert charts.nice_max(130, "percent") == 200
    assert charts.nice_max(0, "count") == 1
    assert charts.nice_max(7, "count") == 10
    assert charts.nice_max(1234, "count") == 2000
    assert charts.nice_max(2100, "count") == 2500


def test_leaders_land_on_the_dashboard_after_login(client: Client, db: None) -> None:
    province = factories.current_province("48")
    leader = factories.make_user(Role.LEADER, unit=province)
    client.force_login(leader)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/monitoring/"


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.LEADER, "/monitoring/"),
        (Role.OFFICER, "/registry/"),
        (Role.DPO, "/supervision/access/"),
    ],
)
def test_the_login_form_lands_each_role_on_its_home(
    client: Client, db: None, role: str, landing: str
) -> None:
    """Through the real login form without ?next=: not a page the role may not open."""
    province = factories.current_province("48")
    user = factories.make_user(role, unit=province)
    response = client.post(
        "/login/", {"username": user.username, "password": factories.PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


def test_kpi_names_and_definitions_in_english(dash: Dash) -> None:
    """Every KPI's name and written definition are translated (they were once declared
    through an alias makemessages did not extract)."""
    client = as_user(dash.province_leader)
    page = text_of(client.get(OVERVIEW, {"year": YEAR}, HTTP_ACCEPT_LANGUAGE="en"))
    card = page[page.index('id="kpi-online_dossier_rate"') :]
    card = card[: card.index("</li>")]
    assert "Online dossier rate" in card
    assert "Online dossiers received in the period" in card
    for kpi in kpis.KPIS:
        with translation.override("en"):
            english = str(kpi.name)
        with translation.override("vi"):
            vietnamese = str(kpi.name)
        assert english != vietnamese, kpi.code
        if kpi.code != "lookups":  # national-only, not on this leader's page
            assert english in page, kpi.code

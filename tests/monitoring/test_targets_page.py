"""Managing targets and the Decision 766 weights: the services (permission, jurisdiction,
value checks, audit records, upsert), the dashboards' traffic light following a new
target, and the /monitoring/targets/ pages (allowed, denied, outside the jurisdiction).

Units: province 48 with communes c1, c2; a far province 01 with its commune. Leaders:
national (a ministry, no unit), provincial (48), commune (c1); an officer of c1.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congdan.audit.models import ChangeRecord
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import Agency, AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring import kpis, targets
from congdan.monitoring.models import DossierFact, IndexWeight, Target
from congdan.monitoring.services import targets as svc
from tests import factories

ONLINE = "online_dossier_rate"
OVERDUE = "overdue_count"
LIST = "/monitoring/targets/"
SET = "/monitoring/targets/set/"
WEIGHTS = "/monitoring/targets/weights/"
THIS_YEAR = timezone.localdate().year


@dataclass
class Units:
    province: AdministrativeUnit
    c1: AdministrativeUnit
    c2: AdministrativeUnit
    far_province: AdministrativeUnit
    far_commune: AdministrativeUnit
    national: User
    provincial: User
    communal: User
    officer: User


def _leader(unit: AdministrativeUnit | None, username: str) -> User:
    agency = Agency.objects.create(
        code=f"LD-{username}",
        name=f"Lãnh đạo {username}",
        kind=AgencyKind.PEOPLES_COMMITTEE,
        jurisdiction=unit,
    )
    return factories.make_user(Role.LEADER, agency=agency, username=username)


@pytest.fixture
def u(db: None) -> Units:
    province = factories.current_province("48")
    c1, c2 = factories.communes_of(province)[:2]
    far_province = factories.current_province("01")
    # The migration's default national target would be inherited everywhere.
    Target.objects.all().delete()
    return Units(
        province=province,
        c1=c1,
        c2=c2,
        far_province=far_province,
        far_commune=factories.communes_of(far_province)[0],
        national=_leader(None, "lanhdao.trunguong"),
        provincial=_leader(province, "lanhdao.tinh"),
        communal=_leader(c1, "lanhdao.xa"),
        officer=factories.make_user(Role.OFFICER, unit=c1),
    )


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def row_of(response: Any, row_id: str) -> str:
    html = text_of(response)
    match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html)
    assert match is not None, row_id
    return re.sub(r"<[^>]+>", " ", match.group(1))


# --- set_target -----------------------------------------------------------------------------


def test_provincial_leader_sets_and_changes_a_commune_target_audited(u: Units) -> None:
    target = svc.set_target(
        u.provincial,
        kpi=ONLINE,
        unit=u.c1,
        year=THIS_YEAR,
        value="45.5",
        amber_margin=5,
        note="Kế hoạch 12/KH-UBND",
    )
    assert (target.kpi, target.unit_id, target.year) == (ONLINE, u.c1.pk, THIS_YEAR)
    assert target.value == Decimal("45.50")
    assert target.amber_margin == Decimal("5.00")
    created = ChangeRecord.objects.get(action="set_target", object_id=target.pk)
    assert created.actor_label == "lanhdao.tinh"
    assert created.changes["value"] == [None, "45.50"]
    assert created.changes["unit"] == [None, u.c1.pk]
    assert created.legal_basis == "Kế hoạch 12/KH-UBND"

    again = svc.set_target(
        u.provincial, kpi=ONLINE, unit=u.c1.pk, year=THIS_YEAR, value=50, amber_margin=5
    )
    assert again.pk == target.pk  # an upsert, not a second row
    assert Target.objects.filter(kpi=ONLINE, year=THIS_YEAR).count() == 1
    changed = ChangeRecord.objects.filter(action="set_target", object_id=target.pk).latest("id")
    assert changed.changes == {
        "value": ["45.50", "50.00"],
        "note": ["Kế hoạch 12/KH-UBND", ""],
    }
    # The same values again change nothing and write no record.
    svc.set_target(u.provincial, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=50, amber_margin=5)
    assert ChangeRecord.objects.filter(action="set_target", object_id=target.pk).count() == 2


def test_national_targets_only_for_national_users(u: Units) -> None:
    with pytest.raises(PermissionDenied):
        svc.set_target(u.provincial, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40)
    with pytest.raises(PermissionDenied):
        svc.set_target(u.communal, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40)
    national = svc.set_target(u.national, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40)
    assert national.unit_id is None
    assert Target.objects.filter(unit__isnull=True).count() == 1


def test_units_outside_the_jurisdiction_are_not_found(u: Units) -> None:
    for actor, unit in [
        (u.provincial, u.far_commune),
        (u.provincial, u.far_province),
        (u.communal, u.province),  # its own province is above the commune
        (u.communal, u.c2),
    ]:
        with pytest.raises(NotFound):
            svc.set_target(actor, kpi=ONLINE, unit=unit, year=THIS_YEAR, value=40)
    legacy = factories.legacy_province("048")
    with pytest.raises(NotFound):
        svc.set_target(u.national, kpi=ONLINE, unit=legacy, year=THIS_YEAR, value=40)
    bad: Any
    for bad in ["abc", -1, 10**20, True]:
        with pytest.raises(NotFound):
            svc.set_target(u.national, kpi=ONLINE, unit=bad, year=THIS_YEAR, value=40)
    assert not Target.objects.exists()
    # Inside: the commune leader's own commune, the national leader's far commune.
    svc.set_target(u.communal, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=30)
    svc.set_target(u.national, kpi=ONLINE, unit=u.far_commune, year=THIS_YEAR, value=30)
    assert Target.objects.count() == 2


def test_without_the_permission_nothing_is_set(u: Units) -> None:
    with pytest.raises(PermissionDenied):
        svc.set_target(u.officer, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=40)
    with pytest.raises(PermissionDenied):
        svc.set_target(None, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=40)
    # A leader whose agency has been deactivated has no jurisdiction left.
    Agency.objects.filter(code="LD-lanhdao.tinh").update(active=False)
    u.provincial.refresh_from_db()
    with pytest.raises(PermissionDenied):
        svc.set_target(u.provincial, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=40)
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("kpi", "value", "margin", "year", "field"),
    [
        (ONLINE, "100.01", 10, 0, "value"),
        (ONLINE, -1, 10, 0, "value"),
        (ONLINE, "abc", 10, 0, "value"),
        (ONLINE, "NaN", 10, 0, "value"),
        (ONLINE, "Infinity", 10, 0, "value"),
        (ONLINE, "12.345", 10, 0, "value"),
        (ONLINE, None, 10, 0, "value"),
        (ONLINE, True, 10, 0, "value"),
        ("service_index_766", 101, 10, 0, "value"),
        (OVERDUE, "2.5", 10, 0, "value"),
        (OVERDUE, -3, 10, 0, "value"),
        (OVERDUE, 100000, 10, 0, "value"),
        (ONLINE, 40, -1, 0, "amber_margin"),
        (ONLINE, 40, 101, 0, "amber_margin"),
        (ONLINE, 40, "x", 0, "amber_margin"),
        (ONLINE, 40, 10, 6, "year"),
        (ONLINE, 40, 10, -6, "year"),
        ("no_such_kpi", 40, 10, 0, "kpi"),
    ],
)
def test_values_are_checked(  # noqa: PLR0917 -- pytest passes the parametrized columns
    u: Units, kpi: str, value: Any, margin: Any, year: int, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        svc.set_target(
            u.provincial,
            kpi=kpi,
            unit=u.c1,
            year=THIS_YEAR + year,
            value=value,
            amber_margin=margin,
        )
    assert caught.value.field == field
    assert not Target.objects.exists()


def test_edge_values_are_accepted(u: Units) -> None:
    for value, year in [(0, THIS_YEAR - 5), (100, THIS_YEAR + 5), ("33,33", THIS_YEAR)]:
        svc.set_target(u.provincial, kpi=ONLINE, unit=u.c1, year=year, value=value)
    assert sorted(Target.objects.values_list("value", flat=True)) == [
        Decimal(0),
        Decimal("33.33"),
        Decimal(100),
    ]
    count = svc.set_target(u.provincial, kpi=OVERDUE, unit=u.c1, year=THIS_YEAR, value=150)
    assert count.value == Decimal(150)  # counts are not capped at 100


def test_a_national_kpi_has_national_targets_only(u: Units) -> None:
    with pytest.raises(ValidationFailed) as caught:
        svc.set_target(u.national, kpi="lookups", unit=u.province, year=THIS_YEAR, value=10)
    assert caught.value.field == "unit"
    svc.set_target(u.national, kpi="lookups", unit=None, year=THIS_YEAR, value=10)


def test_note_is_limited(u: Units) -> None:
    with pytest.raises(ValidationFailed) as caught:
        svc.set_target(
            u.provincial, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=40, note="x" * 301
        )
    assert caught.value.field == "note"


# --- remove_target --------------------------------------------------------------------------


def test_remove_target_needs_a_reason_and_is_audited(u: Units) -> None:
    target = svc.set_target(u.provincial, kpi=ONLINE, unit=u.c2, year=THIS_YEAR, value=40)
    with pytest.raises(ValidationFailed):
        svc.remove_target(u.provincial, target_id=target.pk, reason="  ")
    svc.remove_target(u.provincial, target_id=target.pk, reason="Giao nhầm xã")
    assert not Target.objects.filter(pk=target.pk).exists()
    record = ChangeRecord.objects.get(action="remove_target", object_id=target.pk)
    assert record.reason == "Giao nhầm xã"
    assert record.changes["value"] == ["40.00", None]
    assert record.changes["unit"] == [u.c2.pk, None]
    with pytest.raises(NotFound):
        svc.remove_target(u.provincial, target_id=target.pk, reason="lần nữa")


def test_remove_target_outside_the_jurisdiction_is_not_found(u: Units) -> None:
    national = svc.set_target(u.national, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40)
    provincial = svc.set_target(u.national, kpi=ONLINE, unit=u.province, year=THIS_YEAR, value=40)
    far = svc.set_target(u.national, kpi=ONLINE, unit=u.far_commune, year=THIS_YEAR, value=40)
    for actor, target in [
        (u.provincial, national),
        (u.provincial, far),
        (u.communal, provincial),
        (u.communal, national),
    ]:
        with pytest.raises(NotFound):
            svc.remove_target(actor, target_id=target.pk, reason="thử")
    for bad in ["x", None, -5, 2**70]:
        with pytest.raises(NotFound):
            svc.remove_target(u.national, target_id=bad, reason="thử")
    with pytest.raises(PermissionDenied):
        svc.remove_target(u.officer, target_id=far.pk, reason="thử")
    assert Target.objects.count() == 3
    svc.remove_target(u.national, target_id=national.pk, reason="Thay bằng mục tiêu mới")
    assert Target.objects.count() == 2


# --- set_weight -----------------------------------------------------------------------------


def test_weights_national_only_checked_and_audited(u: Units) -> None:
    with pytest.raises(PermissionDenied):
        svc.set_weight(u.provincial, group="online", weight=30)
    with pytest.raises(PermissionDenied):
        svc.set_weight(u.officer, group="online", weight=30)
    for group, weight in [("online", "100.01"), ("online", -1), ("nope", 10), ("online", "a")]:
        with pytest.raises(ValidationFailed):
            svc.set_weight(u.national, group=group, weight=weight)
    assert kpis.index_weights()["online"] == Decimal(22)
    row = svc.set_weight(u.national, group="online", weight=30)
    assert kpis.index_weights()["online"] == Decimal(30)
    record = ChangeRecord.objects.get(action="set_index_weight", object_id=row.pk)
    assert record.changes == {"weight": ["22.00", "30.00"]}


def test_set_weights_is_all_or_nothing(u: Units) -> None:
    with pytest.raises(ValidationFailed):
        svc.set_weights(u.national, weights={"online": 30, "progress": 200})
    assert kpis.index_weights()["online"] == Decimal(22)
    assert not ChangeRecord.objects.filter(action="set_index_weight").exists()


# --- the dashboard's light follows the targets ------------------------------------------------


def test_dashboard_light_changes_after_a_target_is_set(u: Units) -> None:
    """c1 receives 10 dossiers this year, 3 online: 30.00 %.

    No target: none. National 40 (margin 10): gap −10, amber. The province's 50 (margin
    10): −20, red (the province's overrides the national one). c1's own 25: +5, green.
    c2 (no own target) keeps the province's."""
    day = dt.date(THIS_YEAR, 1, 15)
    DossierFact.objects.create(
        day=day,
        province_id=u.c1.parent_id,
        commune=u.c1,
        agency=u.officer.agency,
        procedure_code="birth_registration",
        received=10,
        received_online=3,
    )
    start, end = dt.date(THIS_YEAR, 1, 1), dt.date(THIS_YEAR, 12, 31)
    value = kpis.compute(ONLINE, start=start, end=end, unit=u.c1).value
    assert value == Decimal("30.00")

    def light() -> tuple[str, Decimal | None]:
        st = targets.status(ONLINE, u.c1, THIS_YEAR, value)
        return st.light, st.gap

    assert light() == ("none", None)
    svc.set_target(u.national, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40, amber_margin=10)
    assert light() == ("amber", Decimal("-10.00"))
    svc.set_target(
        u.provincial, kpi=ONLINE, unit=u.province, year=THIS_YEAR, value=50, amber_margin=10
    )
    assert light() == ("red", Decimal("-20.00"))
    own = svc.set_target(u.communal, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=25)
    assert light() == ("green", Decimal("5.00"))
    assert targets.status(ONLINE, u.c2, THIS_YEAR, value).source.unit_id == u.province.pk  # type: ignore[union-attr]  # a target applies
    svc.remove_target(u.provincial, target_id=own.pk, reason="Theo mục tiêu của tỉnh")
    assert light() == ("red", Decimal("-20.00"))


def test_applying_agrees_with_target_for(u: Units) -> None:
    svc.set_target(u.national, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40)
    svc.set_target(u.national, kpi=ONLINE, unit=u.province, year=THIS_YEAR, value=50)
    svc.set_target(u.national, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=60)
    loaded = list(Target.objects.filter(year=THIS_YEAR))
    for unit in [None, u.province, u.c1, u.c2, u.far_province, u.far_commune]:
        expected = targets.target_for(ONLINE, unit, THIS_YEAR)
        assert svc.applying(ONLINE, unit, loaded) == expected
    assert svc.applying(OVERDUE, u.c1, loaded) is None


# --- the list page --------------------------------------------------------------------------


def test_page_denied_without_permission_or_login(u: Units) -> None:
    assert Client().get(LIST).status_code == 302  # to the login page
    officer = as_user(u.officer)
    assert officer.get(LIST).status_code == 403
    assert officer.get(SET).status_code == 403
    assert (
        officer.post(SET, {"kpi": ONLINE, "unit": str(u.c1.pk), "year": str(THIS_YEAR)}).status_code
        == 403
    )
    assert officer.get(WEIGHTS).status_code == 403
    Agency.objects.filter(code="LD-lanhdao.tinh").update(active=False)
    assert as_user(u.provincial).get(LIST).status_code == 403


def test_province_page_shows_own_and_inherited_targets(u: Units) -> None:
    svc.set_target(u.national, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40, note="QĐ 06")
    svc.set_target(u.national, kpi=OVERDUE, unit=u.province, year=THIS_YEAR, value=5)
    svc.set_target(u.provincial, kpi=ONLINE, unit=u.c2, year=THIS_YEAR, value="35.5")
    svc.set_target(u.national, kpi=ONLINE, unit=u.far_commune, year=THIS_YEAR, value=99)
    response = as_user(u.provincial).get(LIST, {"year": THIS_YEAR})
    assert response.status_code == 200
    own = row_of(response, f"target-{ONLINE}")
    assert "≥ 40 %" in own
    assert "Kế thừa mục tiêu toàn quốc" in own
    assert "QĐ 06" in own
    overdue = row_of(response, f"target-{OVERDUE}")
    assert "≤ 5" in overdue
    assert "Mục tiêu riêng" in overdue
    # The communes, for the online rate (the default KPI).
    c1 = row_of(response, f"unit-{u.c1.pk}")
    assert "≥ 40 %" in c1 and "Kế thừa mục tiêu toàn quốc" in c1
    c2 = row_of(response, f"unit-{u.c2.pk}")
    assert "≥ 35,5 %" in c2 and "Mục tiêu riêng" in c2
    page = text_of(response)
    assert f'id="unit-{u.far_commune.pk}"' not in page
    assert "99" not in c1 + c2
    # The overdue count per commune: inherited from the province.
    response = as_user(u.provincial).get(LIST, {"year": str(THIS_YEAR), "kpi": OVERDUE})
    c1 = row_of(response, f"unit-{u.c1.pk}")
    assert "≤ 5" in c1 and f"Kế thừa từ {u.province.name}" in c1
    # Another year: nothing.
    response = as_user(u.provincial).get(LIST, {"year": THIS_YEAR + 1})
    assert "Chưa có mục tiêu" in row_of(response, f"target-{ONLINE}")


def test_page_scope_and_bad_parameters(u: Units) -> None:
    provincial = as_user(u.provincial)
    assert provincial.get(LIST, {"unit": u.far_province.pk}).status_code == 404
    assert provincial.get(LIST, {"unit": u.far_commune.pk}).status_code == 404
    assert provincial.get(LIST, {"unit": "abc"}).status_code == 404
    assert provincial.get(LIST, {"unit": "9" * 30}).status_code == 404
    assert provincial.get(LIST, {"unit": u.c1.pk}).status_code == 200
    assert provincial.get(LIST, {"year": "abc"}).status_code == 400
    assert provincial.get(LIST, {"year": 99999}).status_code == 400
    assert provincial.get(LIST, {"kpi": "nope"}).status_code == 400
    communal = as_user(u.communal)
    response = communal.get(LIST)
    assert response.status_code == 200
    assert f"Mục tiêu áp dụng cho {u.c1.name}" in text_of(response)
    assert communal.get(LIST, {"unit": u.province.pk}).status_code == 404
    assert communal.get(LIST, {"unit": u.c2.pk}).status_code == 404
    national = as_user(u.national).get(LIST, {"unit": u.far_commune.pk})
    assert national.status_code == 200


def test_weights_shown_and_editable_by_national_users_only(u: Units) -> None:
    response = as_user(u.provincial).get(LIST)
    assert "Sửa trọng số" not in text_of(response)
    assert "22" in row_of(response, "weight-online")
    assert as_user(u.provincial).get(WEIGHTS).status_code == 403
    data = {"transparency": 18, "progress": 20, "digitisation": 22, "online": 22}
    assert as_user(u.provincial).post(WEIGHTS, {**data, "satisfaction": 30}).status_code == 403
    national = as_user(u.national)
    assert "Sửa trọng số" in text_of(national.get(LIST))
    assert national.get(WEIGHTS).status_code == 200
    bad = national.post(WEIGHTS, {**data, "satisfaction": 150})
    assert bad.status_code == 400
    assert IndexWeight.objects.get(group="satisfaction").weight == Decimal(18)
    response = national.post(WEIGHTS, {**data, "satisfaction": "28.5"})
    assert response.status_code == 302
    assert IndexWeight.objects.get(group="satisfaction").weight == Decimal("28.5")
    assert ChangeRecord.objects.filter(action="set_index_weight").count() == 1
    page = text_of(national.get(LIST))
    assert "110,5" in page or "110.5" in page  # the total, and the note it is not 100
    assert "Tổng trọng số khác 100" in page


# --- setting and removing through the pages -----------------------------------------------------


def test_set_form_creates_and_prefills(u: Units) -> None:
    client = as_user(u.provincial)
    response = client.get(SET, {"kpi": ONLINE, "unit": str(u.c1.pk), "year": str(THIS_YEAR)})
    assert response.status_code == 200
    page = text_of(response)
    assert f'<option value="{u.c1.pk}" selected>' in page
    assert f'<option value="{u.far_commune.pk}"' not in page
    assert 'value=""' not in page.split('name="unit"')[1].split("</select>")[0]
    response = client.post(
        SET,
        {
            "kpi": ONLINE,
            "unit": u.c1.pk,
            "year": THIS_YEAR,
            "value": "42,5",
            "amber_margin": "5",
            "note": "KH 01",
        },
    )
    assert response.status_code == 302, text_of(response)[:3000]
    target = Target.objects.get(kpi=ONLINE, unit=u.c1, year=THIS_YEAR)
    assert target.value == Decimal("42.5")
    assert ChangeRecord.objects.filter(action="set_target", object_id=target.pk).count() == 1
    response = client.get(SET, {"kpi": ONLINE, "unit": str(u.c1.pk), "year": str(THIS_YEAR)})
    assert 'value="42.50"' in text_of(response) or 'value="42,50"' in text_of(response)
    assert client.get(SET, {"unit": u.far_commune.pk}).status_code == 404
    assert client.get(SET, {"unit": "x", "year": "y"}).status_code == 404
    assert client.get(SET, {"year": "y", "kpi": "z"}).status_code == 200


def test_set_form_refusals(u: Units) -> None:
    client = as_user(u.provincial)
    base = {"kpi": ONLINE, "year": THIS_YEAR, "value": 40, "amber_margin": 10}
    # Outside the jurisdiction: 404; a national target from a province: 403.
    assert client.post(SET, {**base, "unit": u.far_commune.pk}).status_code == 404
    assert client.post(SET, {**base, "unit": "abc"}).status_code == 404
    assert client.post(SET, {**base, "unit": ""}).status_code == 403
    # Bad values: the form again with the message, never a 500.
    response = client.post(SET, {**base, "unit": u.c1.pk, "value": 150})
    assert response.status_code == 400
    assert "từ 0 đến 100" in text_of(response)
    response = client.post(SET, {**base, "unit": u.c1.pk, "year": THIS_YEAR + 9})
    assert response.status_code == 400
    assert "Năm phải từ" in text_of(response)
    response = client.post(SET, {**base, "unit": u.c1.pk, "kpi": "nope"})
    assert response.status_code == 400
    response = client.post(SET, {**base, "unit": u.c1.pk, "value": "1e400"})
    assert response.status_code == 400
    assert not Target.objects.exists()


def test_remove_page(u: Units) -> None:
    mine = svc.set_target(u.provincial, kpi=ONLINE, unit=u.c1, year=THIS_YEAR, value=40)
    national = svc.set_target(u.national, kpi=ONLINE, unit=None, year=THIS_YEAR, value=40)
    far = svc.set_target(u.national, kpi=ONLINE, unit=u.far_commune, year=THIS_YEAR, value=40)
    client = as_user(u.provincial)
    url = f"/monitoring/targets/{mine.pk}/remove/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.get(f"/monitoring/targets/{national.pk}/remove/").status_code == 404
    assert client.get(f"/monitoring/targets/{far.pk}/remove/").status_code == 404
    assert client.post(f"/monitoring/targets/{far.pk}/remove/", {"reason": "x"}).status_code == 404
    assert as_user(u.communal).get(url).status_code == 200  # its own commune's target
    assert as_user(u.officer).post(url, {"reason": "x"}).status_code == 403
    response = client.post(url, {"reason": "Điều chỉnh kế hoạch"})
    assert response.status_code == 302
    assert not Target.objects.filter(pk=mine.pk).exists()
    assert Target.objects.count() == 2
    assert ChangeRecord.objects.get(action="remove_target").reason == "Điều chỉnh kế hoạch"


def test_the_dashboard_links_to_targets_for_those_who_manage_them(db: None) -> None:
    from django.test import Client

    province = factories.current_province("48")
    leader = factories.make_user(Role.LEADER, unit=province)
    http = Client()
    http.force_login(leader)
    page = http.get("/monitoring/").content.decode()
    assert "/monitoring/targets/" in page

"""KPIs on small fixture data against hand-computed figures; breakdowns add up; targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from congdan.audit.models import AccessLogEntry
from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.models import Agency, AgencyKind
from congdan.identity.models import EidAccount
from congdan.monitoring import facts, kpis, targets
from congdan.monitoring.models import IndexWeight, PaperDossierCount, Target
from congdan.procedures.specs import catalogue
from tests import factories
from tests.conftest import World
from tests.identity.helpers import make_account
from tests.monitoring.conftest import DAY, NOT_FULLY_ONLINE, at, make_dossier, result_document

D1 = DAY  # 11 March (Q1)
D2 = DAY + dt.timedelta(days=30)  # 10 April (Q2)
ONE = dt.timedelta(days=1)
MARITAL = "marital_status_certificate"


def V(text: str | int) -> Decimal:  # noqa: N802 -- reads like a literal in the expectations
    return Decimal(text)


@dataclass
class Data:
    justice_a: Agency
    police_a: Agency


@pytest.fixture
def data(world: World, partly_online_catalogue: None) -> Data:
    """Communes A, B (province P = world.province) and C (province Q), days D1 and D2.

    received: A/D1 3 online + 1 counter + 4 paper birth, 1 online judicial (fee, paid);
    A/D2 2 online marital (fee, one paid, police); B/D1 1 online + 1 counter birth;
    C/D2 2 counter. decided: A/D1 2 on time (ratings 5, 4; one result in the wallet) and
    1 rejected late (rating 1); B/D2 1 issued late (in the wallet, rating 3).
    open past due: A since D1 - 1; B since D2 - 1.
    """
    a, b, c = world.commune, world.other_commune, world.far_commune
    ja = factories.make_agency(a, kind=AgencyKind.JUSTICE)
    pa = factories.make_agency(a, kind=AgencyKind.POLICE)
    for hour in (8, 9, 10):
        make_dossier(a, agency=ja, channel="online", submitted_at=at(D1, hour))
    make_dossier(a, agency=ja, channel="counter", submitted_at=at(D1, 11))
    PaperDossierCount.objects.create(
        day=D1,
        commune=a,
        agency=ja,
        procedure_code="birth_registration",
        count=4,
        recorded_by=world.commune_officer,
    )
    make_dossier(
        a,
        agency=ja,
        procedure_code=NOT_FULLY_ONLINE,
        channel="online",
        submitted_at=at(D1, 14),
        fee_amount=200000,
        payment_reference="TT1",
    )
    for reference in ("TT2", ""):
        make_dossier(
            a,
            agency=pa,
            procedure_code=MARITAL,
            channel="online",
            submitted_at=at(D2, 9),
            fee_amount=15000,
            payment_reference=reference,
        )
    make_dossier(b, channel="online", submitted_at=at(D1, 9))
    make_dossier(b, channel="counter", submitted_at=at(D1, 10))
    make_dossier(c, channel="counter", submitted_at=at(D2, 9))
    make_dossier(c, channel="counter", submitted_at=at(D2, 10))
    old = at(D1 - 20 * ONE)
    doc = result_document(world.person)
    decided: dict[str, Any] = {"submitted_at": old, "agency": ja}
    make_dossier(
        a,
        **decided,
        status="result_issued",
        due_date=D1,
        decided_at=at(D1, 15),
        result_document=doc,
        rating=5,
    )
    make_dossier(a, **decided, status="result_issued", due_date=D1, decided_at=at(D1, 16), rating=4)
    make_dossier(a, **decided, status="rejected", due_date=D1 - ONE, decided_at=at(D1, 9), rating=1)
    make_dossier(
        b,
        submitted_at=old,
        status="result_issued",
        due_date=D2 - ONE,
        decided_at=at(D2, 9),
        result_document=result_document(world.neighbour),
        rating=3,
    )
    make_dossier(a, agency=ja, submitted_at=old, status="in_processing", due_date=D1 - ONE)
    make_dossier(b, submitted_at=old, status="received", due_date=D2 - ONE)
    facts.refresh_day(D1)
    facts.refresh_day(D2)
    return Data(justice_a=ja, police_a=pa)


def value(code: str, **scope: Any) -> tuple[Any, Any, Any]:
    v = kpis.compute(code, start=D1, end=D2, **scope)
    return v.numerator, v.denominator, v.value


def test_dossier_rates_national(data: Data) -> None:
    # received 9 (A/D1) + 2 (A/D2) + 2 (B) + 2 (C) = 15; online 4 + 2 + 1 = 7
    assert value("online_dossier_rate") == (7, 15, V("46.67"))
    # fully online: A/D1 3 birth (judicial is not), A/D2 2 marital, B 1
    assert value("fully_online_dossier_rate") == (6, 15, V("40.00"))
    # data: 15 minus the 4 paper
    assert value("dossier_digitisation_rate") == (11, 15, V("73.33"))
    assert value("online_payment_rate") == (2, 3, V("66.67"))
    assert value("on_time_rate") == (2, 4, V("50.00"))
    assert value("result_digitisation_rate") == (2, 3, V("66.67"))
    assert value("satisfaction_rate") == (2, 4, V("50.00"))
    # snapshot of D2: A's and B's
    assert value("overdue_count") == (2, None, V(2))
    assert value("overdue_count", unit=None, agency=None) == (2, None, V(2))


def test_dossier_rates_scoped(world: World, data: Data) -> None:
    assert value("online_dossier_rate", unit=world.province) == (7, 13, V("53.85"))
    assert value("online_dossier_rate", unit=world.commune) == (6, 11, V("54.55"))
    assert value("online_dossier_rate", unit=world.other_province) == (0, 2, V("0.00"))
    assert value("online_dossier_rate", agency=data.police_a) == (2, 2, V("100.00"))
    assert value("online_dossier_rate", procedure=NOT_FULLY_ONLINE) == (1, 1, V("100.00"))
    assert value("on_time_rate", unit=world.other_province) == (0, 0, None)
    assert value("overdue_count", unit=world.other_commune) == (1, None, V(1))
    # Only D1: B's dossier was not yet past due.
    d1 = kpis.compute("overdue_count", start=D1, end=D1)
    assert (d1.numerator, d1.value) == (1, V(1))
    # A period without facts.
    empty = kpis.compute("online_dossier_rate", start=D2 + ONE, end=D2 + 5 * ONE)
    assert (empty.numerator, empty.denominator, empty.value) == (0, 0, None)


@pytest.mark.parametrize("by", ["commune", "province", "agency", "procedure", "day", "month"])
def test_breakdowns_add_up(world: World, data: Data, by: str) -> None:
    for code in ("online_dossier_rate", "on_time_rate", "online_payment_rate"):
        total = kpis.compute(code, start=D1, end=D2)
        rows = kpis.breakdown(code, start=D1, end=D2, by=by)
        assert sum(r.numerator for r in rows) == total.numerator
        assert sum(r.denominator or 0 for r in rows) == total.denominator


def test_breakdown_rows(world: World, data: Data) -> None:
    rows = kpis.breakdown("online_dossier_rate", start=D1, end=D2, by="commune")
    got = {r.key: (r.label, r.numerator, r.denominator, r.value) for r in rows}
    assert got == {
        world.commune.pk: (world.commune.name, 6, 11, V("54.55")),
        world.other_commune.pk: (world.other_commune.name, 1, 2, V("50.00")),
        world.far_commune.pk: (world.far_commune.name, 0, 2, V("0.00")),
    }
    assert [r.label for r in rows] == sorted(r.label for r in rows)
    by_province = kpis.breakdown(
        "online_dossier_rate", start=D1, end=D2, by="commune", unit=world.province
    )
    assert {r.key for r in by_province} == {world.commune.pk, world.other_commune.pk}
    quarters = kpis.breakdown("online_dossier_rate", start=D1, end=D2, by="quarter")
    assert [(r.key, r.label, r.numerator, r.denominator) for r in quarters] == [
        (dt.date(2026, 1, 1), "Quý 1/2026", 5, 11),
        (dt.date(2026, 4, 1), "Quý 2/2026", 2, 4),
    ]
    procedures = kpis.breakdown("online_dossier_rate", start=D1, end=D2, by="procedure")
    names = {r.key: r.label for r in procedures}
    assert names[MARITAL] == str(catalogue().procedures[MARITAL].name)
    # Overdue per month: each month's last refreshed day.
    months = kpis.breakdown("overdue_count", start=D1, end=D2, by="month")
    assert [(r.key, r.numerator) for r in months] == [
        (dt.date(2026, 3, 1), 1),
        (dt.date(2026, 4, 1), 2),
    ]


def test_fully_online_procedure_rate(data: Data) -> None:
    assert len(catalogue().procedures) == 12
    assert value("fully_online_procedure_rate") == (11, 12, V("91.67"))
    assert value("fully_online_procedure_rate", procedure=NOT_FULLY_ONLINE) == (0, 1, V("0.00"))
    rows = kpis.breakdown("fully_online_procedure_rate", start=D1, end=D2, by="procedure")
    assert (len(rows), sum(r.numerator for r in rows)) == (12, 11)


def test_service_index_766(world: World, data: Data) -> None:
    # Default weights 18/20/22/22/18; rates: transparency 11/15, progress 2/4,
    # digitisation (11/15 + 2/3)/2 = 0.7, online (7/15 + 2/3)/2 = 0.5667, satisfaction 2/4.
    # 13.2 + 10 + 15.4 + 12.4667 + 9 = 60.0667
    assert value("service_index_766") == (V("60.07"), V(100), V("60.07"))
    # Province Q: transparency 1, digitisation 1 (no results), online 0 (no fees), no
    # decisions nor ratings: 18 + 22 + 0 over 62 points = 64.52 / 100.
    assert value("service_index_766", unit=world.other_province) == (V(40), V(62), V("64.52"))
    IndexWeight.objects.update(weight=0)
    IndexWeight.objects.filter(group__in=["progress", "online"]).update(weight=50)
    assert value("service_index_766") == (V("53.33"), V(100), V("53.33"))  # 25 + 28.33
    IndexWeight.objects.update(weight=1)  # plain mean: 3.0 of 5 points
    assert value("service_index_766") == (V("3.00"), V(5), V("60.00"))
    rows = kpis.breakdown("service_index_766", start=D1, end=D2, by="province")
    assert {r.key: r.value for r in rows} == {
        # P: transparency 9/13, progress 2/4, digitisation (9/13 + 2/3)/2,
        # online (7/13 + 2/3)/2, satisfaction 1/2 → (0.6923 + 0.5 + 0.6795 + 0.6026
        # + 0.5) / 5 = 0.5949
        world.province.pk: V("59.49"),
        world.other_province.pk: V("66.67"),  # 1, 1, 0 over three groups
    }


def test_coverage_kpis(world: World, partly_online_catalogue: None) -> None:
    a = world.commune
    nocard = factories.make_person(a, card=False)
    factories.make_person(a, birth_date=dt.date(2020, 1, 1))  # a child, not counted

    def account(person: Any, level: int, since: dt.datetime) -> None:
        acc = make_account(person, level=level, phone=f"09{person.pk:08d}")
        EidAccount.objects.filter(pk=acc.pk).update(
            activated_at=since, level2_at=since if level == 2 else None
        )

    account(world.person, 2, at(D1 - ONE))
    account(world.neighbour, 1, at(D2 - ONE))
    facts.refresh_day(D1)
    facts.refresh_day(D2)
    # Adults on D2: person, nocard (A), neighbour (B), far_person (C); chips: all but nocard.
    assert value("eid_coverage_level1") == (1, 4, V("25.00"))
    assert value("eid_coverage_level2") == (1, 4, V("25.00"))
    assert value("chip_card_coverage") == (3, 4, V("75.00"))
    assert value("chip_card_coverage", unit=world.province) == (2, 3, V("66.67"))
    assert value("chip_card_coverage", unit=a) == (1, 2, V("50.00"))
    months = kpis.breakdown("eid_coverage_level1", start=D1, end=D2, by="month")
    assert [(r.key, r.numerator, r.denominator) for r in months] == [
        (dt.date(2026, 3, 1), 0, 4),
        (dt.date(2026, 4, 1), 1, 4),
    ]
    communes = kpis.breakdown("chip_card_coverage", start=D1, end=D2, by="commune")
    assert {r.key: r.value for r in communes} == {
        a.pk: V("50.00"),
        world.other_commune.pk: V("100.00"),
        world.far_commune.pk: V("100.00"),
    }
    assert nocard.pk  # (the resident without a card)


def test_lookups(world: World) -> None:
    def log(moment: dt.datetime, org: str, purpose: str) -> None:
        AccessLogEntry.objects.create(
            at=moment,
            actor_label="x",
            person=world.person,
            organisation=org,
            channel="exchange",
            view="person_lookup",
            purpose=purpose,
        )

    log(at(D1, 9), "Ngân hàng A", "eKYC")
    log(at(D1, 10), "Ngân hàng A", "eKYC")
    log(at(D1, 11), "Bảo hiểm xã hội", "Cấp thẻ")
    log(at(D2, 9), "Ngân hàng A", "Cấp thẻ")
    facts.refresh_day(D1)
    facts.refresh_day(D2)
    assert value("lookups") == (4, None, V(4))
    assert value("lookups", unit=world.province) == (4, None, V(4))  # national by nature
    by_org = kpis.breakdown("lookups", start=D1, end=D2, by="organisation")
    assert [(r.label, r.numerator) for r in by_org] == [("Bảo hiểm xã hội", 1), ("Ngân hàng A", 3)]
    by_purpose = kpis.breakdown("lookups", start=D1, end=D2, by="purpose")
    assert [(r.label, r.numerator) for r in by_purpose] == [("Cấp thẻ", 2), ("eKYC", 2)]


def test_definitions_and_bad_input(db: None) -> None:
    codes = [k.code for k in kpis.KPIS]
    assert codes[0] == "online_dossier_rate"
    assert len(codes) == len(set(codes)) == 14
    for kpi in kpis.KPIS:
        assert str(kpi.name) and str(kpi.numerator) and str(kpi.denominator) and str(kpi.period)
        assert kpi.breakdowns and set(kpi.breakdowns) <= set(kpis.BREAKDOWNS)
        assert kpi.group_766 in {"", *(g for g, _label, _w in kpis.GROUPS_766)}
    with pytest.raises(NotFound):
        kpis.compute("nope", start=D1, end=D2)
    with pytest.raises(ValidationFailed):
        kpis.compute("online_dossier_rate", start=D2, end=D1)
    with pytest.raises(ValidationFailed):
        kpis.breakdown("chip_card_coverage", start=D1, end=D2, by="agency")
    with pytest.raises(ValidationFailed):
        kpis.breakdown("online_dossier_rate", start=D1, end=D2, by="weekday")
    # The migration's defaults.
    assert kpis.index_weights() == {
        "transparency": V(18),
        "progress": V(20),
        "digitisation": V(22),
        "online": V(22),
        "satisfaction": V(18),
    }


def test_targets_inherit_and_lights(world: World) -> None:
    national = Target.objects.get(kpi="online_dossier_rate", unit=None, year=2026)
    assert national.value == V(40)
    Target.objects.create(
        kpi="online_dossier_rate", unit=world.province, year=2026, value=50, amber_margin=5
    )
    # A commune inherits its province's; a commune of another province the national one.
    s = targets.status("online_dossier_rate", world.commune, 2026, V("54.55"))
    assert s.source is not None
    assert (s.target, s.gap, s.light, s.source.unit_id) == (
        V(50),
        V("4.55"),
        "green",
        world.province.pk,
    )
    assert targets.status("online_dossier_rate", world.commune, 2026, V(50)).light == "green"
    assert targets.status("online_dossier_rate", world.commune, 2026, V(45)).light == "amber"
    red = targets.status("online_dossier_rate", world.commune, 2026, V("44.99"))
    assert (red.gap, red.light) == (V("-5.01"), "red")
    far = targets.status("online_dossier_rate", world.far_commune, 2026, V(31))
    assert (far.target, far.gap, far.light) == (V(40), V(-9), "amber")  # margin 10
    assert targets.status("online_dossier_rate", None, 2026, V(29)).light == "red"
    # Its own target wins.
    Target.objects.create(kpi="online_dossier_rate", unit=world.commune, year=2026, value=60)
    assert targets.status("online_dossier_rate", world.commune, 2026, V(55)).target == V(60)
    # No value, no target, another year.
    none = targets.status("online_dossier_rate", world.commune, 2026, None)
    assert (none.target, none.gap, none.light) == (V(60), None, "none")
    assert targets.status("online_dossier_rate", world.commune, 2027, V(99)).light == "none"
    assert targets.status("chip_card_coverage", world.commune, 2026, V(99)).light == "none"
    # Lower is better.
    Target.objects.create(kpi="overdue_count", unit=None, year=2026, value=0, amber_margin=3)
    assert targets.status("overdue_count", world.commune, 2026, 0).light == "green"
    assert targets.status("overdue_count", world.commune, 2026, 3).light == "amber"
    late = targets.status("overdue_count", world.commune, 2026, 4)
    assert (late.gap, late.light) == (V(4), "red")

"""Facts: one day's aggregates recomputed from raw dossiers, people and the access log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from congdan.audit.models import AccessLogEntry
from congdan.core.models import Agency, AgencyKind
from congdan.identity.models import AccountStatus, EidAccount
from congdan.monitoring import facts
from congdan.monitoring.models import (
    DossierFact,
    LookupFact,
    PaperDossierCount,
    PopulationFact,
    RefreshedDay,
)
from congdan.procedures.models import Dossier, DossierEvent
from congdan.registry.models import CardStatus, IdentityCard, Person
from tests import factories
from tests.conftest import World
from tests.identity.helpers import make_account
from tests.monitoring.conftest import DAY, NOT_FULLY_ONLINE, at, make_dossier, result_document

ONE = dt.timedelta(days=1)
BIRTH = "birth_registration"
MARITAL = "marital_status_certificate"

FIELDS = (
    "received",
    "received_online",
    "received_fully_online",
    "digitised",
    "decided",
    "decided_on_time",
    "results_issued",
    "results_digitised",
    "overdue_open",
    "with_fee",
    "paid_online",
    "rating_count",
    "rating_sum",
    "rating_satisfied",
)


def fact_of(day: dt.date, commune: Any, procedure: str) -> dict[str, int]:
    fact = DossierFact.objects.get(day=day, commune=commune, procedure_code=procedure)
    return {name: getattr(fact, name) for name in FIELDS if getattr(fact, name)}


def all_facts() -> list[tuple[Any, ...]]:
    return sorted(
        (
            f.day,
            f.province_id,
            f.commune_id,
            f.agency_id,
            f.procedure_code,
            *(getattr(f, n) for n in FIELDS),
        )
        for f in DossierFact.objects.all()
    )


@dataclass
class Scene:
    agency: Agency
    dossiers: dict[str, Dossier]


@pytest.fixture
def scene(world: World, partly_online_catalogue: None) -> Scene:
    """Dossiers of commune A (world.commune) on DAY, documented one by one."""
    a = world.commune
    agency = factories.make_agency(a, kind=AgencyKind.JUSTICE)
    d: dict[str, Dossier] = {}

    def mk(name: str, **kw: Any) -> None:
        kw.setdefault("procedure_code", BIRTH)
        d[name] = make_dossier(a, applicant=world.person, agency=agency, **kw)

    # Received on DAY.
    mk("online", channel="online", submitted_at=at(DAY, 9), due_date=DAY + ONE)
    mk("counter", channel="counter", submitted_at=at(DAY, 10), due_date=DAY + ONE)
    mk(
        "paid",
        procedure_code=NOT_FULLY_ONLINE,
        channel="online",
        submitted_at=at(DAY, 23, 30),  # 16:30 UTC: still DAY locally
        fee_amount=200000,
        payment_reference="TT000001",
        due_date=DAY + 10 * ONE,
    )
    mk(
        "unpaid",
        procedure_code=MARITAL,
        channel="online",
        submitted_at=at(DAY, 0, 30),  # 17:30 UTC the day before: DAY locally
        fee_amount=15000,
        due_date=DAY + 3 * ONE,
    )
    mk("draft", status="draft")
    mk("awaiting", status="awaiting_payment", fee_amount=15000, procedure_code=MARITAL)
    mk("late_evening_before", channel="online", submitted_at=at(DAY - ONE, 23, 59))
    # Decided on DAY.
    mk(
        "issued",
        status="result_issued",
        submitted_at=at(DAY - 5 * ONE),
        due_date=DAY,
        decided_at=at(DAY, 15),
        result_document=result_document(world.person),
        rating=5,
    )
    mk(
        "rejected_late",
        procedure_code=NOT_FULLY_ONLINE,
        status="rejected",
        submitted_at=at(DAY - 10 * ONE),
        due_date=DAY - 2 * ONE,
        decided_at=at(DAY, 11),
        rating=2,
    )
    mk(
        "issued_paper_result",
        status="result_issued",
        submitted_at=at(DAY - 2 * ONE),
        due_date=DAY + 3 * ONE,
        decided_at=at(DAY, 16),
    )
    # Open at the end of DAY.
    mk("overdue", status="in_processing", submitted_at=at(DAY - 10 * ONE), due_date=DAY - ONE)
    mk(
        "overdue_then_decided",
        status="result_issued",
        submitted_at=at(DAY - 8 * ONE),
        due_date=DAY - 3 * ONE,
        decided_at=at(DAY + ONE, 9),
    )
    mk("due_today", status="received", submitted_at=at(DAY - 3 * ONE), due_date=DAY)
    PaperDossierCount.objects.create(
        day=DAY,
        commune=a,
        agency=agency,
        procedure_code=BIRTH,
        count=3,
        recorded_by=world.commune_officer,
    )
    # Elsewhere: another commune of the province, and a commune of another province.
    make_dossier(world.other_commune, channel="online", submitted_at=at(DAY, 8))
    make_dossier(world.far_commune, channel="counter", submitted_at=at(DAY, 8))
    return Scene(agency=agency, dossiers=d)


def test_dossier_facts_of_a_day(world: World, scene: Scene) -> None:
    facts.refresh_day(DAY)
    # online + counter + 3 paper; decided: issued, issued_paper_result; overdue: overdue,
    # overdue_then_decided.
    assert fact_of(DAY, world.commune, BIRTH) == {
        "received": 5,
        "received_online": 1,
        "received_fully_online": 1,
        "digitised": 2,
        "decided": 2,
        "decided_on_time": 2,
        "results_issued": 2,
        "results_digitised": 1,
        "overdue_open": 2,
        "rating_count": 1,
        "rating_sum": 5,
        "rating_satisfied": 1,
    }
    # paid (received, online but not fully online) and rejected_late (decided late).
    assert fact_of(DAY, world.commune, NOT_FULLY_ONLINE) == {
        "received": 1,
        "received_online": 1,
        "digitised": 1,
        "with_fee": 1,
        "paid_online": 1,
        "decided": 1,
        "rating_count": 1,
        "rating_sum": 2,
    }
    assert fact_of(DAY, world.commune, MARITAL) == {
        "received": 1,
        "received_online": 1,
        "received_fully_online": 1,
        "digitised": 1,
        "with_fee": 1,
    }
    fact = DossierFact.objects.get(day=DAY, commune=world.commune, procedure_code=BIRTH)
    assert (fact.province_id, fact.agency_id) == (world.province.pk, scene.agency.pk)
    assert fact_of(DAY, world.other_commune, BIRTH) == {
        "received": 1,
        "received_online": 1,
        "received_fully_online": 1,
        "digitised": 1,
    }
    far = DossierFact.objects.get(day=DAY, commune=world.far_commune)
    assert far.province_id == world.other_province.pk
    assert (far.received, far.received_online, far.digitised) == (1, 0, 1)
    assert DossierFact.objects.filter(day=DAY).count() == 5
    # The evening before counts on the day before; the next day has the late decision.
    facts.refresh_day(DAY - ONE)
    assert fact_of(DAY - ONE, world.commune, BIRTH)["received_online"] == 1
    facts.refresh_day(DAY + ONE)
    nxt = fact_of(DAY + ONE, world.commune, BIRTH)
    # overdue_then_decided is decided (late); overdue and due_today are now past due.
    assert (nxt["decided"], nxt.get("decided_on_time", 0), nxt["overdue_open"]) == (1, 0, 2)
    assert RefreshedDay.objects.get(day=DAY).stale is False


def test_paused_dossier_is_not_overdue_from_its_pause(world: World, scene: Scene) -> None:
    """A dossier waiting for the applicant's supplement has its clock stopped: overdue
    on the days before the pause, not from the day it was paused."""
    make_dossier(
        world.commune,
        applicant=world.person,
        agency=scene.agency,
        status="supplement_requested",
        submitted_at=at(DAY - 10 * ONE),
        due_date=DAY - 3 * ONE,
        paused_at=at(DAY + ONE, 10),
    )
    facts.refresh_day(DAY)
    facts.refresh_day(DAY + ONE)
    assert fact_of(DAY, world.commune, BIRTH)["overdue_open"] == 3  # 2 of the scene + it
    assert fact_of(DAY + ONE, world.commune, BIRTH)["overdue_open"] == 2  # paused by then


def test_refresh_is_recomputation(world: World, scene: Scene) -> None:
    facts.refresh_day(DAY)
    first = all_facts()
    facts.refresh_day(DAY)
    assert all_facts() == first  # twice: the same rows, not doubled
    # The raw data change: one more online dossier, the overdue one is decided on DAY.
    make_dossier(world.commune, agency=scene.agency, channel="online", submitted_at=at(DAY, 12))
    overdue = scene.dossiers["overdue"]
    Dossier.objects.filter(pk=overdue.pk).update(status="rejected", decided_at=at(DAY, 17))
    facts.refresh_day(DAY)
    changed = fact_of(DAY, world.commune, BIRTH)
    assert (changed["received"], changed["received_online"], changed["digitised"]) == (6, 2, 3)
    assert (changed["decided"], changed["decided_on_time"], changed["overdue_open"]) == (3, 2, 1)
    # From scratch (no facts at all) gives exactly the same rows.
    after_change = all_facts()
    DossierFact.objects.all().delete()
    facts.refresh_day(DAY)
    assert all_facts() == after_change


def age(moment: dt.datetime) -> None:
    """The scene's raw rows were written long before (as in production)."""
    Dossier.objects.update(updated_at=moment)
    PaperDossierCount.objects.update(recorded_at=moment)


def test_poller_refreshes_a_past_day_touched_since(world: World, scene: Scene) -> None:
    age(at(DAY, 20))
    facts.refresh_day(DAY)
    issued = scene.dossiers["rejected_late"]
    assert fact_of(DAY, world.commune, NOT_FULLY_ONLINE)["rating_sum"] == 2
    # A rating changes no timestamp of the dossier; its event marks the decision day.
    Dossier.objects.filter(pk=issued.pk).update(rating=4)
    DossierEvent.objects.create(dossier=issued, to_status="rejected", note="4/5")
    # today, yesterday, and the dossier's days: decided on DAY, submitted 10 days before.
    assert facts.refresh_recent() == 4
    fact = fact_of(DAY, world.commune, NOT_FULLY_ONLINE)
    assert (fact["rating_sum"], fact["rating_satisfied"]) == (4, 1)
    assert not RefreshedDay.objects.filter(stale=True).exists()
    # Once the change is older than the poller's slack, only today and yesterday.
    DossierEvent.objects.update(at=at(DAY, 21))
    assert facts.refresh_recent() == 2


def test_mark_stale_and_paper_counts(world: World, scene: Scene) -> None:
    age(at(DAY, 20))
    facts.refresh_day(DAY)
    count = PaperDossierCount.objects.get(day=DAY)
    count.count = 10
    count.save()  # recorded_at unchanged: only mark_stale tells the poller
    assert facts.refresh_recent() == 2
    assert fact_of(DAY, world.commune, BIRTH)["received"] == 5
    facts.mark_stale(DAY)
    assert facts.refresh_recent() == 3
    assert fact_of(DAY, world.commune, BIRTH)["received"] == 12
    # A count recorded now (e.g. corrected at the counter) is noticed by itself.
    PaperDossierCount.objects.filter(pk=count.pk).update(count=4, recorded_at=timezone.now())
    assert facts.refresh_recent() == 3
    assert fact_of(DAY, world.commune, BIRTH)["received"] == 6


def test_population_facts(world: World) -> None:
    a = world.commune
    # world.person (born 1990, chip card since 2024) lives in A; add:
    adult14 = factories.make_person(a, birth_date=dt.date(2012, 3, 11), card=False)
    child = factories.make_person(a, birth_date=dt.date(2012, 3, 12))  # 14 tomorrow
    later_card = factories.make_person(a, card=False)
    IdentityCard.objects.create(
        person=later_card,
        number=later_card.id_number,
        card_type="can_cuoc",
        issue_date=DAY + ONE,
        issuing_authority="Bộ Công an",
    )
    expired = factories.make_person(a, card=False)
    IdentityCard.objects.create(
        person=expired,
        number=expired.id_number,
        card_type="cccd_chip",
        issue_date=dt.date(2016, 1, 1),
        expiry_date=DAY - ONE,
        issuing_authority="Cục Cảnh sát",
    )
    lost = factories.make_person(a)
    IdentityCard.objects.filter(person=lost).update(status=CardStatus.LOST)
    dead = factories.make_person(a, vital_status="deceased")

    def account(person: Person, level: int, activated: dt.datetime, **kw: Any) -> None:
        acc = make_account(person, level=level, phone=f"09{person.pk:08d}")
        EidAccount.objects.filter(pk=acc.pk).update(
            activated_at=activated, level2_at=kw.get("level2_at"), status=kw.get("status", "active")
        )

    account(world.person, 2, at(DAY - 30 * ONE), level2_at=at(DAY - 10 * ONE))
    account(adult14, 1, at(DAY - ONE))
    account(later_card, 2, at(DAY - 5 * ONE), level2_at=at(DAY + 5 * ONE))  # level 1 on DAY
    account(expired, 1, at(DAY + ONE))  # not yet
    account(lost, 1, at(DAY - ONE), status=AccountStatus.LOCKED)
    account(child, 1, at(DAY - ONE))  # not an adult
    account(dead, 1, at(DAY - ONE))

    facts.refresh_day(DAY)
    row = PopulationFact.objects.get(day=DAY, commune=a)
    # residents: person, adult14, child, later_card, expired, lost (dead excluded)
    assert (row.residents, row.adults) == (6, 5)
    assert (row.eid_level1, row.eid_level2) == (2, 1)  # adult14, later_card / person
    assert row.chip_cards == 1  # person only (later, expired, lost, child is not adult)
    assert row.province_id == world.province.pk
    other = PopulationFact.objects.get(day=DAY, commune=world.other_commune)
    assert (other.residents, other.adults, other.chip_cards, other.eid_level1) == (1, 1, 1, 0)
    # population=False keeps the snapshot.
    factories.make_person(a)
    facts.refresh_day(DAY, population=False)
    assert PopulationFact.objects.get(day=DAY, commune=a).residents == 6
    facts.refresh_day(DAY)
    assert PopulationFact.objects.get(day=DAY, commune=a).residents == 7


def test_lookup_facts(world: World) -> None:
    def log(moment: dt.datetime, org: str, purpose: str, channel: str = "exchange") -> None:
        AccessLogEntry.objects.create(
            at=moment,
            actor_label="x",
            person=world.person,
            organisation=org,
            channel=channel,
            view="person_lookup",
            purpose=purpose,
        )

    log(at(DAY, 0, 10), "Ngân hàng A", "eKYC mở tài khoản")
    log(at(DAY, 23, 50), "Ngân hàng A", "eKYC mở tài khoản")
    log(at(DAY, 12), "Ngân hàng A", "Xác minh khoản vay")
    log(at(DAY, 12), "Bảo hiểm xã hội", "Cấp thẻ BHYT", channel="api")
    log(at(DAY + ONE, 0, 5), "Ngân hàng A", "eKYC mở tài khoản")
    facts.refresh_day(DAY)
    rows = {
        (f.channel, f.organisation, f.service, f.purpose): f.count
        for f in LookupFact.objects.filter(day=DAY)
    }
    assert rows == {
        ("exchange", "Ngân hàng A", "person_lookup", "eKYC mở tài khoản"): 2,
        ("exchange", "Ngân hàng A", "person_lookup", "Xác minh khoản vay"): 1,
        ("api", "Bảo hiểm xã hội", "person_lookup", "Cấp thẻ BHYT"): 1,
    }

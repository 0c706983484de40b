"""Registry services the procedures app calls on approval: birth registration, temporary
absence, removal of permanent residence (effects, audit, validation, permission and
jurisdiction; nothing half-written on an error)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import AgencyKind, User
from congdan.core.permissions import Role
from congdan.geo import selectors as geo_selectors
from congdan.geo.models import AdministrativeUnit, Level, Scheme
from congdan.registry import idnumbers, services, signals
from congdan.registry.models import (
    CivilEvent,
    HouseholdMembership,
    Person,
    RecordStatus,
    Residence,
    ResidenceKind,
)
from tests import factories

if TYPE_CHECKING:
    from tests.conftest import World

TODAY = timezone.localdate()
BIRTH = TODAY - dt.timedelta(days=10)


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Person.objects.count(),
        Residence.objects.count(),
        CivilEvent.objects.count(),
        ChangeRecord.objects.count(),
        HouseholdMembership.objects.count(),
    )


def _officer(unit: AdministrativeUnit | None, kind: str) -> User:
    return factories.make_user(Role.OFFICER, agency=factories.make_agency(unit, kind=kind))


@pytest.fixture
def justice(world: World) -> User:
    """A civil-status officer of the home commune."""
    return _officer(world.commune, AgencyKind.JUSTICE)


@pytest.fixture
def mother(world: World) -> Person:
    return factories.make_person(
        world.commune, full_name="Phạm Thị Hoa", sex="F", birth_date=dt.date(1993, 8, 2)
    )


def _child(**changes: Any) -> services.NewBirth:
    child = services.NewBirth(
        full_name="Nguyễn  Minh Khang ",
        birth_date=BIRTH,
        sex="M",
        ethnicity_code="01",
        birth_place_text="Bệnh viện Phụ sản - Nhi Đà Nẵng",
    )
    return replace(child, **changes)


def _register(actor: User, world: World, mother: Person | None, **kwargs: Any) -> Person:
    arguments: dict[str, Any] = {
        "child": _child(),
        "commune_code": world.commune.code,
        "father_id": world.person.pk,
        "mother_id": mother.pk if mother else None,
        "document_ref": "KS-123/2026",
    }
    arguments.update(kwargs)
    return services.register_birth(actor, **arguments)


# --- id_code_of_province -------------------------------------------------------------


def test_every_current_province_has_an_id_code(db: None) -> None:
    provinces = AdministrativeUnit.objects.filter(scheme=Scheme.CURRENT, level=Level.PROVINCE)
    assert provinces.count() == 34
    codes = {p.code: geo_selectors.id_code_of_province(p) for p in provinces}
    assert len(set(codes.values())) == 34  # one legacy code each, never shared
    # The predecessor of the same name, not the 2025 code padded.
    assert codes["48"] == "048"  # Đà Nẵng (not Quảng Nam 049)
    assert codes["01"] == "001"
    assert codes["15"] == "010"  # Lào Cai (2025 code 15 was Yên Bái's)
    assert codes["24"] == "027"  # Bắc Ninh (24 was Bắc Giang)
    assert codes["79"] == "079"


def test_id_code_of_a_legacy_province_is_its_own(db: None) -> None:
    assert geo_selectors.id_code_of_province(factories.legacy_province("049")) == "049"


def test_id_code_of_a_commune_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc:
        geo_selectors.id_code_of_province(world.commune)
    assert exc.value.code == "not_a_province"


# --- register_birth ------------------------------------------------------------------


def test_register_birth(world: World, justice: User, mother: Person) -> None:
    child = _register(justice, world, mother)
    child.refresh_from_db()
    assert child.full_name == "Nguyễn Minh Khang"
    assert child.father == world.person
    assert child.mother == mother
    assert child.birth_registration_place == world.commune
    assert child.birth_registration_province == factories.legacy_province("048")
    assert child.residence_commune is None and child.residence_province is None
    assert not child.residences.exists()
    assert child.religion is not None and child.religion.code == "00"
    assert child.nationality == "VN"
    # The ID number: 048 (Đà Nẵng), 2 = male born 2000-2099, year, random serial.
    assert child.id_number.startswith(f"0482{BIRTH.year % 100:02d}")
    assert (
        idnumbers.validate(
            child.id_number,
            sex="M",
            birth_year=BIRTH.year,
            known_province_codes={"048"},
        )
        == []
    )
    event = CivilEvent.objects.get(person=child, kind="birth")
    assert event.document_ref == "KS-123/2026"
    assert event.event_date == BIRTH
    assert event.legal_basis == "Luật Hộ tịch 2014, Điều 16"
    assert event.source_agency == justice.agency
    assert event.details["birth_place"] == "Bệnh viện Phụ sản - Nhi Đà Nẵng"
    assert event.details["mother"] == mother.id_number
    record = ChangeRecord.objects.get(action="register_birth", person_id=child.pk)
    assert record.actor == justice
    assert record.changes["id_number"] == [None, child.id_number]
    assert record.changes["birth_registration_place"] == [None, world.commune.code]


def test_register_birth_with_one_parent(world: World, justice: User, mother: Person) -> None:
    child = _register(justice, world, mother, father_id=None, child=_child(sex="F"))
    assert child.father is None and child.mother == mother
    assert child.id_number[3] == "3"  # female, born 2000-2099


def test_register_birth_draws_from_the_given_random_source(world: World, justice: User) -> None:
    class Fixed:
        def randrange(self, start: int, stop: int, /) -> int:
            return 4711

    child = _register(justice, world, None, rng=Fixed())
    assert child.id_number == idnumbers.compose("048", "M", BIRTH.year, 4711)


def test_birth_in_a_merged_province_uses_its_legacy_code(world: World) -> None:
    lao_cai = factories.current_province("15")
    commune = factories.communes_of(lao_cai)[0]
    officer = _officer(lao_cai, AgencyKind.JUSTICE)
    father = factories.make_person(commune, full_name="Hoàng Văn Dũng", birth_id_code="015")
    child = services.register_birth(
        officer,
        child=_child(),
        commune_code=commune.code,
        father_id=father.pk,
        mother_id=None,
        document_ref="KS-1",
    )
    assert child.id_number.startswith("010")
    assert child.birth_registration_province.id_code == "010"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"full_name": "  "}, "required", "full_name"),
        ({"sex": "X"}, "invalid_sex", "sex"),
        ({"birth_date": TODAY + dt.timedelta(days=1)}, "date_in_future", "birth_date"),
        ({"ethnicity_code": "99"}, "unknown_ethnicity", "ethnicity"),
        ({"religion_code": "ZZ"}, "unknown_religion", "religion"),
        ({"nationality": "vn"}, "invalid_nationality", "nationality"),
    ],
)
def test_register_birth_rejects_bad_child_data(
    world: World, justice: User, mother: Person, *, changes: dict[str, Any], code: str, field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, mother, child=_child(**changes))
    assert (exc.value.code, exc.value.field) == (code, field)
    assert _counts() == before


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"father_id": None, "mother_id": None}, "parent_required", "mother"),
        ({"document_ref": " "}, "required", "document_ref"),
        ({"commune_code": "99999"}, "unknown_commune", "commune"),
    ],
)
def test_register_birth_rejects_bad_arguments(
    world: World, justice: User, kwargs: dict[str, Any], code: str, field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, None, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert _counts() == before


def test_the_same_person_cannot_be_both_parents(world: World, justice: User) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, None, mother_id=world.person.pk)
    assert exc.value.code == "same_parent"


def test_a_parent_outside_jurisdiction_is_not_found(world: World, justice: User) -> None:
    before = _counts()
    with pytest.raises(NotFound) as exc:
        _register(justice, world, None, father_id=world.far_person.pk)
    assert (exc.value.code, exc.value.field) == ("parent_not_found", "father")
    with pytest.raises(NotFound) as exc:
        _register(justice, world, None, mother_id=10**9)
    assert exc.value.field == "mother"
    assert _counts() == before


def test_parents_must_have_the_right_sex(world: World, justice: User, mother: Person) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, None, father_id=mother.pk)
    assert (exc.value.code, exc.value.field) == ("parent_sex", "father")
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, None, father_id=None, mother_id=world.person.pk)
    assert (exc.value.code, exc.value.field) == ("parent_sex", "mother")


def test_a_parent_must_be_twelve_years_older(world: World, justice: User) -> None:
    young = factories.make_person(
        world.commune, full_name="Trần Thị Nhỏ", sex="F", birth_date=BIRTH - dt.timedelta(days=3000)
    )
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, young, father_id=None)
    assert (exc.value.code, exc.value.field) == ("parent_too_young", "mother")


def test_the_child_cannot_be_born_before_a_parent(world: World, justice: User) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, None, child=_child(birth_date=dt.date(1980, 1, 1)))
    assert (exc.value.code, exc.value.field) == ("date_before_birth", "birth_date")


def test_a_mother_deceased_before_the_birth_is_refused(
    world: World, justice: User, mother: Person
) -> None:
    Person.objects.filter(pk=mother.pk).update(
        vital_status="deceased", death_date=BIRTH - dt.timedelta(days=1)
    )
    with pytest.raises(ValidationFailed) as exc:
        _register(justice, world, mother)
    assert (exc.value.code, exc.value.field) == ("parent_deceased", "mother")


def test_a_mother_who_died_giving_birth_is_accepted(
    world: World, justice: User, mother: Person
) -> None:
    Person.objects.filter(pk=mother.pk).update(vital_status="deceased", death_date=BIRTH)
    assert _register(justice, world, mother).mother == mother


@pytest.mark.parametrize(("days", "ok"), [(200, True), (300, True), (301, False)])
def test_a_father_may_have_died_within_300_days(
    world: World, justice: User, mother: Person, days: int, ok: bool
) -> None:
    Person.objects.filter(pk=world.person.pk).update(
        vital_status="deceased", death_date=BIRTH - dt.timedelta(days=days)
    )
    if ok:
        assert _register(justice, world, mother).father_id == world.person.pk
    else:
        with pytest.raises(ValidationFailed) as exc:
            _register(justice, world, mother)
        assert (exc.value.code, exc.value.field) == ("parent_deceased", "father")


def test_a_retired_parent_record_is_refused(world: World, justice: User, mother: Person) -> None:
    Person.objects.filter(pk=mother.pk).update(status=RecordStatus.RETIRED)
    with pytest.raises(Conflict) as exc:
        _register(justice, world, mother)
    assert exc.value.code == "parent_record_retired"


def test_register_birth_outside_jurisdiction(world: World, justice: User) -> None:
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        _register(justice, world, None, commune_code=world.other_commune.code)
    assert (exc.value.code, exc.value.field) == ("outside_jurisdiction", "commune")
    assert _counts() == before


@pytest.mark.parametrize("who", ["steward", "police", "social_insurance", "nobody"])
def test_register_birth_permission_denied(world: World, who: str) -> None:
    actor = {
        "steward": world.steward,
        "police": world.commune_officer,
        "social_insurance": _officer(world.commune, AgencyKind.SOCIAL_INSURANCE),
        "nobody": world.nobody,
    }[who]
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        _register(actor, world, None)
    assert exc.value.code == "permission_denied"
    assert _counts() == before


class RollbackError(Exception):
    """Raised inside an outer transaction to roll it back."""


def test_register_birth_joins_the_callers_transaction(world: World, justice: User) -> None:
    from django.db import transaction

    before = _counts()

    def approve_then_fail() -> None:
        with transaction.atomic():
            _register(justice, world, None)
            raise RollbackError

    with pytest.raises(RollbackError):
        approve_then_fail()
    assert _counts() == before


# --- declare_temporary_absence ----------------------------------------------------------


def _absence(actor: User, world: World, **kwargs: Any) -> Residence:
    arguments: dict[str, Any] = {
        "person_id": world.person.pk,
        "destination": "Làm việc tại Nhật Bản",
        "start_date": TODAY,
        "end_date": TODAY + dt.timedelta(days=400),
        "reason": "Đi lao động có thời hạn",
    }
    arguments.update(kwargs)
    return services.declare_temporary_absence(actor, **arguments)


def test_declare_temporary_absence(world: World, django_capture_on_commit_callbacks) -> None:
    received = []

    def handler(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs["residence"].pk)

    signals.residence_changed.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            absence = _absence(world.commune_officer, world)
    finally:
        signals.residence_changed.disconnect(handler)
    home = world.person.residences.get(kind=ResidenceKind.PERMANENT)
    assert absence.kind == ResidenceKind.ABSENCE
    assert absence.address == home.address
    assert absence.commune == world.commune
    assert absence.end_date == TODAY + dt.timedelta(days=400)
    assert absence.reason == "Đi lao động có thời hạn"
    assert absence.registered_by == world.commune_officer.agency
    assert home.ended_on is None  # the permanent residence stays
    event = CivilEvent.objects.get(person=world.person, kind="temporary_absence")
    assert event.details["destination"] == "Làm việc tại Nhật Bản"
    assert event.legal_basis == "Luật Cư trú 2020, Điều 31"
    assert ChangeRecord.objects.filter(
        action="register_absence", object_id=absence.pk, actor=world.commune_officer
    ).exists()
    assert received == [absence.pk]


def test_a_new_absence_replaces_the_current_one(world: World) -> None:
    first = _absence(world.province_officer, world, start_date=TODAY - dt.timedelta(days=50))
    second = _absence(world.commune_officer, world, start_date=TODAY + dt.timedelta(days=5))
    first.refresh_from_db()
    assert first.ended_on == TODAY + dt.timedelta(days=4)
    assert second.ended_on is None
    assert world.person.residences.filter(kind="absence", ended_on__isnull=True).count() == 1


def test_an_absence_that_ran_out_is_left_alone(world: World) -> None:
    old = _absence(
        world.commune_officer,
        world,
        start_date=TODAY - dt.timedelta(days=100),
        end_date=TODAY - dt.timedelta(days=10),
    )
    _absence(world.commune_officer, world)
    old.refresh_from_db()
    assert old.ended_on is None and old.end_date == TODAY - dt.timedelta(days=10)


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"destination": " "}, "required", "destination"),
        ({"destination": "x" * 301}, "too_long", "destination"),
        ({"reason": ""}, "required", "reason"),
        ({"reason": "y" * 301}, "too_long", "reason"),
        ({"end_date": None}, "required", "end_date"),
        ({"end_date": TODAY}, "invalid_period", "end_date"),
        ({"end_date": TODAY - dt.timedelta(days=1)}, "invalid_period", "end_date"),
        ({"end_date": TODAY + dt.timedelta(days=733)}, "period_too_long", "end_date"),
        (
            {
                "start_date": TODAY + dt.timedelta(days=31),
                "end_date": TODAY + dt.timedelta(days=90),
            },
            "start_too_far_ahead",
            "start_date",
        ),
        (
            {"start_date": dt.date(1989, 1, 1), "end_date": dt.date(1990, 1, 1)},
            "date_before_birth",
            "start_date",
        ),
    ],
)
def test_declare_temporary_absence_rejects(
    world: World, kwargs: dict[str, Any], code: str, field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        _absence(world.commune_officer, world, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert _counts() == before


def test_two_years_of_absence_are_accepted(world: World) -> None:
    absence = _absence(world.commune_officer, world, end_date=TODAY + dt.timedelta(days=732))
    assert absence.end_date == TODAY + dt.timedelta(days=732)


def test_absence_outside_jurisdiction_is_not_found(world: World) -> None:
    before = _counts()
    with pytest.raises(NotFound):
        _absence(world.other_commune_officer, world)
    assert _counts() == before


def test_absence_is_declared_where_the_person_lives(world: World) -> None:
    """An officer who sees the person through a temporary residence in their commune
    cannot declare an absence from a permanent residence elsewhere."""
    services.register_temporary_residence(
        world.admin,
        person_id=world.far_person.pk,
        commune_code=world.other_commune.code,
        street="Số 2",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=90),
    )
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        _absence(world.other_commune_officer, world, person_id=world.far_person.pk)
    assert exc.value.code == "outside_jurisdiction"
    assert _counts() == before


def test_absence_of_a_deceased_person_is_refused(world: World) -> None:
    services.record_death(
        world.commune_officer, person_id=world.person.pk, death_date=TODAY, document_ref="TLKT"
    )
    with pytest.raises(Conflict) as exc:
        _absence(world.commune_officer, world)
    assert exc.value.code == "person_deceased"


def test_absence_without_permanent_residence_is_refused(world: World, justice: User) -> None:
    child = _register(justice, world, None)
    with pytest.raises(Conflict) as exc:
        _absence(world.admin, world, person_id=child.pk, start_date=TODAY)
    assert exc.value.code == "no_permanent_residence"


@pytest.mark.parametrize("who", ["steward", "justice", "social_insurance"])
def test_declare_temporary_absence_permission_denied(world: World, who: str) -> None:
    actor = (
        world.steward
        if who == "steward"
        else _officer(world.commune, AgencyKind.JUSTICE)
        if who == "justice"
        else _officer(world.commune, AgencyKind.SOCIAL_INSURANCE)
    )
    with pytest.raises(PermissionDenied) as exc:
        _absence(actor, world)
    assert exc.value.code == "permission_denied"


# --- remove_permanent_residence ---------------------------------------------------------


def _remove(actor: User, world: World, **kwargs: Any) -> CivilEvent:
    arguments: dict[str, Any] = {
        "person_id": world.person.pk,
        "on": TODAY,
        "reason": "Định cư ở nước ngoài",
        "document_ref": "QĐ-45/2026",
    }
    arguments.update(kwargs)
    return services.remove_permanent_residence(actor, **arguments)


def test_remove_permanent_residence(world: World, django_capture_on_commit_callbacks) -> None:
    received = []

    def handler(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs["person"].pk)

    home = world.person.residences.get(kind=ResidenceKind.PERMANENT)
    household = factories.household_of(world.person)
    signals.residence_changed.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = _remove(world.commune_officer, world)
    finally:
        signals.residence_changed.disconnect(handler)
    home.refresh_from_db()
    assert home.ended_on == TODAY
    assert not HouseholdMembership.objects.filter(person=world.person, until__isnull=True).exists()
    assert event.kind == "residence_change"
    assert event.document_ref == "QĐ-45/2026"
    assert event.legal_basis == "Luật Cư trú 2020, Điều 24"
    assert event.details["removed"] is True
    assert event.details["residence_id"] == home.pk
    assert event.details["household"] == household.code
    assert event.details["deceased"] is False
    assert ChangeRecord.objects.filter(
        action="remove_permanent_residence", object_id=home.pk, actor=world.commune_officer
    ).exists()
    assert ChangeRecord.objects.filter(action="end_residence", object_id=home.pk).exists()
    # The commune where the person last lived still finds them (as after a death).
    person = Person.objects.get(pk=world.person.pk)
    assert person.residence_commune == world.commune
    assert received == [world.person.pk]


def test_a_second_removal_is_refused(world: World) -> None:
    _remove(world.commune_officer, world)
    before = _counts()
    with pytest.raises(Conflict) as exc:
        _remove(world.province_officer, world)
    assert exc.value.code == "already_removed"
    assert _counts() == before


def test_removal_after_death_only_records_the_removal(world: World) -> None:
    services.record_death(
        world.commune_officer,
        person_id=world.person.pk,
        death_date=TODAY - dt.timedelta(days=2),
        document_ref="TLKT-7",
    )
    home = world.person.residences.get(kind=ResidenceKind.PERMANENT)
    assert home.ended_on == TODAY - dt.timedelta(days=2)
    event = _remove(world.commune_officer, world, reason="Công dân đã chết")
    home.refresh_from_db()
    assert home.ended_on == TODAY - dt.timedelta(days=2)  # untouched
    assert event.details["deceased"] is True
    assert event.details["residence_id"] == home.pk
    with pytest.raises(Conflict) as exc:
        _remove(world.commune_officer, world, reason="Công dân đã chết")
    assert exc.value.code == "already_removed"


def test_a_deceased_person_is_found_through_their_last_residence(world: World) -> None:
    services.record_death(
        world.commune_officer, person_id=world.person.pk, death_date=TODAY, document_ref="T"
    )
    # A record without its denormalised commune (an import, say): still found where the
    # person last lived, and only there.
    Person.objects.filter(pk=world.person.pk).update(
        residence_commune=None, residence_province=None
    )
    with pytest.raises(NotFound):
        _remove(world.other_commune_officer, world)
    event = _remove(world.commune_officer, world)
    assert event.details["removed"] is True


def test_removal_outside_jurisdiction_is_not_found(world: World) -> None:
    before = _counts()
    with pytest.raises(NotFound):
        _remove(world.other_commune_officer, world)
    assert _counts() == before


def test_removal_is_done_where_the_person_lives(world: World) -> None:
    services.register_temporary_residence(
        world.admin,
        person_id=world.far_person.pk,
        commune_code=world.other_commune.code,
        street="Số 2",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=90),
    )
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        _remove(world.other_commune_officer, world, person_id=world.far_person.pk)
    assert exc.value.code == "outside_jurisdiction"
    assert _counts() == before


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"reason": " "}, "required", "reason"),
        ({"on": TODAY + dt.timedelta(days=1)}, "date_in_future", "on"),
        ({"on": dt.date(1990, 1, 1)}, "date_before_start", "on"),
    ],
)
def test_remove_permanent_residence_rejects(
    world: World, kwargs: dict[str, Any], code: str, field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        _remove(world.commune_officer, world, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert _counts() == before


def test_removal_without_permanent_residence(world: World, justice: User) -> None:
    child = _register(justice, world, None)
    with pytest.raises(Conflict) as exc:
        _remove(world.admin, world, person_id=child.pk)
    assert exc.value.code == "no_permanent_residence"
    # A living person whose residence ended without removal (moved away): nothing here.
    world.person.residences.update(ended_on=TODAY)
    with pytest.raises(Conflict) as exc:
        _remove(world.commune_officer, world)
    assert exc.value.code == "no_permanent_residence"


@pytest.mark.parametrize("who", ["steward", "justice", "social_insurance"])
def test_remove_permanent_residence_permission_denied(world: World, who: str) -> None:
    actor = (
        world.steward
        if who == "steward"
        else _officer(world.commune, AgencyKind.JUSTICE)
        if who == "justice"
        else _officer(world.commune, AgencyKind.SOCIAL_INSURANCE)
    )
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        _remove(actor, world)
    assert exc.value.code == "permission_denied"
    assert _counts() == before

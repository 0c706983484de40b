"""Registry state changes: effects, audit, jurisdiction and bad input (nothing half-written)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.registry import services, signals
from congdan.registry.models import (
    CivilEvent,
    HouseholdMembership,
    Person,
    Relationship,
    Residence,
    ResidenceKind,
    VitalStatus,
)
from tests import factories

TODAY = dt.date.today()


def _counts() -> tuple[int, int, int, int]:
    return (
        Residence.objects.count(),
        CivilEvent.objects.count(),
        ChangeRecord.objects.count(),
        HouseholdMembership.objects.count(),
    )


# --- temporary residence --------------------------------------------------------------


def test_register_temporary_residence_writes_residence_event_and_audit(world) -> None:
    start = TODAY
    res = services.register_temporary_residence(
        world.commune_officer,
        person_id=world.person.pk,
        commune_code=world.commune.code,
        street="Số 5 Trần Phú",
        start_date=start,
        end_date=start + dt.timedelta(days=180),
        reason="Đi làm",
    )
    assert res.kind == ResidenceKind.TEMPORARY
    assert res.commune == world.commune
    assert res.address.current_commune == world.commune
    assert res.registered_by == world.commune_officer.agency
    assert CivilEvent.objects.filter(person=world.person, kind="temporary_residence").exists()
    record = ChangeRecord.objects.get(object_type="registry.residence", object_id=res.pk)
    assert record.actor == world.commune_officer
    assert record.changes["kind"] == [None, "temporary"]


def test_a_new_temporary_residence_ends_the_current_one(world) -> None:
    first = services.register_temporary_residence(
        world.commune_officer,
        person_id=world.person.pk,
        commune_code=world.commune.code,
        street="A",
        start_date=TODAY - dt.timedelta(days=100),
        end_date=TODAY + dt.timedelta(days=100),
    )
    services.register_temporary_residence(
        world.commune_officer,
        person_id=world.person.pk,
        commune_code=world.commune.code,
        street="B",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=60),
    )
    first.refresh_from_db()
    assert first.ended_on == TODAY - dt.timedelta(days=1)
    assert world.person.residences.filter(kind="temporary", ended_on__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (TODAY, TODAY - dt.timedelta(days=1), "invalid_period"),
        (TODAY, TODAY + dt.timedelta(days=10), "period_too_short"),
        (TODAY, TODAY + dt.timedelta(days=900), "period_too_long"),
        (dt.date(1980, 1, 1), dt.date(1980, 6, 1), "date_before_birth"),
    ],
)
def test_temporary_residence_bad_periods(world, start, end, code) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.register_temporary_residence(
            world.commune_officer,
            person_id=world.person.pk,
            commune_code=world.commune.code,
            street="Số 1",
            start_date=start,
            end_date=end,
        )
    assert exc.value.code == code
    assert _counts() == before


def test_temporary_residence_outside_jurisdiction_commune(world) -> None:
    with pytest.raises(PermissionDenied) as exc:
        services.register_temporary_residence(
            world.commune_officer,
            person_id=world.person.pk,
            commune_code=world.other_commune.code,
            street="Số 1",
            start_date=TODAY,
            end_date=TODAY + dt.timedelta(days=60),
        )
    assert exc.value.code == "outside_jurisdiction"


def test_temporary_residence_person_outside_jurisdiction_is_not_found(world) -> None:
    with pytest.raises(NotFound):
        services.register_temporary_residence(
            world.commune_officer,
            person_id=world.neighbour.pk,
            commune_code=world.commune.code,
            street="Số 1",
            start_date=TODAY,
            end_date=TODAY + dt.timedelta(days=60),
        )


def test_unknown_commune_code(world) -> None:
    with pytest.raises((ValidationFailed, NotFound)) as exc:
        services.register_temporary_residence(
            world.commune_officer,
            person_id=world.person.pk,
            commune_code="99999",
            street="Số 1",
            start_date=TODAY,
            end_date=TODAY + dt.timedelta(days=60),
        )
    assert exc.value.code == "unknown_commune"


def test_officer_without_role_cannot_register(world) -> None:
    with pytest.raises(PermissionDenied):
        services.register_temporary_residence(
            world.nobody,
            person_id=world.person.pk,
            commune_code=world.commune.code,
            street="Số 1",
            start_date=TODAY,
            end_date=TODAY + dt.timedelta(days=60),
        )


def test_temporary_resident_becomes_visible_to_the_host_commune(world) -> None:
    """A provincial officer registers a stay in commune B for a resident of commune A."""
    services.register_temporary_residence(
        world.province_officer,
        person_id=world.person.pk,
        commune_code=world.other_commune.code,
        street="Số 9",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=90),
    )
    from congdan.registry.scoping import persons_for

    assert persons_for(world.other_commune_officer).filter(pk=world.person.pk).exists()


# --- household move -------------------------------------------------------------------


def test_move_household_moves_every_member(world) -> None:
    household = factories.household_of(world.person)
    child = factories.make_person(
        world.commune,
        full_name="Nguyễn Văn Bé",
        birth_date=dt.date(2015, 3, 1),
        household=household,
        relationship=Relationship.CHILD,
    )
    result = services.move_household(
        world.province_officer,
        household_code=household.code,
        commune_code=world.other_commune.code,
        street="Số 77 Lê Lợi",
        move_date=TODAY,
    )
    assert len(result.residences) == 2
    for person in (world.person, child):
        person.refresh_from_db()
        assert person.residence_commune == world.other_commune
        current = person.residences.get(kind="permanent", ended_on__isnull=True)
        assert current.commune == world.other_commune
        assert person.residences.filter(kind="permanent", ended_on=TODAY).count() == 1
    household.refresh_from_db()
    assert household.commune == world.other_commune


def test_commune_officer_cannot_move_household_to_another_commune(world) -> None:
    household = factories.household_of(world.person)
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        services.move_household(
            world.commune_officer,
            household_code=household.code,
            commune_code=world.other_commune.code,
            street="Số 1",
            move_date=TODAY,
        )
    assert exc.value.code == "outside_jurisdiction"
    assert _counts() == before
    world.person.refresh_from_db()
    assert world.person.residence_commune == world.commune


def test_move_household_in_the_future_is_refused(world) -> None:
    household = factories.household_of(world.person)
    with pytest.raises(ValidationFailed) as exc:
        services.move_household(
            world.commune_officer,
            household_code=household.code,
            commune_code=world.commune.code,
            street="Số 2",
            move_date=TODAY + dt.timedelta(days=3),
        )
    assert exc.value.code == "date_in_future"


# --- household membership -------------------------------------------------------------


def test_second_head_is_refused(world) -> None:
    household = factories.household_of(world.person)
    lodger = factories.make_person(world.commune, full_name="Phạm Văn Khách")
    before = _counts()
    with pytest.raises(Conflict) as exc:
        services.add_household_member(
            world.commune_officer,
            household_code=household.code,
            person_id=lodger.pk,
            relationship=Relationship.HEAD,
            since=TODAY,
        )
    assert exc.value.code == "household_has_head"
    assert _counts() == before


def test_person_moved_into_household_of_another_commune_without_jurisdiction(world) -> None:
    other_household = factories.household_of(world.neighbour)
    before = _counts()
    with pytest.raises(PermissionDenied) as exc:
        services.add_household_member(
            world.commune_officer,
            household_code=other_household.code,
            person_id=world.person.pk,
            relationship=Relationship.OTHER,
            since=TODAY,
        )
    assert exc.value.code == "outside_jurisdiction"
    assert _counts() == before


def test_add_member_moves_permanent_residence(world) -> None:
    household = factories.household_of(world.person)
    lodger = factories.make_person(world.commune, full_name="Phạm Văn Khách")
    services.add_household_member(
        world.commune_officer,
        household_code=household.code,
        person_id=lodger.pk,
        relationship=Relationship.OTHER,
        since=TODAY,
    )
    assert HouseholdMembership.objects.get(person=lodger, until__isnull=True).household == household
    assert lodger.residences.get(kind="permanent", ended_on__isnull=True).household == household


# --- death ----------------------------------------------------------------------------


def test_record_death_marks_person_and_ends_residence(
    world, django_capture_on_commit_callbacks
) -> None:
    received = []

    def handler(sender, **kwargs):
        received.append(kwargs["person"].pk)

    signals.person_died.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.record_death(
                world.commune_officer,
                person_id=world.person.pk,
                death_date=TODAY,
                document_ref="TLKT-01/2026",
            )
    finally:
        signals.person_died.disconnect(handler)
    person = Person.objects.get(pk=world.person.pk)
    assert person.vital_status == VitalStatus.DECEASED
    assert person.death_date == TODAY
    assert not person.residences.filter(ended_on__isnull=True).exists()
    assert not HouseholdMembership.objects.filter(person=person, until__isnull=True).exists()
    assert CivilEvent.objects.filter(
        person=person, kind="death", document_ref="TLKT-01/2026"
    ).exists()
    assert received == [person.pk]


@pytest.mark.parametrize(
    ("death_date", "code"),
    [(dt.date(1980, 1, 1), "death_before_birth"), (TODAY + dt.timedelta(days=1), "date_in_future")],
)
def test_bad_death_dates(world, death_date, code) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as exc:
        services.record_death(
            world.commune_officer,
            person_id=world.person.pk,
            death_date=death_date,
            document_ref="X",
        )
    assert exc.value.code == code
    assert _counts() == before
    world.person.refresh_from_db()
    assert world.person.vital_status == VitalStatus.ALIVE


def test_death_twice_is_a_conflict(world) -> None:
    services.record_death(
        world.commune_officer, person_id=world.person.pk, death_date=TODAY, document_ref="A"
    )
    with pytest.raises(Conflict):
        services.record_death(
            world.commune_officer, person_id=world.person.pk, death_date=TODAY, document_ref="B"
        )


def test_year_only_birth_allows_death_in_that_year(world) -> None:
    elder = factories.make_person(
        world.commune,
        full_name="Hoàng Thị Lão",
        sex="F",
        birth_date=dt.date(1930, 1, 1),
        birth_date_precision="year",
    )
    services.record_death(
        world.commune_officer, person_id=elder.pk, death_date=dt.date(1930, 1, 1), document_ref="A"
    )


# --- persons: allocation and correction -----------------------------------------------


def _new_person(**overrides) -> services.NewPerson:
    data = {
        "full_name": "Đỗ Minh Khang",
        "birth_date": dt.date(2001, 7, 9),
        "sex": "M",
        "ethnicity_code": "01",
        "birth_registration_province_code": "048",
    }
    data.update(overrides)
    return services.NewPerson(**data)


def test_register_person_allocates_a_valid_number(world) -> None:
    person = services.register_person(world.steward, _new_person())
    from congdan.registry import idnumbers

    assert idnumbers.validate(person.id_number, sex="M", birth_year=2001) == []
    assert person.id_number.startswith("0482")
    assert person.name_search == "do minh khang"


class Repeating:
    """A random source that repeats a tiny set of serials: forces collisions."""

    def __init__(self, values: list[int]) -> None:
        self.values = values
        self.i = 0

    def randrange(self, start: int, stop: int) -> int:
        value = self.values[self.i % len(self.values)]
        self.i += 1
        return value


def test_allocation_retries_on_collision(world) -> None:
    first = services.register_person(world.steward, _new_person(), rng=Repeating([7]))
    second = services.register_person(world.steward, _new_person(), rng=Repeating([7, 7, 8]))
    assert first.id_number.endswith("000007")
    assert second.id_number.endswith("000008")


def test_allocation_gives_up_with_a_clear_error(world) -> None:
    services.register_person(world.steward, _new_person(), rng=Repeating([7]))
    count = Person.objects.count()
    with pytest.raises(Conflict) as exc:
        services.register_person(world.steward, _new_person(), rng=Repeating([7]))
    assert exc.value.code == "id_allocation_exhausted"
    assert Person.objects.count() == count


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"birth_date": TODAY + dt.timedelta(days=1)}, "date_in_future"),
        ({"ethnicity_code": "77"}, "unknown_ethnicity"),
        ({"sex": "X"}, "invalid_sex"),
        ({"full_name": "  "}, "required"),
    ],
)
def test_register_person_bad_input(world, overrides, code) -> None:
    count = Person.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.register_person(world.steward, _new_person(**overrides))
    assert exc.value.code == code
    assert Person.objects.count() == count


def test_officer_cannot_register_persons(world) -> None:
    with pytest.raises(PermissionDenied):
        services.register_person(world.commune_officer, _new_person())


def test_correction_is_kept_and_readable_as_of_before(world) -> None:
    from congdan.registry import selectors

    moment = timezone.now()
    services.correct_person(
        world.steward,
        person_id=world.person.pk,
        changes={"full_name": "Nguyễn Văn Ân"},
        reason="Sai chính tả khi nhập",
        legal_basis="Luật Hộ tịch 2014, Điều 26",
    )
    world.person.refresh_from_db()
    assert world.person.full_name == "Nguyễn Văn Ân"
    assert CivilEvent.objects.filter(person=world.person, kind="name_change").exists()
    then = selectors.person_as_of(
        world.steward, id_number=world.person.id_number, at=moment, channel="ui"
    )
    assert then["full_name"] == "Nguyễn Văn An"
    now = selectors.person_as_of(
        world.steward, id_number=world.person.id_number, at=timezone.now(), channel="ui"
    )
    assert now["full_name"] == "Nguyễn Văn Ân"


def test_correction_of_protected_field_is_refused(world) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.correct_person(
            world.steward,
            person_id=world.person.pk,
            changes={"birth_date": dt.date(1999, 1, 1)},
            reason="x",
            legal_basis="y",
        )
    assert exc.value.code == "field_not_correctable"


def test_every_service_declares_its_permission() -> None:
    for name in services.__all__:
        func = getattr(services, name)
        if callable(func) and name not in {"NewPerson", "MoveResult", "allocate_and_save"}:
            assert getattr(func, "required_perm", None) is not None, name


@pytest.mark.parametrize(
    ("changes", "code"),
    [({}, "no_changes"), ({"nationality": "vn1"}, "invalid_nationality")],
)
def test_correction_bad_input(world, changes, code) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.correct_person(
            world.steward, person_id=world.person.pk, changes=changes, reason="x", legal_basis="y"
        )
    assert exc.value.code == code


def test_correction_collapses_spaces(world) -> None:
    services.correct_person(
        world.steward,
        person_id=world.person.pk,
        changes={"full_name": "  Nguyễn   Văn  Ân "},
        reason="x",
        legal_basis="y",
    )
    world.person.refresh_from_db()
    assert world.person.full_name == "Nguyễn Văn Ân"


def test_temporary_residence_too_far_ahead(world) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.register_temporary_residence(
            world.commune_officer,
            person_id=world.person.pk,
            commune_code=world.commune.code,
            street="Số 1",
            start_date=TODAY + dt.timedelta(days=45),
            end_date=TODAY + dt.timedelta(days=200),
        )
    assert exc.value.code == "start_too_far_ahead"

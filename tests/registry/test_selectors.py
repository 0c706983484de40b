"""Scoped, logged reads: search, person file, jurisdiction, access log."""

from __future__ import annotations

import datetime as dt

import pytest

from congdan.audit.models import AccessLogEntry
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.registry import selectors
from congdan.registry.scoping import persons_for
from tests import factories


def test_search_ignores_diacritics_and_case(world) -> None:
    page = selectors.search_persons(world.commune_officer, q="NGUYEN van an", channel="ui")
    assert [p.pk for p in page.results] == [world.person.pk]


def test_search_by_partial_name_and_year(world) -> None:
    page = selectors.search_persons(
        world.commune_officer, q="van an", birth_year=1990, channel="ui"
    )
    assert world.person in page.results
    page = selectors.search_persons(
        world.commune_officer, q="van an", birth_year=1991, channel="ui"
    )
    assert page.results == []


def test_search_by_id_number_is_exact(world) -> None:
    page = selectors.search_persons(world.commune_officer, q=world.person.id_number, channel="ui")
    assert page.results == [world.person]


def test_search_is_scoped_to_jurisdiction(world) -> None:
    assert (
        selectors.search_persons(world.commune_officer, q="tran thi binh", channel="ui").results
        == []
    )
    province = selectors.search_persons(world.province_officer, q="tran thi binh", channel="ui")
    assert province.results == [world.neighbour]
    assert (
        selectors.search_persons(world.province_officer, q="le van cuong", channel="ui").results
        == []
    )
    assert selectors.search_persons(world.steward, q="le van cuong", channel="ui").results == [
        world.far_person
    ]


def test_search_paginates_without_count(world) -> None:
    for i in range(7):
        factories.make_person(world.commune, full_name=f"Nguyễn Văn Phụ {i}")
    first = selectors.search_persons(
        world.commune_officer, q="nguyen van phu", page_size=5, channel="ui"
    )
    second = selectors.search_persons(
        world.commune_officer, q="nguyen van phu", page=2, page_size=5, channel="ui"
    )
    assert len(first.results) == 5 and first.has_next
    assert len(second.results) == 2 and not second.has_next and second.has_previous
    assert not {p.pk for p in first.results} & {p.pk for p in second.results}


def test_search_by_commune(world) -> None:
    page = selectors.search_persons(
        world.province_officer, commune_code=world.other_commune.code, channel="ui"
    )
    assert page.results == [world.neighbour]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"q": ""}, "empty_query"),
        ({"q": "a"}, "query_too_short"),
        ({"q": "12345"}, "invalid_id_number"),
        ({"q": "an", "birth_year": 1800}, "invalid_birth_year"),
        ({"q": "an", "page": 0}, "invalid_page"),
    ],
)
def test_search_bad_input(world, kwargs, code) -> None:
    with pytest.raises(ValidationFailed) as exc:
        selectors.search_persons(world.commune_officer, channel="ui", **kwargs)
    assert exc.value.code == code


def test_search_logs_each_result(world) -> None:
    selectors.search_persons(world.province_officer, q="van an", channel="api", purpose="check")
    entries = AccessLogEntry.objects.filter(actor=world.province_officer, view="person_search")
    assert {e.person_id for e in entries} == {world.person.pk}
    assert all(e.purpose == "check" and e.channel == "api" for e in entries)


def test_person_file_outside_jurisdiction_is_not_found(world) -> None:
    with pytest.raises(NotFound) as exc:
        selectors.person_file(
            world.commune_officer, id_number=world.neighbour.id_number, channel="ui"
        )
    missing = "048090999999"
    with pytest.raises(NotFound) as exc2:
        selectors.person_file(world.commune_officer, id_number=missing, channel="ui")
    assert exc.value.as_dict() == exc2.value.as_dict()
    assert not AccessLogEntry.objects.filter(person=world.neighbour).exists()


def test_person_file_reads_everything_and_logs_once(world) -> None:
    file = selectors.person_file(
        world.commune_officer, id_number=world.person.id_number, channel="ui"
    )
    assert file.person == world.person
    assert file.household is not None
    assert [m.person_id for m in file.members] == [world.person.pk]
    assert len(file.cards) == 1
    assert file.residences[0].kind == "permanent"
    entry = AccessLogEntry.objects.get(person=world.person)
    assert entry.actor == world.commune_officer
    assert entry.organisation == world.commune_officer.agency.code
    assert "residences" in entry.fields


def test_user_without_role_sees_nothing(world) -> None:
    assert not persons_for(world.nobody).exists()
    with pytest.raises(PermissionDenied):
        selectors.search_persons(world.nobody, q="an", channel="ui")


def test_inactive_agency_sees_nothing(world) -> None:
    agency = world.commune_officer.agency
    agency.active = False
    agency.save()
    world.commune_officer.refresh_from_db()
    assert not persons_for(world.commune_officer).exists()


def test_household_of_lists_members_and_logs_each(world) -> None:
    household, members = selectors.household_of(
        world.commune_officer, id_number=world.person.id_number, channel="api"
    )
    assert household.commune == world.commune
    assert [m.person for m in members] == [world.person]
    assert AccessLogEntry.objects.filter(view="household", person=world.person).count() == 1


def test_as_of_before_creation_is_not_found(world) -> None:
    with pytest.raises(NotFound) as exc:
        selectors.person_as_of(
            world.steward,
            id_number=world.person.id_number,
            at=world.person.created_at - dt.timedelta(days=1),
            channel="ui",
        )
    assert exc.value.code == "not_recorded_yet"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"q": "an\x00"}, "invalid_characters"), ({"q": "van an", "page": 10**9}, "invalid_page")],
)
def test_search_refuses_control_characters_and_huge_pages(world, kwargs, code) -> None:
    with pytest.raises(ValidationFailed) as exc:
        selectors.search_persons(world.commune_officer, channel="ui", **kwargs)
    assert exc.value.code == code


def test_temporary_resident_household_stays_private(world) -> None:
    from congdan.registry import services

    services.register_temporary_residence(
        world.province_officer,
        person_id=world.person.pk,
        commune_code=world.other_commune.code,
        street="Số 9",
        start_date=dt.date.today(),
        end_date=dt.date.today() + dt.timedelta(days=90),
    )
    file = selectors.person_file(
        world.other_commune_officer, id_number=world.person.id_number, channel="ui"
    )
    assert file.household is None and file.members == []
    with pytest.raises(NotFound):
        selectors.household_of(
            world.other_commune_officer, id_number=world.person.id_number, channel="api"
        )

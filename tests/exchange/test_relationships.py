"""Relationships a member records with persons (what entitles it to change notifications)."""

from __future__ import annotations

import pytest

from congdan.audit.models import AccessLogEntry, Channel, Outcome
from congdan.exchange.models import Relationship
from tests.conftest import World
from tests.exchange.conftest import MemberApi

URL = "/api/v1/exchange/relationships"
EVENTS = ("person-events", "public_service", ["death", "residence_change", "name_change"])

pytestmark = pytest.mark.django_db


def test_record_is_idempotent_and_logged(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[EVENTS])
    first = api.post(URL, {"id_number": world.person.id_number, "reference": "KH-001"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True
    assert body["reference"] == "KH-001"
    assert body["id_number"] == world.person.id_number

    again = api.post(URL, {"id_number": world.person.id_number})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["reference"] == "KH-001"  # kept when none is given
    changed = api.post(URL, {"id_number": world.person.id_number, "reference": "KH-002"})
    assert changed.json()["reference"] == "KH-002"

    rows = Relationship.objects.filter(member=api.member, person=world.person)
    assert rows.count() == 1
    assert rows.get().ended_at is None
    entries = AccessLogEntry.objects.filter(person=world.person, channel=Channel.EXCHANGE)
    assert entries.count() == 3
    entry = entries.first()
    assert entry is not None
    assert entry.fields == "relationship"
    assert entry.view == "person-events"
    assert entry.purpose == "public_service"
    assert entry.outcome == Outcome.OK
    assert entry.subsystem == api.subsystem.identifier
    assert not AccessLogEntry.objects.filter(person=world.neighbour).exists()


def test_purpose_in_body_instead_of_header(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[EVENTS])
    response = api.post(
        URL, {"id_number": world.person.id_number, "purpose": "public_service"}, purpose=""
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("id_number", "status", "code"),
    [
        ("123", 422, "invalid_id_number"),
        ("04809000000x", 422, "invalid_id_number"),
        ("048090999999", 404, "person_not_found"),
    ],
)
def test_record_needs_an_existing_person(
    world: World, member_api: MemberApi, id_number: str, status: int, code: str
) -> None:
    api = member_api("bank1", grants=[EVENTS])
    response = api.post(URL, {"id_number": id_number})
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Relationship.objects.exists()
    assert not AccessLogEntry.objects.filter(channel=Channel.EXCHANGE).exists()


def test_record_refused_without_grant_or_purpose(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[("verify-identity", "public_service", ["full_name"])])
    refused = api.post(URL, {"id_number": world.person.id_number})
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_grant"
    other = member_api("bank2", grants=[EVENTS])
    missing = other.post(URL, {"id_number": world.person.id_number}, purpose="")
    assert missing.status_code == 422
    assert missing.json()["code"] == "purpose_required"
    wrong = other.post(URL, {"id_number": world.person.id_number}, purpose="marketing")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "unknown_purpose"
    assert not Relationship.objects.exists()


def test_unauthenticated_is_401(world: World, client: object) -> None:
    from django.test import Client

    response = Client().post(
        URL,
        {"id_number": world.person.id_number},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nope",
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_bad_reference_and_body(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[EVENTS])
    control = api.post(URL, {"id_number": world.person.id_number, "reference": "bad\x00ref"})
    assert control.status_code == 422
    assert control.json()["code"] == "invalid_reference"
    too_long = api.post(URL, {"id_number": world.person.id_number, "reference": "x" * 81})
    assert too_long.status_code == 422
    not_json = api.post(URL, "{", content_type="application/json")
    assert not_json.status_code == 422
    assert not Relationship.objects.exists()


def test_end_list_and_record_again(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[EVENTS])
    for person in (world.person, world.neighbour, world.far_person):
        assert api.post(URL, {"id_number": person.id_number}).status_code == 201

    page = api.get(URL, data={"limit": 2})
    assert page.status_code == 200, page.content
    first = page.json()
    assert [r["id_number"] for r in first["relationships"]] == [
        world.person.id_number,
        world.neighbour.id_number,
    ]
    assert first["next"] is not None
    rest = api.get(URL, data={"limit": 2, "after": first["next"]}).json()
    assert [r["id_number"] for r in rest["relationships"]] == [world.far_person.id_number]
    assert rest["next"] is None

    ended = api.delete(f"{URL}/{world.neighbour.id_number}")
    assert ended.status_code == 204
    assert api.delete(f"{URL}/{world.neighbour.id_number}").json()["code"] == (
        "relationship_not_found"
    )
    listed = api.get(URL).json()["relationships"]
    assert world.neighbour.id_number not in [r["id_number"] for r in listed]

    # Ended relationships stay as history; recording again opens a new one.
    assert api.post(URL, {"id_number": world.neighbour.id_number}).status_code == 201
    rows = Relationship.objects.filter(member=api.member, person=world.neighbour)
    assert rows.count() == 2
    assert rows.filter(ended_at__isnull=True).count() == 1


def test_members_see_only_their_relationships(world: World, member_api: MemberApi) -> None:
    bank = member_api("bank1", grants=[EVENTS])
    other = member_api("bank2", grants=[EVENTS])
    bank.post(URL, {"id_number": world.person.id_number})
    assert other.get(URL).json()["relationships"] == []
    response = other.delete(f"{URL}/{world.person.id_number}")
    assert response.status_code == 404
    assert Relationship.objects.get(member=bank.member).ended_at is None


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}, {"after": 2**64}]
)
def test_bad_paging_is_422(world: World, member_api: MemberApi, params: dict[str, object]) -> None:
    api = member_api("bank1", grants=[EVENTS])
    response = api.get(URL, data=params)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"

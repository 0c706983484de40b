"""Change notifications: the pull feed and signed webhooks to a real local receiver."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, Channel, Outcome
from congdan.core.errors import PermissionDenied, ValidationFailed
from congdan.core.permissions import Role
from congdan.exchange import notifications, policy
from congdan.exchange.models import (
    Consent,
    DataService,
    Delivery,
    DeliveryStatus,
    Member,
    Relationship,
    ServicePurpose,
    WebhookEndpoint,
)
from congdan.registry import services as registry
from congdan.registry.models import CivilEvent, CivilEventKind
from tests import factories
from tests.conftest import World
from tests.exchange.conftest import Api, MemberApi, grant
from tests.exchange.helpers_b import age_everything, event, receiver

FEED = "/api/v1/exchange/events"
RELATIONSHIPS = "/api/v1/exchange/relationships"
ALL_KINDS = ["death", "residence_change", "name_change"]

pytestmark = pytest.mark.django_db


def _member(member_api: MemberApi, code: str = "bank1", kinds: list[str] | None = None) -> Api:
    return member_api(code, grants=[("person-events", "public_service", kinds or ALL_KINDS)])


def _relate(api: Api, *persons: Any) -> None:
    for person in persons:
        response = api.post(RELATIONSHIPS, {"id_number": person.id_number})
        assert response.status_code == 201, response.content
    age_everything(120)  # the relationships exist before the events made next


def _feed(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get(FEED, data=params)
    assert response.status_code == 200, response.content
    return response.json()


# --- pull feed -----------------------------------------------------------------------------


def test_feed_has_only_related_persons_and_granted_kinds(
    world: World, member_api: MemberApi
) -> None:
    api = _member(member_api, kinds=["death", "name_change"])
    _relate(api, world.person)
    name = event(world.person, CivilEventKind.NAME_CHANGE)
    event(world.person, CivilEventKind.TEMPORARY_RESIDENCE)  # kind not granted
    event(world.person, CivilEventKind.CARD_ISSUE)  # never published
    event(world.neighbour, CivilEventKind.DEATH)  # no relationship
    death = event(world.person, CivilEventKind.DEATH)

    page = _feed(api)
    assert [e["id"] for e in page["events"]] == [name.pk, death.pk]
    assert page["next"] == death.pk
    first = page["events"][0]
    assert first == {
        "id": name.pk,
        "kind": "name_change",
        "id_number": world.person.id_number,
        "event_date": name.event_date.isoformat(),
        "recorded_at": first["recorded_at"],
    }
    recorded = dt.datetime.fromisoformat(first["recorded_at"].replace("Z", "+00:00"))
    assert abs(recorded - name.recorded_at) < dt.timedelta(seconds=1)


def test_residence_kinds_map_to_residence_change(world: World, member_api: MemberApi) -> None:
    api = _member(member_api, kinds=["residence_change"])
    _relate(api, world.person)
    moved = event(world.person, CivilEventKind.RESIDENCE_CHANGE)
    temporary = event(world.person, CivilEventKind.TEMPORARY_RESIDENCE)
    event(world.person, CivilEventKind.DEATH)
    events = _feed(api)["events"]
    assert [(e["id"], e["kind"]) for e in events] == [
        (moved.pk, "residence_change"),
        (temporary.pk, "residence_change"),
    ]


def test_feed_cursor_pages(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    _relate(api, world.person, world.neighbour)
    made = [
        event(world.person, CivilEventKind.NAME_CHANGE),
        event(world.neighbour, CivilEventKind.RESIDENCE_CHANGE),
        event(world.person, CivilEventKind.DEATH),
    ]
    first = _feed(api, limit=2)
    assert [e["id"] for e in first["events"]] == [made[0].pk, made[1].pk]
    second = _feed(api, limit=2, after=first["next"])
    assert [e["id"] for e in second["events"]] == [made[2].pk]
    last = _feed(api, limit=2, after=second["next"])
    assert last == {"events": [], "next": second["next"]}
    # A new event after the cursor shows on the next read.
    later = event(world.neighbour, CivilEventKind.DEATH)
    assert [e["id"] for e in _feed(api, after=second["next"])["events"]] == [later.pk]


def test_feed_lag_holds_recent_events(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    _relate(api, world.person, world.neighbour)
    old = event(world.person, CivilEventKind.NAME_CHANGE, ago=60)
    young = event(world.person, CivilEventKind.RESIDENCE_CHANGE, ago=1)
    # Recorded long ago but with a later id: still waits behind the young one, so a
    # cursor never jumps over an event that may belong to a late commit.
    after_young = event(world.neighbour, CivilEventKind.DEATH, ago=60)
    page = _feed(api)
    assert [e["id"] for e in page["events"]] == [old.pk]
    assert page["next"] == old.pk

    auth = policy.authorize(api_caller(api), service="person-events", purpose="public_service")
    later = notifications.feed(auth, after=old.pk, now=timezone.now() + notifications.FEED_LAG)
    assert [e["id"] for e in later["events"]] == [young.pk, after_young.pk]


def api_caller(api: Api) -> policy.Caller:
    return policy.Caller(member=api.member, subsystem=api.subsystem)


def test_relationship_recorded_after_the_event_gets_nothing(
    world: World, member_api: MemberApi
) -> None:
    api = _member(member_api)
    event(world.person, CivilEventKind.DEATH, ago=600)
    _relate(api, world.person)  # created 120 s ago: after the event
    assert _feed(api)["events"] == []


def test_ended_relationship_stops_the_feed(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    _relate(api, world.person)
    event(world.person, CivilEventKind.NAME_CHANGE)
    assert api.delete(f"{RELATIONSHIPS}/{world.person.id_number}").status_code == 204
    assert _feed(api)["events"] == []


def test_feed_is_logged_per_person_and_kind(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    _relate(api, world.person, world.neighbour)
    before = set(AccessLogEntry.objects.values_list("pk", flat=True))
    event(world.person, CivilEventKind.DEATH)
    event(world.neighbour, CivilEventKind.NAME_CHANGE)
    _feed(api)
    new = AccessLogEntry.objects.exclude(pk__in=before)
    assert {(e.person_id, e.fields) for e in new} == {
        (world.person.pk, "death"),
        (world.neighbour.pk, "name_change"),
    }
    for entry in new:
        assert entry.channel == Channel.EXCHANGE
        assert entry.view == "person-events"
        assert entry.purpose == "public_service"
        assert entry.outcome == Outcome.OK
        assert entry.subsystem == api.subsystem.identifier
    # An empty page logs nothing.
    count = AccessLogEntry.objects.count()
    _feed(api, after=2**63 - 1)
    assert AccessLogEntry.objects.count() == count


def test_feed_for_a_consent_purpose_needs_consent(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[("person-events", "customer_update", ALL_KINDS)])
    _relate(api, world.person, world.neighbour)
    consented = event(world.person, CivilEventKind.NAME_CHANGE)
    event(world.neighbour, CivilEventKind.NAME_CHANGE)
    service = DataService.objects.get(code="person-events")
    Consent.objects.create(
        person=world.person,
        member=api.member,
        service=service,
        purpose=ServicePurpose.objects.get(service=service, code="customer_update"),
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    page = _feed(api)
    assert [e["id"] for e in page["events"]] == [consented.pk]
    assert page["next"] > consented.pk  # the other event is passed over, not retried


def test_feed_refusals(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[("verify-identity", "public_service", ["full_name"])])
    refused = api.get(FEED)
    assert refused.status_code == 403
    assert refused.json()["code"] == "no_grant"
    events = _member(member_api, "bank2")
    assert events.get(FEED, purpose="").json()["code"] == "purpose_required"
    for params in ({"limit": 0}, {"limit": 1001}, {"after": -5}, {"after": 2**70}):
        response = events.get(FEED, data=params)
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"


def test_events_written_by_registry_services_reach_the_feed(
    world: World, member_api: MemberApi
) -> None:
    api = _member(member_api)
    _relate(api, world.person)
    steward = factories.make_user(Role.STEWARD)
    registry.correct_person(
        steward,
        person_id=world.person.pk,
        changes={"full_name": "Nguyễn Văn Ân"},
        reason="Sai chính tả",
        legal_basis="Luật Hộ tịch 2014",
    )
    registry.record_death(
        world.commune_officer,
        person_id=world.person.pk,
        death_date=timezone.localdate(),
        document_ref="TLKT-1",
    )
    assert _feed(api)["events"] == []  # within the feed lag
    age_events_only(30)
    kinds = [e["kind"] for e in _feed(api)["events"]]
    assert kinds == ["name_change", "death"]


def age_events_only(seconds: float) -> None:
    from django.db.models import F

    CivilEvent.objects.update(recorded_at=F("recorded_at") - dt.timedelta(seconds=seconds))


# --- webhooks ------------------------------------------------------------------------------


def _endpoint(api: Api, url: str) -> tuple[WebhookEndpoint, str]:
    new = notifications.create_endpoint(None, member=api.member, url=url)
    return new.endpoint, new.secret


def test_webhook_delivers_signed_events(world: World, member_api: MemberApi) -> None:
    api = _member(member_api, kinds=["death"])
    with receiver() as hook:
        endpoint, secret = _endpoint(api, hook.url)
        _relate(api, world.person, world.neighbour)
        death = event(world.person, CivilEventKind.DEATH)
        event(world.person, CivilEventKind.NAME_CHANGE)  # not granted
        event(world.far_person, CivilEventKind.DEATH)  # not related

        assert notifications.dispatch_events() == 1
        assert notifications.dispatch_events() == 0  # the cursor moved on
        endpoint.refresh_from_db()
        assert endpoint.cursor == death.pk
        before = set(AccessLogEntry.objects.values_list("pk", flat=True))

        assert notifications.deliver_due() == 1
        assert len(hook.received) == 1
        got = hook.received[0]
        assert got.path == "/hooks/congdan"
        assert got.headers["X-Congdan-Event-Id"] == str(death.pk)
        assert got.headers["Content-Type"] == "application/json"
        signature = got.headers["X-Congdan-Signature"]
        assert notifications.verify_signature(secret, got.body, signature)
        assert not notifications.verify_signature("wrong-secret", got.body, signature)
        assert not notifications.verify_signature(secret, got.body + b" ", signature)
        assert json.loads(got.body) == {
            "id": death.pk,
            "kind": "death",
            "id_number": world.person.id_number,
            "event_date": death.event_date.isoformat(),
            "recorded_at": json.loads(got.body)["recorded_at"],
        }

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    logged = AccessLogEntry.objects.exclude(pk__in=before).get()
    assert logged.person_id == world.person.pk
    assert logged.fields == "death"
    assert logged.view == "person-events"
    assert logged.purpose == "public_service"
    assert logged.channel == Channel.EXCHANGE
    assert logged.organisation == api.member.code
    assert notifications.deliver_due() == 0


def test_signature_is_hmac_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    header = notifications.sign("k" * 64, b'{"id":1}', 1_700_000_000)
    expected = hmac.new(b"k" * 64, b'1700000000.{"id":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert notifications.verify_signature("k" * 64, b'{"id":1}', header, now=1_700_000_100)
    # Too old: a replay.
    assert not notifications.verify_signature("k" * 64, b'{"id":1}', header, now=1_700_001_000)
    assert not notifications.verify_signature("k" * 64, b'{"id":1}', "garbage")


def test_failed_delivery_is_retried_with_backoff(
    world: World, member_api: MemberApi, settings: Any
) -> None:
    settings.EXCHANGE_WEBHOOK_BACKOFF_SECONDS = 30
    api = _member(member_api)
    with receiver() as hook:
        hook.answers = [500]
        _endpoint(api, hook.url)
        _relate(api, world.person)
        event(world.person, CivilEventKind.DEATH)
        notifications.dispatch_events()
        now = timezone.now()
        assert notifications.deliver_due(now) == 1
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 1
        assert delivery.last_status_code == 500
        wait = (delivery.next_attempt_at - now).total_seconds()
        assert 30 <= wait <= 36  # 30 s, plus up to 20% jitter

        assert notifications.deliver_due(now + dt.timedelta(seconds=29)) == 0  # not due
        assert notifications.deliver_due(delivery.next_attempt_at) == 1
        assert len(hook.received) == 2
        first, second = hook.received
        assert first.body == second.body
        assert first.headers["X-Congdan-Event-Id"] == second.headers["X-Congdan-Event-Id"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_error == ""


def test_backoff_doubles() -> None:
    for attempts, base in ((1, 30), (2, 60), (3, 120), (5, 480)):
        seconds = notifications.backoff(attempts).total_seconds()
        assert base <= seconds <= base * 1.2


def test_delivery_gives_up_after_max_attempts(
    world: World, member_api: MemberApi, settings: Any
) -> None:
    settings.EXCHANGE_WEBHOOK_ATTEMPTS = 3
    api = _member(member_api)
    with receiver() as hook:
        hook.answers = [500, 503, 502, 500]
        _endpoint(api, hook.url)
        _relate(api, world.person)
        event(world.person, CivilEventKind.DEATH)
        notifications.dispatch_events()
        later = timezone.now()
        for _attempt in range(5):
            later += dt.timedelta(days=1)
            notifications.deliver_due(later)
        assert len(hook.received) == 3
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.last_status_code == 502
    assert delivery.delivered_at is None
    assert not AccessLogEntry.objects.filter(fields="death").exists()


def test_redirect_is_not_followed(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    with receiver() as hook:
        hook.answers = [302]
        hook.redirect_to = hook.url + "/elsewhere"
        _endpoint(api, hook.url)
        _relate(api, world.person)
        event(world.person, CivilEventKind.DEATH)
        notifications.dispatch_events()
        notifications.deliver_due()
        assert [r.path for r in hook.received] == ["/hooks/congdan"]
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 302


def test_unreachable_receiver_is_retried(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    with receiver() as hook:
        url = hook.url
    _endpoint(api, url)  # the server is gone: connection refused
    _relate(api, world.person)
    event(world.person, CivilEventKind.DEATH)
    notifications.dispatch_events()
    assert notifications.deliver_due() == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("URLError")


def test_lost_entitlement_is_not_sent(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    with receiver() as hook:
        _endpoint(api, hook.url)
        _relate(api, world.person, world.neighbour)
        event(world.person, CivilEventKind.DEATH)
        event(world.neighbour, CivilEventKind.DEATH)
        assert notifications.dispatch_events() == 2
        api.delete(f"{RELATIONSHIPS}/{world.neighbour.id_number}")
        notifications.deliver_due()
        assert [json.loads(r.body)["id_number"] for r in hook.received] == [world.person.id_number]
    lost = Delivery.objects.get(payload__id_number=world.neighbour.id_number)
    assert lost.status == DeliveryStatus.FAILED
    assert lost.last_error == "not_entitled"


def test_dispatch_needs_a_grant_and_an_active_endpoint(world: World, member_api: MemberApi) -> None:
    api = member_api("bank1", grants=[("verify-identity", "public_service", ["full_name"])])
    endpoint, _secret = _endpoint(api, "http://127.0.0.1:9/hook")
    Relationship.objects.create(
        member=api.member, person=world.person, created_at=timezone.now() - dt.timedelta(hours=1)
    )
    event(world.person, CivilEventKind.DEATH)
    assert notifications.dispatch_events() == 0  # no person-events grant
    grant(api.member, "person-events", "public_service", ["death"])
    notifications.set_endpoint_active(None, endpoint=endpoint, active=False)
    assert notifications.dispatch_events() == 0
    notifications.set_endpoint_active(None, endpoint=endpoint, active=True)
    assert notifications.dispatch_events() == 1


def test_new_endpoint_starts_after_existing_events(world: World, member_api: MemberApi) -> None:
    api = _member(member_api)
    _relate(api, world.person)
    event(world.person, CivilEventKind.NAME_CHANGE)
    endpoint, _secret = _endpoint(api, "https://bank.example/hooks")
    assert notifications.dispatch_events() == 0
    newer = event(world.person, CivilEventKind.DEATH)
    assert notifications.dispatch_events() == 1
    assert Delivery.objects.get().event_id == newer.pk
    assert Delivery.objects.get().endpoint == endpoint


@pytest.mark.parametrize(
    "url",
    [
        "ftp://bank.example/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "bank.example/hook",
        "https://bank.example/" + "x" * 500,
        "https://bank.example:99999/hook",
        "https://bank .example/hook",
    ],
)
def test_endpoint_url_must_be_http(world: World, url: str) -> None:
    member = Member.objects.create(code="bank9", name="Bank", kind="bank")
    with pytest.raises(ValidationFailed) as exc:
        notifications.create_endpoint(None, member=member, url=url)
    assert exc.value.code == "invalid_webhook_url"
    assert not WebhookEndpoint.objects.exists()


def test_endpoint_management_needs_permission(world: World) -> None:
    member = Member.objects.create(code="bank9", name="Bank", kind="bank")
    with pytest.raises(PermissionDenied):
        notifications.create_endpoint(
            world.commune_officer, member=member, url="https://bank.example/hook"
        )
    dpo = factories.make_user(Role.DPO)
    new = notifications.create_endpoint(dpo, member=member, url="https://bank.example/hook")
    assert len(new.secret) == 64
    assert WebhookEndpoint.objects.get().secret == new.secret
    rotated = notifications.rotate_secret(dpo, endpoint=new.endpoint)
    assert rotated != new.secret
    assert WebhookEndpoint.objects.get().secret == rotated


def test_private_addresses_are_refused_unless_allowed(settings: Any) -> None:
    """A webhook must not reach the internal network: loopback, private and link-local
    addresses are refused in production (allowed in debug and demo for local receivers)."""
    with receiver() as hook:
        settings.EXCHANGE_WEBHOOK_ALLOW_PRIVATE = False
        for url in (hook.url, "http://10.0.0.1/hook", "http://169.254.169.254/latest"):
            assert notifications.post(url, b"{}", {}) == (None, "refused_private_address")
        assert not hook.received
        settings.EXCHANGE_WEBHOOK_ALLOW_PRIVATE = True
        status, error = notifications.post(hook.url, b"{}", {})
        assert (status, error) == (200, "")

"""`congdan worker --once` runs every poller against the real database, and
`congdan exchange_webhook` makes an endpoint and prints its secret once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test.client import MULTIPART_CONTENT

from congdan.core.management.commands import worker
from congdan.exchange.models import JobStatus, WebhookEndpoint
from congdan.exchange.services import members
from tests.conftest import World
from tests.exchange.conftest import MemberApi


def test_every_poller_imports_and_runs(db: None) -> None:
    pollers = worker.load_pollers()
    assert {path for path, _poller, _every in pollers} == {path for path, _ in worker.POLLERS}
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "item(s) handled" in out.getvalue()


def test_worker_once_runs_a_queued_batch(member_api: MemberApi, world: World) -> None:
    api = member_api("bankw", grants=[("verify-identity", "kyc_account_opening", ["full_name"])])
    body = f"id_number,full_name\n{world.person.id_number},Nguyễn Văn An\n".encode()
    response = api.post(
        "/api/v1/exchange/batch",
        {"file": io.BytesIO(body), "purpose": "kyc_account_opening"},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 202, response.content
    call_command("worker", "--once", stdout=io.StringIO())
    status = api.get(response.json()["status_url"].split("testserver")[-1]).json()
    assert status["status"] == JobStatus.DONE
    assert status["matched"] == 1


def test_a_failing_poller_does_not_stop_the_others(db: None) -> None:
    calls: list[str] = []

    def broken() -> int:
        calls.append("broken")
        raise RuntimeError("boom")

    def fine() -> int:
        calls.append("fine")
        return 2

    handled = worker.run_round([("a", broken, 0.0), ("b", fine, 0.0)], {})
    assert handled == 2
    assert calls == ["broken", "fine"]


def test_exchange_webhook_command(catalogue: None) -> None:
    member = members.register_member(None, code="hook1", name="H", kind="bank")
    out = io.StringIO()
    call_command("exchange_webhook", "hook1", "https://bank.example.test/hook", stdout=out)
    endpoint = WebhookEndpoint.objects.get(member=member)
    assert endpoint.secret in out.getvalue()
    with pytest.raises(CommandError):
        call_command("exchange_webhook", "nobody", "https://x.example.test/", stdout=out)
    with pytest.raises(CommandError):
        call_command("exchange_webhook", "hook1", "ftp://x.example.test/", stdout=out)

"""Fixtures of the payments tests: a citizen who pays, and helpers around the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

from congdan.core.models import User
from congdan.payments import services
from congdan.payments.gateways import sandbox
from congdan.payments.models import Payment
from tests.conftest import World
from tests.identity.helpers import make_account

OK_CARD = sandbox.TEST_CARDS[0].number
DECLINED_CARD = sandbox.TEST_CARDS[1].number
RETURN_PATH = "/me/"


@pytest.fixture(autouse=True)
def _no_sandbox_ipn(settings: Any) -> None:
    """The browser return is tested on its own; IPN tests turn the notification on."""
    settings.CONGDAN_PAYMENT_SANDBOX_IPN = False


@pytest.fixture
def payer(world: World) -> User:
    return make_account(world.person).user


@pytest.fixture
def other_payer(world: World) -> User:
    return make_account(world.neighbour, phone="0987654321").user


@pytest.fixture
def payer_client(payer: User) -> Client:
    client = Client()
    client.force_login(payer)
    return client


@pytest.fixture
def start(world: World, payer: User) -> Callable[..., Payment]:
    def _start(**overrides: Any) -> Payment:
        actor = overrides.pop("actor", payer)
        values: dict[str, Any] = {
            "purpose": "dossier",
            "purpose_ref": "HS-2026-000001",
            "payer_person": world.person,
            "amount": 1_000_000,
            "description": "Lệ phí cấp bản sao trích lục khai sinh",
            "return_path": RETURN_PATH,
        }
        values.update(overrides)
        return services.start_payment(actor, **values)

    return _start


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def bank_result(
    client: Client, payment: Payment, *, action: str = "pay", card: str = OK_CARD
) -> str:
    """Act on the sandbox bank page; the URL the bank sends the browser back to."""
    response = client.post(payment.gateway_url, {"action": action, "card": card})
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


@pytest.fixture
def receivers() -> Iterator[Callable[[Any, Callable[..., None]], None]]:
    """Connect signal receivers for one test; disconnected afterwards."""
    connected: list[tuple[Any, Callable[..., None]]] = []

    def connect(signal: Any, receiver: Callable[..., None]) -> None:
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)

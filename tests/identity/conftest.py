from __future__ import annotations

import pytest

from congdan.identity.models import EidAccount
from tests.conftest import World
from tests.identity.helpers import make_account


@pytest.fixture
def citizen(world: World) -> EidAccount:
    """An active level-1 account of ``world.person`` (lives in ``world.commune``)."""
    return make_account(world.person)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """The per-IP login counter lives in the cache: start every test from zero."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def sms_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send the account services' SMS at once instead of on commit: the test database
    transaction never commits. (test_accounts checks the on-commit path itself.)"""
    from congdan.core.notify import send_sms
    from congdan.identity.services import accounts

    monkeypatch.setattr(accounts, "_sms_on_commit", send_sms)

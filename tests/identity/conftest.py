from __future__ import annotations

import pytest

from congdan.identity.models import EidAccount
from tests.conftest import World
from tests.identity.helpers import make_account


@pytest.fixture
def citizen(world: World) -> EidAccount:
    """An active level-1 account of ``world.person`` (lives in ``world.commune``)."""
    return make_account(world.person)

"""The agency of a member system: required (and active) for the ``wallet:issue`` scope."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from congdan.audit.models import ChangeRecord
from congdan.core.errors import ValidationFailed
from congdan.identity.models import ClientPolicy
from congdan.identity.services import clients
from tests import factories
from tests.conftest import World


def _system(**kwargs: object) -> clients.RegisteredClient:
    return clients.create_client(
        None,
        name="Hệ thống",
        client_credentials=True,
        organisation="Cơ quan",
        **kwargs,  # type: ignore[arg-type]  # test helper passes through
    )


def test_wallet_issue_requires_an_agency(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _system(scopes=["wallet:issue"])
    assert caught.value.code == "agency_required"
    assert caught.value.field == "agency"


def test_wallet_issue_refuses_an_inactive_agency(world: World) -> None:
    agency = factories.make_agency(None)
    agency.active = False
    agency.save()
    with pytest.raises(ValidationFailed) as caught:
        _system(scopes=["wallet:issue"], agency=agency)
    assert caught.value.code == "agency_required"


def test_agency_is_kept_and_recorded(world: World) -> None:
    agency = factories.make_agency(None)
    registered = _system(scopes=["wallet:issue", "wallet:read"], agency=agency)
    assert ClientPolicy.objects.get(application=registered.application).agency == agency
    record = ChangeRecord.objects.get(action="oidc_client_create")
    assert record.changes["agency"] == [None, agency.code]


def test_other_scopes_need_no_agency(world: World) -> None:
    assert _system(scopes=["wallet:read"]).policy.agency is None


def test_command_agency_option(world: World) -> None:
    agency = factories.make_agency(None)
    out = StringIO()
    call_command(
        "oidc_client",
        "create",
        "--name",
        "Cấp giấy tờ",
        "--client-credentials",
        "--scopes",
        "wallet:issue",
        "--agency",
        agency.code,
        "--client-id",
        "issuer-x",
        stdout=out,
    )
    assert "client_id: issuer-x" in out.getvalue()
    assert ClientPolicy.objects.get(application__client_id="issuer-x").agency == agency
    with pytest.raises(CommandError, match="unknown agency"):
        call_command(
            "oidc_client",
            "create",
            "--name",
            "Y",
            "--client-credentials",
            "--scopes",
            "wallet:issue",
            "--agency",
            "NOPE",
        )
    with pytest.raises(CommandError):  # wallet:issue without --agency
        call_command(
            "oidc_client",
            "create",
            "--name",
            "Z",
            "--client-credentials",
            "--scopes",
            "wallet:issue",
        )

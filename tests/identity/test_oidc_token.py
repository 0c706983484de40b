"""The token endpoint's client lookup (client and policy in one query) and its refusals."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from congdan.identity.services import clients

SECRET = "member-system-secret-for-tests-0123456789"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def member_system(db: None) -> str:
    registered = clients.create_client(
        None,
        name="Hệ thống thành viên",
        client_id="member-system",
        client_secret=SECRET,
        client_credentials=True,
        scopes=["registry:read"],
        organisation="BHXH",
    )
    return str(registered.application.client_id)


def _token(client: Client, auth: str, scope: str = "registry:read") -> object:
    return client.post(
        "/o/token/",
        f"grant_type=client_credentials&scope={scope}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=auth,
    )


def test_client_credentials_token_in_four_statements(client: Client, member_system: str) -> None:
    _token(client, _basic(member_system, SECRET))  # warm the per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = _token(client, _basic(member_system, SECRET))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "registry:read"
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The client with its policy, then the token insert (savepoint or transaction around it).
    assert statements.count("SELECT") == 1, statements
    assert statements.count("INSERT") == 1, statements


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("member-system", "wrong"), ("nobody", SECRET), ("member\x00system", SECRET)],
)
def test_bad_client_gets_invalid_client_not_500(
    client: Client, member_system: str, client_id: str, secret: str
) -> None:
    response = _token(client, _basic(client_id, secret))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_scope_outside_the_policy_is_refused(client: Client, member_system: str) -> None:
    response = _token(client, _basic(member_system, SECRET), scope="profile")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"

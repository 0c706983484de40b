"""Fixtures of the exchange tests: the catalogue, member systems with real
client-credentials tokens from our /o/token/, grants.

``member_api(code, grants=[(service, purpose, fields), ...])`` makes a member with one
subsystem ``main`` and those grants, fetches a token and returns an ``Api`` that calls
the API with ``Authorization: Bearer`` and, by default, the purpose of the first grant.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from congdan.exchange import policy, ratelimit
from congdan.exchange.catalogue import ensure_catalogue
from congdan.exchange.models import DataService, Member, MemberKind, ServicePurpose, Subsystem
from congdan.exchange.services import grants as grant_services
from congdan.exchange.services import members

SECRET = "exchange-member-secret-for-tests-0123456789"
GrantSpec = tuple[str, str, Sequence[str]]


@pytest.fixture(autouse=True)
def _fresh_policy_caches() -> None:
    policy.clear_caches()
    ratelimit.reset_local()


@pytest.fixture
def catalogue(db: None) -> None:
    """The catalogue rows (a transactional test's flush removes the migration's)."""
    ensure_catalogue()


def token_for(http: Client, client_id: str, secret: str = SECRET) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = http.post(
        "/o/token/",
        "grant_type=client_credentials&scope=exchange:query",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def grant(member: Member, service: str, purpose: str, fields: Sequence[str], **extra: Any) -> Any:
    data_service = DataService.objects.get(code=service)
    return grant_services.grant_access(
        None,
        member=member,
        service=data_service,
        purpose=ServicePurpose.objects.get(service=data_service, code=purpose),
        fields=fields,
        **extra,
    )


@dataclass
class Api:
    http: Client
    token: str
    member: Member
    subsystem: Subsystem
    purpose: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, purpose: str | None) -> dict[str, Any]:
        chosen = self.purpose if purpose is None else purpose
        out: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **self.headers}
        if chosen:
            out["HTTP_X_PURPOSE"] = chosen
        return out

    def get(self, url: str, *, purpose: str | None = None, **extra: Any) -> Any:
        return self.http.get(url, **self._headers(purpose), **extra)

    def post(self, url: str, body: Any = None, *, purpose: str | None = None, **extra: Any) -> Any:
        if "content_type" not in extra and not isinstance(body, dict | list | None):
            return self.http.post(url, body, **self._headers(purpose), **extra)
        if "content_type" in extra:
            return self.http.post(url, body, **self._headers(purpose), **extra)
        return self.http.post(
            url, body or {}, content_type="application/json", **self._headers(purpose), **extra
        )

    def delete(self, url: str, *, purpose: str | None = None) -> Any:
        return self.http.delete(url, **self._headers(purpose))


MemberApi = Callable[..., Api]


@pytest.fixture
def member_api(catalogue: None, client: Client) -> MemberApi:
    def make(
        code: str = "bank1",
        grants: Sequence[GrantSpec] = (),
        kind: str = MemberKind.BANK,
        member_class: str = "COM",
    ) -> Api:
        member = members.register_member(
            None, code=code, name=f"Tổ chức {code}", kind=kind, member_class=member_class
        )
        new = members.add_subsystem(
            None, member=member, code="main", name="Hệ thống chính", client_secret=SECRET
        )
        for service, purpose, fields in grants:
            grant(member, service, purpose, fields)
        return Api(
            http=Client(),
            token=token_for(client, new.client_id),
            member=member,
            subsystem=new.subsystem,
            purpose=grants[0][1] if grants else "",
        )

    return make

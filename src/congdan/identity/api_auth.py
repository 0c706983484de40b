"""Client-credentials authentication for the organisations' API (issuers and requesters).

A member organisation's system gets an access token from ``/o/token/`` with its client id
and secret (grant ``client_credentials``) and sends ``Authorization: Bearer <token>``.
The token is looked up by its SHA-256 checksum (django-oauth-toolkit stores it in
``token_checksum``); it must be unexpired, issued to a client-credentials application
with a ``ClientPolicy``, and carry the scope the endpoint asks for. The header is never
logged (DESIGN rule 8).

``request.auth`` is then a ``ClientActor``: the application, its policy (organisation,
agency) and the token's scopes (those still allowed by the policy).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer
from oauth2_provider.models import AbstractApplication, get_access_token_model

from congdan.core.errors import PermissionDenied
from congdan.identity.models import ClientPolicy
from congdan.identity.oidc import SYSTEM_SCOPES

if TYPE_CHECKING:
    from oauth2_provider.models import Application

# DOT tokens are 30 characters; anything far longer is not one of ours.
MAX_TOKEN_LENGTH = 255


@dataclass(frozen=True)
class ClientActor:
    """A member organisation's system acting through a client-credentials token."""

    application: Application
    policy: ClientPolicy
    scopes: frozenset[str]
    expires: dt.datetime | None = None  # the access token's expiry

    @property
    def client_id(self) -> str:
        return str(self.application.client_id)

    @property
    def label(self) -> str:
        """How it appears in histories and the access log: ``client:<client_id>``."""
        return f"client:{self.client_id}"

    @property
    def organisation(self) -> str:
        return self.policy.organisation or str(self.application.name)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def require_scope(client: ClientActor, scope: str) -> None:
    """PermissionDenied ``insufficient_scope`` unless the token carries ``scope``."""
    if not client.has_scope(scope):
        raise PermissionDenied(
            _("Mã truy cập không có phạm vi %(scope)s cần cho thao tác này.") % {"scope": scope},
            code="insufficient_scope",
        )


def client_for_token(token: str) -> ClientActor | None:
    """The client of a usable client-credentials access token, or None."""
    if not (0 < len(token) <= MAX_TOKEN_LENGTH and token.isascii() and token.isprintable()):
        return None
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    access = (
        get_access_token_model()
        .objects.select_related("application", "application__policy__agency")
        .filter(token_checksum=checksum, user__isnull=True)
        .first()
    )
    if access is None or access.application is None or access.expires <= timezone.now():
        return None
    application = access.application
    if application.authorization_grant_type != AbstractApplication.GRANT_CLIENT_CREDENTIALS:
        return None
    try:
        policy = application.policy
    except ClientPolicy.DoesNotExist:
        return None
    # Only what the policy still allows: narrowing a policy takes effect at once.
    scopes = frozenset(access.scope.split()) & frozenset(policy.allowed_scopes) & set(SYSTEM_SCOPES)
    return ClientActor(
        application=application, policy=policy, scopes=scopes, expires=access.expires
    )


class ClientCredentialsAuth(HttpBearer):
    """``Authorization: Bearer <access token>`` of a client-credentials client holding
    ``scope`` → ``request.auth`` is its ``ClientActor``. Missing or bad token: 401; a
    good token without the scope: 403 ``insufficient_scope``."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ClientActor | None:
        # Parsed here rather than by HttpBearer.__call__, which logs the whole header
        # (the credential) when the scheme is not "Bearer" and DEBUG is on.
        scheme, _sep, token = request.headers.get(self.header, "").strip().partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ClientActor | None:
        client = client_for_token(token)
        if client is None:
            return None
        require_scope(client, self.scope)
        return client


__all__ = ["ClientActor", "ClientCredentialsAuth", "client_for_token", "require_scope"]

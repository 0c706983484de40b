"""Reusable access tests for web views (in the spirit of NetBox's ``ViewTestCases``).

Subclass the composite ``ViewAccessTests`` (or pick the mixins you need) in a class named
``Test...``, describe the request, and pytest collects the four checks DESIGN rule 10 asks
for every view:

- anonymous → redirect to the login page (and nothing written);
- a user without the permission (``world.nobody``) → 403 (and nothing written);
- an officer outside the jurisdiction (``world.other_commune_officer`` for a person of
  ``world.commune``) → 404 (and nothing written);
- an allowed user → ``allowed_status`` (200 for pages; 302 for a valid POST).

Example::

    class TestPersonPageAccess(ViewAccessTests):
        def url(self, world):
            return reverse("registry:person", args=[world.person.id_number])

For a POST, set ``method = "post"`` and define ``data(self, world)``. A view whose
out-of-jurisdiction answer is not a 404 (a search just leaves the person out) overrides
``check_outside``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import resolve_url

from congdan.audit.models import ChangeRecord
from congdan.registry.models import CivilEvent, Residence

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

    from congdan.core.models import User
    from tests.conftest import World


def write_counts() -> tuple[int, int, int]:
    """Rows that any registry change writes: a denied request must leave them alone."""
    return (ChangeRecord.objects.count(), CivilEvent.objects.count(), Residence.objects.count())


def assert_redirects_to_login(response: HttpResponse) -> None:
    assert response.status_code == 302, response.status_code
    login_path = resolve_url(settings.LOGIN_URL)
    assert urlsplit(response["Location"]).path == login_path, response["Location"]


class _AccessBase:
    method: ClassVar[str] = "get"
    allowed_user: ClassVar[str | None] = "commune_officer"  # None: anonymous
    denied_user: ClassVar[str] = "nobody"
    outside_user: ClassVar[str] = "other_commune_officer"
    allowed_status: ClassVar[int] = 200
    outside_status: ClassVar[int] = 404

    def url(self, world: World) -> str:
        raise NotImplementedError

    def data(self, world: World) -> dict[str, Any]:
        return {}

    def request(self, client: Client, world: World, user: User | None) -> HttpResponse:
        if user is not None:
            client.force_login(user)
        if self.method == "post":
            return client.post(self.url(world), self.data(world))
        return client.get(self.url(world))

    def user(self, world: World, name: str | None) -> User | None:
        return getattr(world, name) if name else None


class AnonymousRedirectsToLogin(_AccessBase):
    def test_anonymous_redirects_to_login(self, client: Client, world: World) -> None:
        before = write_counts()
        response = self.request(client, world, None)
        assert_redirects_to_login(response)
        assert write_counts() == before


class RequiresPermission(_AccessBase):
    def test_without_permission_is_403(self, client: Client, world: World) -> None:
        before = write_counts()
        response = self.request(client, world, self.user(world, self.denied_user))
        assert response.status_code == 403, response.status_code
        assert write_counts() == before


class ScopedByJurisdiction(_AccessBase):
    def check_outside(self, response: HttpResponse, world: World) -> None:
        assert response.status_code == self.outside_status, response.status_code

    def test_outside_jurisdiction(self, client: Client, world: World) -> None:
        before = write_counts()
        response = self.request(client, world, self.user(world, self.outside_user))
        self.check_outside(response, world)
        assert write_counts() == before


class AllowedUser(_AccessBase):
    def check_allowed(self, response: HttpResponse, world: World) -> None:
        assert response.status_code == self.allowed_status, response.status_code

    def test_allowed(self, client: Client, world: World) -> None:
        response = self.request(client, world, self.user(world, self.allowed_user))
        self.check_allowed(response, world)


class ViewAccessTests(
    AnonymousRedirectsToLogin, RequiresPermission, ScopedByJurisdiction, AllowedUser
):
    """All four checks: login, permission, jurisdiction, allowed."""

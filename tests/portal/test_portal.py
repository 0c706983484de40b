"""The site shell: home redirect, login/logout, navigation, language switch, error pages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.permissions import AllowedUser, assert_redirects_to_login

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

    from tests.conftest import World

pytestmark = pytest.mark.django_db


def text(response: HttpResponse) -> str:
    return response.content.decode()


# --- access ------------------------------------------------------------------------------


class TestHomeAccess(AllowedUser):
    """Officers land on the search page; anonymous visitors see the citizen home."""

    allowed_status = 302

    def url(self, world: World) -> str:
        return reverse("portal:home")

    def check_allowed(self, response: HttpResponse, world: World) -> None:
        assert response.status_code == 302
        assert response["Location"] == reverse("registry:search")


def test_anonymous_home_offers_citizen_register_login_and_officer_login(client: Client) -> None:
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("identity:register", "identity:login", "portal:login"):
        assert f'href="{reverse(name)}' in body, name


class TestLoginPageAccess(AllowedUser):
    allowed_user = None  # anonymous

    def url(self, world: World) -> str:
        return reverse("portal:login")


def test_home_for_a_user_without_role_leads_to_403_not_500(client: Client, world: World) -> None:
    client.force_login(world.nobody)
    response = client.get(reverse("portal:home"), follow=True)
    assert response.status_code == 403
    assert "Không có quyền truy cập" in text(response)
    assert "Đăng xuất" in text(response)  # the shell still renders


# --- login and logout ----------------------------------------------------------------------


def test_login_page(client: Client) -> None:
    response = client.get(reverse("portal:login"))
    body = text(response)
    assert '<html lang="vi">' in body
    assert "Đăng nhập" in body
    assert 'autocomplete="current-password"' in body
    assert 'href="#main"' in body  # skip link
    assert "/static/portal/site.css" in body
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', body)  # nothing from a CDN
    assert f'class="site-name" href="/">{settings.CONGDAN_SITE_NAME}<' in body


def test_login_with_a_wrong_password_is_explained_in_vietnamese(
    client: Client, world: World
) -> None:
    response = client.post(
        reverse("portal:login"), {"username": "cax", "password": "khong-dung-mat-khau"}
    )
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in text(response)


def test_login_with_empty_fields(client: Client) -> None:
    response = client.post(reverse("portal:login"), {"username": "", "password": ""})
    assert response.status_code == 200
    assert "Trường này là bắt buộc." in text(response)


def test_login_then_logout(client: Client, world: World) -> None:
    response = client.post(reverse("portal:login"), {"username": "cax", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")  # which sends officers on
    assert client.get(response["Location"])["Location"] == reverse("registry:search")
    page = text(client.get(reverse("registry:search")))
    agency = world.commune_officer.agency
    assert agency is not None
    assert agency.name in page
    assert "Đăng xuất" in page
    assert client.get(reverse("portal:logout")).status_code == 405  # logout is a POST
    response = client.post(reverse("portal:logout"))
    assert_redirects_to_login(response)
    assert_redirects_to_login(client.get(reverse("registry:search")))


def test_login_page_for_a_logged_in_user_never_loops(client: Client, world: World) -> None:
    client.force_login(world.nobody)
    response = client.get(reverse("portal:login") + "?next=" + reverse("portal:login"))
    assert response.status_code == 200
    assert "không có quyền truy cập trang này" in text(response)


def test_login_redirects_to_next(client: Client, world: World) -> None:
    target = reverse("registry:person", args=[world.person.id_number])
    response = client.get(target)
    assert_redirects_to_login(response)
    response = client.post(
        reverse("portal:login"), {"username": "cax", "password": PASSWORD, "next": target}
    )
    assert response["Location"] == target


# --- navigation ------------------------------------------------------------------------------


def test_admin_link_only_with_the_admin_permission(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    body = text(client.get(reverse("registry:search")))
    assert reverse("admin:index") not in body
    assert "Tìm kiếm công dân" in body
    for user in (world.steward, world.admin):
        client.force_login(user)
        assert reverse("admin:index") in text(client.get(reverse("registry:search")))


def test_search_link_is_marked_current(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    assert 'aria-current="page"' in text(client.get(reverse("registry:search")))


# --- language ---------------------------------------------------------------------------------


def test_language_switch(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("registry:search")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:search")
    body = text(client.get(reverse("registry:search")))
    assert '<html lang="en">' in body
    assert re.search(r'<button[^>]*value="en"[^>]*aria-current="true"', body)
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert '<html lang="vi">' in text(client.get(reverse("registry:search")))


def test_language_switch_for_anonymous_users(client: Client) -> None:
    client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:login")})
    assert '<html lang="en">' in text(client.get(reverse("portal:login")))


# --- static and error pages -----------------------------------------------------------------


def test_stylesheet_is_served_from_the_app() -> None:
    path = finders.find("portal/site.css")
    assert path is not None
    with open(path, encoding="utf-8") as css:
        content = css.read()
    assert ":focus-visible" in content
    assert "@media" in content
    assert "@import" not in content  # nothing fetched from elsewhere


def test_404_page_renders_in_the_shell(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404
    assert "Không tìm thấy" in text(response)
    assert 'href="#main"' in text(response)


def test_csrf_failure_page_is_vietnamese(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.commune_officer)
    url = reverse("registry:record_death", args=[world.person.id_number])
    response = client.post(url, {"death_date": "2020-01-01", "document_ref": "1", "confirm": "on"})
    assert response.status_code == 403
    assert "Phiên làm việc đã hết hạn" in text(response)

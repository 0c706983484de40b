"""Throttling of logins: per account by django-axes, per IP address here.

django-axes counts failures per username (the ID number) and refuses the account for
``AXES_COOLOFF_TIME`` after ``AXES_FAILURE_LIMIT`` of them. Counting per IP with the same
small limit would lock out whole carrier-grade NATs, so the IP gets its own, larger
limit (``CONGDAN_AXES_IP_FAILURE_LIMIT``) counted in the cache over the same window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _window() -> timedelta:
    return timedelta(hours=float(settings.AXES_COOLOFF_TIME))


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _ip_key(request: HttpRequest) -> str:
    return f"congdan:login-ip-failures:{client_ip(request)}"


def ip_blocked(request: HttpRequest) -> bool:
    return int(cache.get(_ip_key(request), 0)) >= settings.CONGDAN_AXES_IP_FAILURE_LIMIT


def note_ip_failure(request: HttpRequest) -> None:
    key = _ip_key(request)
    timeout = int(_window().total_seconds())
    if not cache.add(key, 1, timeout):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout)


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """What django-axes (and the IP throttle) answer while locked out: a 429 page."""
    minutes = round(_window().total_seconds() / 60)
    return render(request, "identity/locked_out.html", {"minutes": minutes}, status=429)

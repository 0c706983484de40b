"""Tracks logged-in sessions so a citizen can see and end them (identity.UserSession).

A session that the citizen ended from another device is flushed on its next request.
``last_seen_at`` is refreshed at most every ``TOUCH_EVERY`` to keep requests cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from congdan.identity.models import UserSession

TOUCH_EVERY = timedelta(minutes=5)
SESSION_MARK = "_congdan_tracked"


class SessionTrackingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated and session.get(SESSION_MARK):
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        now = timezone.now()
        seen = request.session.get(SESSION_MARK + "_seen", 0)
        if now.timestamp() - float(seen) < TOUCH_EVERY.total_seconds():
            return
        key = request.session.session_key or ""
        tracked = UserSession.objects.filter(session_key=key).values("ended_at").first()
        if tracked is None or tracked["ended_at"] is not None:
            logout(request)
            return
        UserSession.objects.filter(session_key=key).update(last_seen_at=now)
        request.session[SESSION_MARK + "_seen"] = now.timestamp()

"""Site shell pages: home, the officers' login and logout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from congdan.core.permissions import Perm, permissions_of
from congdan.identity.selectors import account_of
from congdan.portal.forms import LoginForm

# An officer's start page: the first of these their role allows.
OFFICER_HOMES: tuple[tuple[Perm, str], ...] = (
    (Perm.PERSON_SEARCH, "registry:search"),
    (Perm.MONITORING_VIEW, "monitoring:dashboard"),
    (Perm.ACCESS_LOG_SUPERVISE, "exchange:supervision"),
    (Perm.DOSSIER_PROCESS, "procedures:office_queue"),
    (Perm.TASK_READ, "monitoring:task_list"),
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Citizens with an e-ID go to their page (/me/), officers to the first page their
    role allows (the person search for most); a visitor sees the citizen home: register an
    e-ID or log in."""
    if request.user.is_authenticated:
        if account_of(request.user) is not None:
            return redirect("identity:me")
        held = permissions_of(request.user)
        for perm, page in OFFICER_HOMES:
            if perm in held:
                return redirect(page)
        return redirect("registry:search")
    return render(request, "portal/home.html")


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # LoginView puts the request's host in "site_name"; the shell shows ours.
        context["site_name"] = settings.CONGDAN_SITE_NAME
        return context

"""Site shell pages: home (a redirect), login and logout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from congdan.portal.forms import LoginForm


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Officers start at the person search; everyone else at the login page."""
    if request.user.is_authenticated:
        return redirect("registry:search")
    return redirect("portal:login")


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # LoginView puts the request's host in "site_name"; the shell shows ours.
        context["site_name"] = settings.CONGDAN_SITE_NAME
        return context

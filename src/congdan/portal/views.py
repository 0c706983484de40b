"""Site shell pages: home, the officers' login and logout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from congdan.identity.selectors import account_of
from congdan.portal.forms import LoginForm


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Citizens with an e-ID go to their page (/me/), officers to the person search;
    a visitor sees the citizen home: register an e-ID or log in."""
    if request.user.is_authenticated:
        if account_of(request.user) is not None:
            return redirect("identity:me")
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

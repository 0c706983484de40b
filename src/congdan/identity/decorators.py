"""Guards for the citizen pages (/me/…).

The portal is its own first relying party: a citizen page needs (1) a logged-in user with
a usable e-ID account and (2) a portal session established through the OIDC
authorization-code flow (``PORTAL_SESSION_KEY`` holds the ID token's claims). Without
(2) the citizen is sent through ``identity:portal_login``, which starts that flow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from congdan.identity.models import AccountStatus
from congdan.identity.selectors import account_of

PORTAL_SESSION_KEY = "portal_oidc"


def citizen_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = account_of(request.user)
        claims = request.session.get(PORTAL_SESSION_KEY)
        if (
            account is None
            or account.status != AccountStatus.ACTIVE
            or not claims
            or claims.get("uid") != request.user.pk
        ):
            login_url = reverse("identity:portal_login")
            return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        request.eid_account = account  # type: ignore[attr-defined]  # set for the view
        return view(request, *args, **kwargs)

    return wrapper

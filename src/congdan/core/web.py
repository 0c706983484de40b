"""Helpers shared by the apps' web views (not a view module of its own).

* ``permission_required_view(perm)``: login required, then ``perm`` (403 without it);
  domain errors the view did not turn into form errors become a 404 (not found or
  outside jurisdiction), a 403, or an error page with the error's status — never a 500.
* ``submit_form(form, call)``: run a service for a valid form; a typed error becomes a
  form error on the field it names.
* ``add_domain_error``: attach a typed error to a form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpPermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from congdan.core.errors import DomainError, NotFound
from congdan.core.errors import PermissionDenied as DomainPermissionDenied
from congdan.core.permissions import Perm, has_perm

ViewFunc = Callable[..., HttpResponseBase]
R = TypeVar("R")


def permission_required_view(perm: Perm) -> Callable[[ViewFunc], ViewFunc]:
    """Login required, then ``perm`` required (403 without it); domain errors the view
    did not turn into form errors become 404 (not found / outside jurisdiction), 403 or
    an error page with the error's status — never a 500."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_perm(request.user, perm):
                raise HttpPermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc.message)) from exc
            except DomainPermissionDenied as exc:
                raise HttpPermissionDenied(str(exc.message)) from exc
            except DomainError as exc:
                return render(request, "portal/error.html", {"error": exc}, status=exc.status)

        wrapper.required_perm = perm  # type: ignore[attr-defined]  # introspected by tests
        return login_required(never_cache(wrapper))

    return decorate


def submit_form(
    form: forms.Form, call: Callable[[], R], field_map: dict[str, str] | None = None
) -> R | None:
    """Run a service for a valid form: its result, or None when a domain error became a
    form error. A NotFound that names no field (the person or household) stays a 404."""
    try:
        return call()
    except NotFound as exc:
        if exc.field is None:
            raise
        add_domain_error(form, exc, field_map)
    except DomainError as exc:
        add_domain_error(form, exc, field_map)
    return None


def add_domain_error(
    form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None
) -> None:
    """Attach a service's typed error to the field it names (or to the whole form)."""
    name = exc.field or ""
    name = (field_map or {}).get(name, name)
    form.add_error(name if name in form.fields else None, str(exc.message))

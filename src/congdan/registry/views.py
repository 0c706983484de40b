"""The officer web UI of the population registry.

Views parse, call a selector or a service, render — nothing more (DESIGN rule 1). Every
view requires a login and one permission, declared with ``permission_required_view``.
Typed domain errors become form errors on the field they name; a person or household
that is missing or outside the officer's jurisdiction is a 404; bad input is never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from congdan.audit.models import Channel
from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.jurisdiction import jurisdiction_of
from congdan.core.permissions import Perm, has_perm
from congdan.core.web import add_domain_error, permission_required_view, submit_form
from congdan.registry import selectors, services
from congdan.registry.forms import (
    DeathForm,
    MoveHouseholdForm,
    SearchForm,
    TemporaryResidenceForm,
)

if TYPE_CHECKING:
    from congdan.registry.models import Household, HouseholdMembership, Person

ViewFunc = Callable[..., HttpResponse]
R = TypeVar("R")

# What a form page shows of the person it acts on (logged as the fields read).
FORM_FIELDS = ("id_number", "full_name", "birth_date")
# Search: the selector names the ID number "id_number" and the commune "commune_code".
SEARCH_FIELD_MAP = {"id_number": "q", "commune_code": "commune"}
CHANGE_FIELD_MAP = {"commune_code": "commune"}
# What a household code in a URL may look like (Household.code is at most 20 characters).
HOUSEHOLD_CODE = re.compile(r"[A-Za-z0-9._-]{1,20}")


# --- helpers --------------------------------------------------------------------------


def _load_person(request: HttpRequest, id_number: str, view: str) -> Person:
    """The person a form acts on; a malformed ID number in the URL is a 404."""
    try:
        return selectors.get_person(
            request.user, id_number=id_number, channel=Channel.UI, view=view, fields=FORM_FIELDS
        )
    except ValidationFailed as exc:
        raise Http404(str(exc.message)) from exc


def _person_url(id_number: str) -> str:
    return reverse("registry:person", kwargs={"id_number": id_number})


def _refuse_if_deceased(request: HttpRequest, person: Person) -> HttpResponse | None:
    if person.is_deceased:
        messages.warning(
            request,
            _("Công dân %(name)s đã được ghi nhận là đã chết; không thể thực hiện thay đổi này.")
            % {"name": person.full_name},
        )
        return redirect(_person_url(person.id_number))
    return None


# --- search ---------------------------------------------------------------------------


@require_GET
@permission_required_view(Perm.PERSON_SEARCH)
def search(request: HttpRequest) -> HttpResponse:
    submitted = any(key in request.GET for key in ("q", "birth_year", "commune"))
    form = SearchForm(request.user, request.GET if submitted else None)
    result = None
    if submitted and form.is_valid():
        data = form.cleaned_data
        try:
            result = selectors.search_persons(
                request.user,
                q=data["q"],
                birth_year=data["birth_year"],
                commune_code=data.get("commune") or "",
                page=data["page"],
                channel=Channel.UI,
            )
        except (ValidationFailed, NotFound) as exc:
            add_domain_error(form, exc, SEARCH_FIELD_MAP)
    return render(
        request,
        "registry/search.html",
        {"form": form, "result": result, "submitted": submitted},
    )


# --- person page ----------------------------------------------------------------------


@require_GET
@permission_required_view(Perm.PERSON_HISTORY_READ)
def person(request: HttpRequest, id_number: str) -> HttpResponse:
    try:
        file = selectors.person_file(request.user, id_number=id_number, channel=Channel.UI)
    except ValidationFailed as exc:
        raise Http404(str(exc.message)) from exc
    alive = not file.person.is_deceased
    user = request.user
    household = file.household
    actions = {
        "temporary_residence": alive and has_perm(user, Perm.RESIDENCE_WRITE),
        "record_death": alive and has_perm(user, Perm.DEATH_RECORD),
        "move_household": (
            alive
            and household is not None
            and has_perm(user, Perm.HOUSEHOLD_MOVE)
            and jurisdiction_of(user).covers(household.commune)
        ),
    }
    return render(
        request,
        "registry/person.html",
        {
            "file": file,
            "person": file.person,
            "actions": actions,
            "any_action": any(actions.values()),
        },
    )


# --- temporary residence --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.RESIDENCE_WRITE)
def temporary_residence(request: HttpRequest, id_number: str) -> HttpResponse:
    target = _load_person(request, id_number, view="temporary_residence_form")
    if refused := _refuse_if_deceased(request, target):
        return refused
    initial: dict[str, Any] = {}
    j = jurisdiction_of(request.user)
    if j.unit is not None and not j.is_province:
        initial["commune"] = j.unit.code
    form = TemporaryResidenceForm(
        request.user, request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: services.register_temporary_residence(
                request.user,
                person_id=target.pk,
                commune_code=data["commune"],
                street=data["street"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                reason=data["reason"],
            ),
            CHANGE_FIELD_MAP,
        )
        if done is not None:
            messages.success(
                request,
                _("Đã đăng ký tạm trú cho %(name)s.") % {"name": target.full_name},
            )
            return redirect(_person_url(target.id_number) + "#residences")
    return render(request, "registry/temporary_residence.html", {"form": form, "person": target})


# --- move household -------------------------------------------------------------------


def _members_for_display(
    request: HttpRequest, household: Household, next_id: str
) -> list[HouseholdMembership]:
    """Current members of the household, read through the logged selector when the
    form was opened from a member's page (``?next=<id_number>``)."""
    if not next_id:
        return []
    try:
        found, members = selectors.household_of(request.user, id_number=next_id, channel=Channel.UI)
    except (ValidationFailed, NotFound):
        return []
    return members if found.pk == household.pk else []


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.HOUSEHOLD_MOVE)
def move_household(request: HttpRequest, code: str) -> HttpResponse:
    if not HOUSEHOLD_CODE.fullmatch(code):  # e.g. a NUL byte PostgreSQL would refuse
        raise Http404(_("Không tìm thấy hộ gia đình."))
    household = selectors.get_household(request.user, code=code)
    next_id = (request.POST.get("next") or request.GET.get("next") or "").strip()
    form = MoveHouseholdForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = submit_form(
            form,
            lambda: services.move_household(
                request.user,
                household_code=household.code,
                commune_code=data["commune"],
                street=data["street"],
                move_date=data["move_date"],
                reason=data["reason"],
            ),
            CHANGE_FIELD_MAP,
        )
        if result is not None:
            moved = [r.person.id_number for r in result.residences]
            messages.success(
                request,
                _("Đã chuyển hộ %(code)s đến địa chỉ mới: %(address)s.")
                % {"code": household.code, "address": result.household.address.text},
            )
            if next_id in moved:
                return redirect(_person_url(next_id) + "#residences")
            if moved:
                return redirect(_person_url(moved[0]) + "#residences")
            return redirect("registry:search")
    return render(
        request,
        "registry/move_household.html",
        {
            "form": form,
            "household": household,
            "members": _members_for_display(request, household, next_id),
            "next_id": next_id if next_id.isdigit() else "",
        },
    )


# --- death ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.DEATH_RECORD)
def record_death(request: HttpRequest, id_number: str) -> HttpResponse:
    target = _load_person(request, id_number, view="record_death_form")
    if refused := _refuse_if_deceased(request, target):
        return refused
    form = DeathForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: services.record_death(
                request.user,
                person_id=target.pk,
                death_date=data["death_date"],
                document_ref=data["document_ref"],
                reason=data["reason"],
            ),
        )
        if done is not None:
            messages.success(
                request, _("Đã ghi nhận khai tử cho %(name)s.") % {"name": target.full_name}
            )
            return redirect(_person_url(target.id_number))
    return render(request, "registry/record_death.html", {"form": form, "person": target})

"""Officer pages: the level-2 verification queue and form, correction requests.

Views parse, call a selector or a service, render. A request or account outside the
officer's jurisdiction is a 404, like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.core.errors import NotFound
from congdan.core.permissions import Perm
from congdan.core.web import add_domain_error, permission_required_view, submit_form
from congdan.identity import selectors
from congdan.identity.forms.officer import (
    RejectLevel2Form,
    ResolveReportForm,
    VerifyLevel2Form,
    WalkInForm,
)
from congdan.identity.models import EidLevel, VerificationStatus
from congdan.identity.portraits import portrait_response
from congdan.identity.services import level2
from congdan.identity.services.accounts import REPORTABLE_FIELDS


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.EID_LEVEL2_VERIFY)
def level2_queue(request: HttpRequest) -> HttpResponse:
    walk_in = WalkInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and walk_in.is_valid():
        try:
            account = selectors.account_for_verification(
                request.user, id_number=walk_in.cleaned_data["id_number"]
            )
        except NotFound as exc:
            add_domain_error(walk_in, exc, {"account": "id_number"})
        else:
            return redirect("identity:level2_verify", account_id=account.pk)
    return render(
        request,
        "identity/officer/level2_queue.html",
        {
            "page": selectors.level2_queue(request.user, page=request.GET.get("page")),
            "walk_in": walk_in,
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.EID_LEVEL2_VERIFY)
def level2_verify(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_for_verification(request.user, account_id=account_id)
    pending = account.level2.filter(status=VerificationStatus.PENDING).first()
    form = VerifyLevel2Form(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: level2.verify_level2(
                request.user,
                account_id=account.pk,
                card_number=data["card_number"],
                card_issue_date=data["card_issue_date"],
                portrait=data["portrait"],
                attested=data["attested"],
                request_id=pending.pk if pending else None,
                note=data["note"],
            ),
        )
        if done is not None:
            messages.success(
                request,
                _("Đã nâng tài khoản của %(name)s lên mức độ 2.")
                % {"name": account.person.full_name},
            )
            return redirect("identity:level2_queue")
    return render(
        request,
        "identity/officer/level2_verify.html",
        {
            "account": account,
            "person": account.person,
            "pending": pending,
            "form": form,
            "reject_form": RejectLevel2Form(),
            "is_level2": account.level >= EidLevel.LEVEL2,
        },
    )


@require_GET
@permission_required_view(Perm.EID_LEVEL2_VERIFY)
def level2_portrait(request: HttpRequest, account_id: int) -> HttpResponseBase:
    """The portrait registered at level 1, for the officer to compare with the person at
    the counter (the read is access-logged by the selector)."""
    account = selectors.account_for_verification(
        request.user, account_id=account_id, view="level2_portrait"
    )
    return portrait_response(account)


@require_POST
@permission_required_view(Perm.EID_LEVEL2_VERIFY)
def level2_reject(request: HttpRequest, request_id: int) -> HttpResponse:
    form = RejectLevel2Form(request.POST)
    if form.is_valid():
        done = submit_form(
            form,
            lambda: level2.reject_level2(
                request.user, request_id=request_id, reason=form.cleaned_data["reason"]
            ),
        )
        if done is not None:
            messages.success(request, _("Đã từ chối yêu cầu."))
            return redirect("identity:level2_queue")
    messages.error(request, " ".join(str(e) for e in form.errors.get("reason", [])))
    return redirect("identity:level2_queue")


def _field_labels(fields: list[str]) -> str:
    return ", ".join(str(REPORTABLE_FIELDS.get(name, name)) for name in fields)


@require_GET
@permission_required_view(Perm.PERSON_READ)
def report_queue(request: HttpRequest) -> HttpResponse:
    page = selectors.report_queue(request.user, page=request.GET.get("page"))
    for report in page.object_list:
        report.field_labels = _field_labels(report.fields)
    return render(request, "identity/officer/report_queue.html", {"page": page})


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.PERSON_READ)
def report_resolve(request: HttpRequest, report_id: int) -> HttpResponse:
    report = selectors.get_report(request.user, report_id=report_id)
    form = ResolveReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: level2.resolve_correction_request(
                request.user,
                report_id=report.pk,
                accepted=data["accepted"],
                resolution=data["resolution"],
            ),
        )
        if done is not None:
            messages.success(request, _("Đã trả lời phản ánh."))
            return redirect("identity:report_queue")
    return render(request, "identity/officer/report_resolve.html", {"report": report, "form": form})

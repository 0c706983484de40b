"""Citizen pages for pull consents (/me/documents/consents/): the list with revoke
buttons, and a form to let a requester system pull documents of chosen types.

Views parse, call ``wallet.services.consents`` and render; someone else's consent is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from congdan.core.errors import NotFound, ValidationFailed
from congdan.identity.decorators import citizen_required
from congdan.registry.models import Person
from congdan.wallet.services import consents as service

DEFAULT_DAYS = 30


class ConsentForm(forms.Form):
    application = forms.ChoiceField(label=_("Hệ thống được lấy giấy tờ"))
    doc_types = forms.MultipleChoiceField(
        label=_("Loại giấy tờ"), widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(
        label=_("Mục đích"),
        max_length=service.MAX_PURPOSE,
        help_text=_("Hệ thống phải nêu đúng mục đích này khi lấy giấy tờ, ví dụ: mở tài khoản."),
    )
    days = forms.IntegerField(
        label=_("Thời hạn (ngày)"),
        min_value=1,
        max_value=service.MAX_DAYS,
        initial=DEFAULT_DAYS,
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        application = self.fields["application"]
        doc_types = self.fields["doc_types"]
        assert isinstance(application, forms.ChoiceField)  # noqa: S101 -- declared above
        assert isinstance(doc_types, forms.MultipleChoiceField)  # noqa: S101 -- declared above
        application.choices = [
            (
                app.client_id,
                f"{app.policy.organisation} — {app.name}" if app.policy.organisation else app.name,
            )
            for app in service.requester_clients()
        ]
        doc_types.choices = [
            (code, service.doc_type_title(code, person))
            for code in service.consent_doc_types(person)
        ]


def _person(request: HttpRequest) -> Person:
    return request.eid_account.person  # type: ignore[attr-defined]  # set by citizen_required


def _state(consent: Any) -> str:
    if consent.revoked_at is not None:
        return "revoked"
    return "active" if consent.is_active else "expired"


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def consent_list(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = ConsentForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            service.grant_consent(
                person,
                application_client_id=form.cleaned_data["application"],
                doc_types=form.cleaned_data["doc_types"],
                purpose=form.cleaned_data["purpose"],
                days=form.cleaned_data["days"],
            )
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Đã ghi nhận sự đồng ý của bạn."))
            return redirect("wallet:consents")
    rows = [
        {
            "consent": c,
            "state": _state(c),
            "organisation": c.application.policy.organisation or c.application.name,
            "types": [service.doc_type_title(t, person) for t in c.doc_types],
        }
        for c in service.consents_of(person)
    ]
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "wallet/consent_list.html",
        {"rows": rows, "form": form, "has_requesters": bool(service.requester_clients())},
        status=status,
    )


@never_cache
@citizen_required
@require_POST
def consent_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    try:
        service.revoke_consent(_person(request), consent_id=consent_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    messages.success(request, _("Đã rút lại sự đồng ý; hệ thống đó không lấy được giấy tờ nữa."))
    return redirect("wallet:consents")

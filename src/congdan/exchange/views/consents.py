"""The citizen's consents for member organisations (/me/data/consents/; issue 6, part 4):
active and past consents with a revoke button, and a form to consent to one offer (a
member's granted service × purpose that needs consent) for a number of days.

Views parse, call ``exchange.services.consents`` and render; someone else's consent is a
404.
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

from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.exchange.services import consents as service
from congdan.exchange.views import field_labels
from congdan.identity.decorators import citizen_required


class ConsentForm(forms.Form):
    offer = forms.ChoiceField(label=_("Tổ chức, dịch vụ và mục đích"), widget=forms.RadioSelect)
    days = forms.IntegerField(
        label=_("Thời hạn (ngày)"),
        min_value=service.MIN_DAYS,
        max_value=service.MAX_DAYS,
        initial=service.DEFAULT_DAYS,
        help_text=_("Từ 1 đến 365 ngày. Bạn có thể rút lại sự đồng ý bất cứ lúc nào."),
    )

    def __init__(self, *args: Any, offers: list[service.Offer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["offer"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = [
            (o.key, f"{o.member.name} — {o.service.name} — {o.purpose.name}") for o in offers
        ]


def _state(consent: Any) -> str:
    if consent.revoked_at is not None:
        return "revoked"
    return "active" if consent.active else "expired"


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def consent_list(request: HttpRequest) -> HttpResponse:
    person = request.eid_account.person  # type: ignore[attr-defined]  # set by citizen_required
    offers = service.offers()
    form = ConsentForm(request.POST or None, offers=offers)
    if request.method == "POST" and form.is_valid():
        member_code, service_code, purpose_code = form.cleaned_data["offer"].split("|")
        try:
            service.grant_consent(
                request.user,
                member_code=member_code,
                service=service_code,
                purpose=purpose_code,
                days=form.cleaned_data["days"],
            )
        except (ValidationFailed, PermissionDenied) as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Đã ghi nhận sự đồng ý của bạn."))
            return redirect("exchange:consents")
    consents = service.consents_of(person)
    active = [c for c in consents if _state(c) == "active"]
    past = [{"consent": c, "state": _state(c)} for c in consents if _state(c) != "active"]
    return render(
        request,
        "exchange/consents.html",
        {
            "form": form,
            "offers": [
                {"offer": o, "field_labels": field_labels(",".join(o.fields))} for o in offers
            ],
            "active": active,
            "past": past,
        },
        status=422 if request.method == "POST" else 200,
    )


@never_cache
@citizen_required
@require_POST
def consent_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    try:
        service.revoke_consent(request.user, consent_id=consent_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    messages.success(
        request, _("Đã rút lại sự đồng ý; tổ chức đó không còn được dùng dữ liệu cho mục đích này.")
    )
    return redirect("exchange:consents")

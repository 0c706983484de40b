"""The citizen's level-2 page: ask for the in-person verification, see its state."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from congdan.core.errors import DomainError
from congdan.identity.decorators import citizen_required
from congdan.identity.selectors import level2_requests_of
from congdan.identity.services import level2


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_required
def level2_request(request: HttpRequest) -> HttpResponse:
    account = request.eid_account  # type: ignore[attr-defined]  # set by citizen_required
    if request.method == "POST":
        try:
            if "cancel" in request.POST:
                level2.cancel_level2_request(account, request_id=int(request.POST["cancel"]))
                messages.success(request, _("Đã hủy yêu cầu."))
            else:
                level2.request_level2(account)
                messages.success(
                    request,
                    _("Đã gửi yêu cầu. Hãy mang thẻ căn cước gắn chip đến công an %(unit)s.")
                    % {"unit": account.person.residence_commune.name},
                )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        except ValueError:
            messages.error(request, _("Yêu cầu không hợp lệ."))
        return redirect("identity:level2_request")
    requests = list(level2_requests_of(account)[:10])
    return render(
        request,
        "identity/level2_request.html",
        {
            "account": account,
            "requests": requests,
            "pending": next((r for r in requests if r.status == "pending"), None),
            "commune": account.person.residence_commune,
        },
    )

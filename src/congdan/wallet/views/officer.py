"""Officer pages of the wallet: the queue of uploaded scans to check in the officer's
jurisdiction, one scan with its check form, and the scan file itself (served through a
view that checks permission and jurisdiction; never a public media URL).

A scan outside the officer's jurisdiction is a 404, like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from congdan.core.permissions import Perm
from congdan.core.web import permission_required_view, submit_form
from congdan.wallet import selectors, services
from congdan.wallet.forms import CheckUploadForm
from congdan.wallet.models import UploadState
from congdan.wallet.views.citizen import scan_response


@require_GET
@permission_required_view(Perm.DOSSIER_PROCESS)
def upload_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "wallet/office_uploads.html",
        {"uploads": selectors.upload_queue(request.user)},
    )


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.DOSSIER_PROCESS)
def upload_check(request: HttpRequest, number: str) -> HttpResponse:
    document = selectors.get_upload_for_officer(request.user, number)
    form = CheckUploadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = form.cleaned_data["decision"] == "verify"
        done = submit_form(
            form,
            lambda: services.check_upload(
                request.user,
                number=document.number,
                verified=verified,
                note=form.cleaned_data["note"],
            ),
        )
        if done is not None:
            if verified:
                messages.success(request, _("Đã xác thực bản chụp %(n)s.") % {"n": number})
            else:
                messages.success(
                    request, _("Đã ghi nhận bản chụp %(n)s không xác thực được.") % {"n": number}
                )
            return redirect("wallet:office_uploads")
    return render(
        request,
        "wallet/office_upload.html",
        {
            "document": document,
            "form": form,
            "open": document.upload_state == UploadState.UNVERIFIED,
            "events": list(document.events.order_by("-at", "-id")),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@permission_required_view(Perm.DOSSIER_PROCESS)
def upload_scan_file(request: HttpRequest, number: str) -> FileResponse:
    document = selectors.get_upload_for_officer(request.user, number, view="wallet_upload_scan")
    return scan_response(document)

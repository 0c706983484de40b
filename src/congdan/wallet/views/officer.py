"""Officer pages of the wallet.

- Uploaded scans: the queue of scans to check in the officer's jurisdiction, one scan
  with its check form, and the scan file itself (served through a view that checks
  permission and jurisdiction; never a public media URL). A scan outside the officer's
  jurisdiction is a 404, like a missing one; an officer's own scan (the person of their
  e-ID account) is shown without the form and refused on POST (403, ``own_document``).
- Issued documents (``/office/documents/``): an officer finds a document their own
  agency issued, by its number or by the holder's ID number, and suspends, reinstates or
  revokes it. Another agency's document is a 404. Every read is access-logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import DomainError, NotFound, PermissionDenied
from congdan.core.permissions import Perm
from congdan.core.web import add_domain_error, permission_required_view, submit_form
from congdan.wallet import doctypes, selectors, services
from congdan.wallet.files import scan_response
from congdan.wallet.forms import (
    STATUS_ACTIONS,
    CheckUploadForm,
    DocumentStatusForm,
    OfficeDocumentSearchForm,
)
from congdan.wallet.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    EventKind,
    UploadState,
)
from congdan.wallet.services.uploads import own_person_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User


@require_GET
@permission_required_view(Perm.DOSSIER_PROCESS)
def upload_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "wallet/office_uploads.html",
        {"uploads": selectors.upload_queue(request.user), "own": own_person_id(request.user)},
    )


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.DOSSIER_PROCESS)
def upload_check(request: HttpRequest, number: str) -> HttpResponse:
    document = selectors.get_upload_for_officer(request.user, number)
    own = document.holder_id == own_person_id(request.user)
    if own and request.method == "POST":
        # Refused by the service too; the page offers no form for it.
        raise PermissionDenied(
            _("Cán bộ không được tự xác thực bản chụp giấy tờ của chính mình."),
            code="own_document",
        )
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
            "open": document.upload_state == UploadState.UNVERIFIED and not own,
            "own": own,
            "events": list(document.events.order_by("-at", "-id")),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@permission_required_view(Perm.DOSSIER_PROCESS)
def upload_scan_file(request: HttpRequest, number: str) -> FileResponse:
    document = selectors.get_upload_for_officer(request.user, number, view="wallet_upload_scan")
    return scan_response(document)


# --- issued documents: status ------------------------------------------------------------

OFFICE_DOCUMENT_VIEW = "wallet_office_document"
OFFICE_DOCUMENTS_VIEW = "wallet_office_documents"
OFFICE_FIELDS = ["wallet_document"]
OFFICE_PURPOSE = "document_status"
MAX_RESULTS = 100
# The history an issuing agency sees: its own acts on the document, not the holder's
# shares, notes or uses (those are the holder's; reads by others are in the access log).
ISSUER_EVENTS = (
    EventKind.ISSUED,
    EventKind.SUSPENDED,
    EventKind.REINSTATED,
    EventKind.REVOKED,
    EventKind.REFRESHED,
)
# stored status → the changes allowed from it (wallet.services.change_status)
ACTIONS_FROM = {
    DocumentStatus.VALID: ["suspend", "revoke"],
    DocumentStatus.SUSPENDED: ["reinstate", "revoke"],
    DocumentStatus.REVOKED: [],
}
STATUS_SERVICES = {
    "suspend": services.suspend_document,
    "reinstate": services.reinstate_document,
    "revoke": services.revoke_document,
}
STATUS_DONE = {
    "suspend": gettext_lazy("Đã tạm đình chỉ giấy tờ %(n)s."),
    "reinstate": gettext_lazy("Đã khôi phục hiệu lực giấy tờ %(n)s."),
    "revoke": gettext_lazy("Đã thu hồi giấy tờ %(n)s."),
}


def _issued_by_agency(actor: User | AnonymousUser) -> QuerySet[Document]:
    """Documents the actor's own agency issued (none for an officer without agency)."""
    agency_id = getattr(actor, "agency_id", None)
    if agency_id is None:
        return Document.objects.none()
    return Document.objects.filter(kind=DocumentKind.ISSUED, issuer_id=agency_id).select_related(
        "holder", "issuer"
    )


def _log_read(actor: User | AnonymousUser, person_ids: list[int], view: str) -> None:
    log_access(
        actor,
        person_ids=person_ids,
        channel=Channel.UI,
        view=view,
        fields=OFFICE_FIELDS,
        purpose=OFFICE_PURPOSE,
    )


def _office_document(request: HttpRequest, number: str) -> Document:
    """A document of the officer's agency, its read logged; a 404 otherwise."""
    document = _issued_by_agency(request.user).filter(number=number).first()
    if document is None:
        raise Http404(_("Không tìm thấy giấy tờ."))
    _log_read(request.user, [document.holder_id], OFFICE_DOCUMENT_VIEW)
    return document


@require_GET
@permission_required_view(Perm.DOSSIER_PROCESS)
def office_documents(request: HttpRequest) -> HttpResponse:
    """Find a document: an exact number opens it; an ID number lists what the agency
    issued to that person. Nothing says whether a person or another agency's document
    exists."""
    form = OfficeDocumentSearchForm(request.GET or None)
    results: list[Document] | None = None
    if form.is_valid():
        documents = _issued_by_agency(request.user)
        if form.id_number:
            results = list(
                documents.filter(holder__id_number=form.id_number).order_by("-issued_at", "-id")[
                    :MAX_RESULTS
                ]
            )
            _log_read(request.user, [d.holder_id for d in results], OFFICE_DOCUMENTS_VIEW)
        else:
            query = form.cleaned_data["q"]
            if documents.filter(number=query).exists():
                return redirect("wallet:office_document", query)
            results = []
    return render(
        request,
        "wallet/office_documents.html",
        {"form": form, "results": results, "searched": form.is_bound and form.is_valid()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _actions(document: Document) -> list[str]:
    return ACTIONS_FROM.get(DocumentStatus(document.status), [])


def _document_page(
    request: HttpRequest, document: Document, form: DocumentStatusForm | None, status: int = 200
) -> HttpResponse:
    actions = _actions(document)
    if form is None:
        form = DocumentStatusForm(actions=actions)
    kind = doctypes.INTEGRATED.get(document.doc_type)
    order = [n for n in (kind.fields if kind is not None else ()) if n in document.data]
    names = order + [n for n in document.data if n not in order]
    fields: list[dict[str, Any]] = [
        {"label": doctypes.field_label(n), "value": document.data[n]}
        for n in names
        if n != "portrait"
    ]
    return render(
        request,
        "wallet/office_document.html",
        {
            "document": document,
            "fields": fields,
            "form": form,
            "actions": actions,
            "events": list(document.events.filter(kind__in=ISSUER_EVENTS).order_by("-at", "-id")),
        },
        status=status,
    )


@require_GET
@permission_required_view(Perm.DOSSIER_PROCESS)
def office_document(request: HttpRequest, number: str) -> HttpResponse:
    """One document of the agency: read-only fields, status, history, status forms."""
    return _document_page(request, _office_document(request, number), None)


@require_POST
@permission_required_view(Perm.DOSSIER_PROCESS)
def office_document_status(request: HttpRequest, number: str) -> HttpResponse:
    """Suspend, reinstate or revoke (the form's ``action``), with a reason. A change the
    status no longer allows (changed meanwhile) is a form error on the current page."""
    document = _office_document(request, number)
    form = DocumentStatusForm(request.POST, actions=list(STATUS_SERVICES))
    if form.is_valid():
        action = form.cleaned_data["action"]
        try:
            STATUS_SERVICES[action](
                request.user, number=document.number, reason=form.cleaned_data["reason"]
            )
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except PermissionDenied as exc:
            if exc.code == "not_issuer":  # another agency's document: as if missing
                raise Http404(str(exc.message)) from exc
            raise
        except DomainError as exc:  # Conflict (not allowed from its status), ValidationFailed
            add_domain_error(form, exc)
            document.refresh_from_db()
        else:
            messages.success(request, STATUS_DONE[action] % {"n": document.number})
            return redirect("wallet:office_document", document.number)
    # Offer only what the current status allows, keeping what was typed and the errors.
    _set_action_choices(form, _actions(document))
    return _document_page(request, document, form, status=400)


def _set_action_choices(form: DocumentStatusForm, actions: list[str]) -> None:
    field = form.fields["action"]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared as one
    field.choices = [(a, STATUS_ACTIONS[a]) for a in actions]

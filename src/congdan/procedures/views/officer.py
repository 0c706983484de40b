"""The back office: work queues, the dossier page with its actions, attachments, and
the one-stop counter filing for a citizen who is present."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import DomainError, NotFound
from congdan.core.permissions import Perm
from congdan.core.web import add_domain_error, permission_required_view
from congdan.identity.selectors import account_of
from congdan.procedures import selectors, services
from congdan.procedures.application import open_application
from congdan.procedures.forms import ApplicationForm
from congdan.procedures.models import Attachment, DossierStatus
from congdan.procedures.prefill import source_label
from congdan.procedures.specs import catalogue
from congdan.wallet import selectors as wallet_selectors
from congdan.wallet.doctypes import field_label
from congdan.wallet.files import scan_response

ACTIONS = {
    "receive": services.receive_dossier,
    "claim": services.claim_dossier,
    "review": services.complete_review,
    "approve": services.approve_dossier,
}


@permission_required_view(Perm.DOSSIER_PROCESS)
def queue_view(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("queue", "new")
    if name not in (*selectors.QUEUES, "overdue"):
        name = "new"
    mine = request.GET.get("mine") == "1"
    page = selectors.queue(request.user, name=name, mine=mine, page=request.GET.get("page"))
    return render(
        request,
        "procedures/officer/queue.html",
        {
            "page": page,
            "queue": name,
            "mine": mine,
            "counts": selectors.queue_counts(request.user),
            "names": {c: p.name for c, p in catalogue().procedures.items()},
        },
    )


@permission_required_view(Perm.DOSSIER_PROCESS)
def dossier_view(request: HttpRequest, code: str) -> HttpResponse:
    dossier = selectors.dossier_for_officer(request.user, code)
    spec = catalogue().procedure(dossier.procedure_code)
    fields = []
    if spec is not None:
        for f in spec.fields:
            if f.name in dossier.data:
                source = dossier.prefilled.get(f.name)
                fields.append(
                    {
                        "label": f.label,
                        "value": dossier.data[f.name],
                        "source": source_label(source) if source else None,
                    }
                )
    siblings = list(dossier.bundle.dossiers.order_by("part_index")) if dossier.bundle else [dossier]
    step = spec.steps[min(dossier.step_index, len(spec.steps) - 1)] if spec else None
    return render(
        request,
        "procedures/officer/dossier.html",
        {
            "dossier": dossier,
            "spec": spec,
            "fields": fields,
            "step": step,
            "attachments": list(dossier.attachments.select_related("wallet_document")),
            "timeline": selectors.timeline([dossier]),
            "siblings": siblings,
            "names": {c: p.name for c, p in catalogue().procedures.items()},
            "open_for_decision": dossier.status
            in (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.SUPPLEMENTED),
        },
    )


@require_POST
@permission_required_view(Perm.DOSSIER_PROCESS)
def dossier_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    note = request.POST.get("note", "")
    try:
        if action in ACTIONS:
            kwargs: dict[str, Any] = {"code": code}
            if action != "claim":
                kwargs["note"] = note
            ACTIONS[action](request.user, **kwargs)
        elif action == "supplement":
            services.request_supplement(request.user, code=code, reason=note)
        elif action == "reject":
            services.reject_dossier(request.user, code=code, reason=note)
        elif action == "assign":
            services.assign_dossier(request.user, code=code, to_username=request.POST.get("to", ""))
        else:
            raise Http404
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Đã cập nhật hồ sơ %(code)s.") % {"code": code})
    return redirect("procedures:office_dossier", code)


@permission_required_view(Perm.DOSSIER_PROCESS)
def attachment_view(request: HttpRequest, code: str, attachment_id: int) -> FileResponse:
    dossier = selectors.dossier_for_officer(request.user, code)
    attachment = Attachment.objects.filter(dossier=dossier, pk=attachment_id).first()
    if attachment is None or not attachment.file:
        raise Http404
    log_access(
        request.user,
        person_ids=[dossier.applicant_id],
        channel=Channel.UI,
        view="procedures:attachment",
        fields=(attachment.document_code,),
        purpose="dossier_processing",
    )
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="{attachment.document_code}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Claims every credential carries that are not the document's content.
_TECHNICAL_CLAIMS = ("document_number",)


@permission_required_view(Perm.DOSSIER_PROCESS)
def wallet_document_view(
    request: HttpRequest, code: str, attachment_id: int
) -> HttpResponse | FileResponse:
    """A wallet document attached to a dossier, read-only: its content as the issuer's
    signature verifies it now (status included), or a verified scan and who verified it.
    ``?file=1`` opens the scan itself."""
    attachment = selectors.wallet_attachment_for_officer(request.user, code, attachment_id)
    document = attachment.wallet_document
    assert document is not None  # noqa: S101 -- the selector only returns these
    if request.GET.get("file") == "1":
        # The wallet's own scan response: private, no-store, nosniff, sandboxed; a
        # missing stored file is a 404 (never_cache: permission_required_view).
        return scan_response(document)
    verdict = wallet_selectors.verify_document(document)
    claims = verdict.claims if verdict is not None and verdict.valid else document.data
    rows = [
        (field_label(name), value)
        for name, value in claims.items()
        if name not in _TECHNICAL_CLAIMS and not name.startswith("age_over_")
    ]
    spec = catalogue().procedure(attachment.dossier.procedure_code)
    document_spec = (
        next((d for d in spec.documents if d.code == attachment.document_code), None)
        if spec is not None
        else None
    )
    return render(
        request,
        "procedures/officer/wallet_document.html",
        {
            "dossier": attachment.dossier,
            "attachment": attachment,
            "document": document,
            "document_spec": document_spec,
            "verdict": verdict,
            "rows": rows,
            # The content shown is what the signature covers only when it verified.
            "verified_content": verdict is not None and verdict.valid,
            "checked_by": (
                document.checked_by.get_full_name() or document.checked_by.get_username()
                if document.checked_by is not None
                else ""
            ),
        },
    )


# --- one-stop counter --------------------------------------------------------------------


class CounterStartForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("Số định danh của công dân"), max_length=12)
    procedure = forms.ChoiceField(label=gettext_lazy("Thủ tục"))
    subject = forms.CharField(
        label=gettext_lazy("Số định danh của người mà hồ sơ nói đến (nếu có)"),
        max_length=12,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cat = catalogue()
        choices = [(c, str(b.name)) for c, b in cat.bundles.items()]
        choices += sorted(((c, str(p.name)) for c, p in cat.procedures.items()), key=lambda x: x[1])
        procedure = self.fields["procedure"]
        assert isinstance(procedure, forms.ChoiceField)  # noqa: S101 -- declared above
        procedure.choices = choices


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.DOSSIER_FILE_FOR_CITIZEN)
def counter_view(request: HttpRequest) -> HttpResponse:
    """Step 1: the citizen's ID number and the procedure; a consent code goes to their
    phone. Step 2 (``counter_file``): the form, filled with the citizen, and the code."""
    form = CounterStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.send_consent_code(
                request.user, id_number=form.cleaned_data["id_number"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            request.session["counter"] = {
                "account": account.pk,
                "procedure": form.cleaned_data["procedure"],
                "subject": form.cleaned_data["subject"],
            }
            messages.success(request, _("Đã gửi mã xác nhận đến số điện thoại của công dân."))
            return redirect("procedures:counter_file")
    return render(request, "procedures/officer/counter.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.DOSSIER_FILE_FOR_CITIZEN)
def counter_file(request: HttpRequest) -> HttpResponse:  # noqa: PLR0911 -- each early return is one reason to send the officer back to step 1
    from congdan.identity.models import EidAccount  # noqa: PLC0415 -- identity model, one use

    state = request.session.get("counter")
    if not state:
        return redirect("procedures:counter")
    account = (
        EidAccount.objects.select_related("person", "user").filter(pk=state["account"]).first()
    )
    if account is None or account_of(account.user) is None:
        return redirect("procedures:counter")
    try:
        app = open_application(
            state["procedure"], account.person, account, subject_id_number=state["subject"] or None
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("procedures:counter")
    if app.needs_subject_choice:
        messages.error(request, _("Thủ tục này cần số định danh của người mà hồ sơ nói đến."))
        return redirect("procedures:counter")
    if request.method == "GET":
        # The officer sees the citizen's (and the subject's) registry data in the form.
        log_access(
            request.user,
            person_ids=[account.person_id] + ([app.subject.pk] if app.subject else []),
            channel=Channel.UI,
            view="procedures:counter",
            fields=tuple(app.values) or ("id_number",),
            purpose="counter_filing",
        )
    form = ApplicationForm(
        request.POST or None,
        request.FILES or None,
        fields=app.fields,
        documents=app.document_specs(),
        prefill=app.values,
        province_id=account.person.residence_province_id,
        linked=app.linked,
        initial={"idempotency_key": uuid.uuid4().hex},
    )
    form.fields["consent_code"] = forms.CharField(
        label=_("Mã xác nhận công dân đọc từ tin nhắn"), max_length=6, min_length=6
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = services.submit_application(
                request.user,
                app=app,
                data=form.field_data(),
                uploads=form.uploads(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                consent_code=form.cleaned_data["consent_code"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            del request.session["counter"]
            messages.success(
                request, _("Đã nộp hồ sơ %(code)s thay công dân.") % {"code": result.code}
            )
            first = result.dossier or result.bundle.dossiers.order_by("part_index").first()  # type: ignore[union-attr]  # one is set
            if first is not None and selectors.officer_can_see(request.user, first.code):
                return redirect("procedures:office_dossier", first.code)
            return redirect("procedures:counter")
    sources = {name: str(source_label(src)) for name, (_v, src) in app.values.items()}
    return render(
        request,
        "procedures/officer/counter_file.html",
        {"form": form, "app": app, "sources": sources, "citizen": account.person},
    )

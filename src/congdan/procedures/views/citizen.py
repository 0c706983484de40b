"""The citizen's pages: the catalogue, applying (with prefill), and their dossiers."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from congdan.core.errors import DomainError, NotFound, ValidationFailed
from congdan.core.text import fold
from congdan.core.web import add_domain_error
from congdan.identity.decorators import citizen_required
from congdan.procedures import selectors, services, wallet_reuse
from congdan.procedures.application import Application, open_application
from congdan.procedures.forms import ApplicationForm, upload_problem
from congdan.procedures.models import Dossier, DossierStatus
from congdan.procedures.prefill import log_prefill, source_label
from congdan.procedures.specs import catalogue
from congdan.wallet.models import Document

SUPPLEMENT_MAX_MB = 5


def catalogue_view(request: HttpRequest) -> HttpResponse:
    """The searchable catalogue (public: anyone may read what a procedure needs)."""
    cat = catalogue()
    query = fold(request.GET.get("q", ""))[:100]
    category = request.GET.get("category", "")

    def matches(*texts: Any) -> bool:
        return not query or any(query in fold(f"{t.vi} {t.en}") for t in texts)

    procedures = [
        p
        for p in cat.procedures.values()
        if matches(p.name, p.summary) and (not category or p.category == category)
    ]
    bundles = [b for b in cat.bundles.values() if matches(b.name, b.summary) and not category]
    return render(
        request,
        "procedures/catalogue.html",
        {
            "procedures": sorted(procedures, key=lambda p: str(p.name)),
            "bundles": bundles,
            "query": request.GET.get("q", ""),
            "category": category,
        },
    )


def procedure_view(request: HttpRequest, code: str) -> HttpResponse:
    cat = catalogue()
    spec = cat.procedure(code)
    bundle = cat.bundle(code)
    if spec is None and bundle is None:
        raise Http404(_("Không tìm thấy thủ tục."))
    parts = [cat.procedures[p.procedure] for p in bundle.parts] if bundle else [spec]
    return render(
        request,
        "procedures/procedure.html",
        {"spec": spec, "bundle": bundle, "parts": parts, "code": code},
    )


def _open(request: HttpRequest, code: str, subject: str | None) -> Application:
    account = request.eid_account  # type: ignore[attr-defined]  # set by citizen_required
    return open_application(code, account.person, account, subject_id_number=subject)


def _form(
    app: Application,
    request: HttpRequest | None,
    draft: Dossier | None = None,
    wallet: dict[str, list[Document]] | None = None,
) -> ApplicationForm:
    kwargs: dict[str, Any] = {}
    if request is not None and request.method == "POST":
        kwargs = {"data": request.POST, "files": request.FILES}
    person = app.applicant.person
    return ApplicationForm(
        fields=app.fields,
        documents=app.document_specs(),
        prefill=app.values,
        province_id=person.residence_province_id,
        linked=app.linked,
        initial_data=draft.data if draft else None,
        initial={"idempotency_key": uuid.uuid4().hex},
        wallet=wallet,
        **kwargs,
    )


def _sources(app: Application) -> dict[str, str]:
    return {name: str(source_label(src)) for name, (_v, src) in app.values.items()}


def _save_draft(
    request: HttpRequest, app: Application, form: ApplicationForm, draft: Dossier | None
) -> HttpResponse | None:
    """Keep what the citizen typed (the valid fields) as a draft; None to show the form."""
    form.is_valid()
    data = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k in form.specs}
    try:
        saved = services.save_draft(
            request.user, app=app, data=data, code=draft.code if draft else None
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return None
    messages.success(request, _("Đã lưu bản nháp %(code)s.") % {"code": saved.code})
    return redirect("procedures:my_dossiers")


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_required
def apply_view(request: HttpRequest, code: str) -> HttpResponse:
    subject = request.POST.get("subject") or request.GET.get("subject")
    draft_code = request.POST.get("draft") or request.GET.get("draft")
    try:
        app = _open(request, code, subject)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(reverse("procedures:apply", args=[code]))
    draft = None
    if draft_code:
        draft = (
            selectors.dossiers_of_citizen(request.user)
            .filter(code=draft_code, status="draft")
            .first()
        )
    context: dict[str, Any] = {"app": app, "code": code, "draft": draft}
    if app.needs_subject_choice:
        context["choices"] = app.linked.get(app.subject_field.name, [])  # type: ignore[union-attr]  # needs_subject_choice implies a field
        return render(request, "procedures/choose_subject.html", context)
    # Required documents already in the wallet are offered, and chosen, instead of uploads.
    form = _form(app, request, draft, wallet_reuse.candidates(app))
    if app.subject is not None and request.method == "GET":
        # The form shows the relative's registry data: that is a read of it.
        shown = [f.name for f in app.fields if (f.prefill or "").startswith("subject.")]
        log_prefill(request.user, app.subject, code, shown)
    if request.method == "POST":
        if "save_draft" in request.POST:
            saved = _save_draft(request, app, form, draft)
            if saved is not None:
                return saved
        elif form.is_valid():
            try:
                result = services.submit_application(
                    request.user,
                    app=app,
                    data=form.field_data(),
                    uploads=form.uploads(),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    draft_code=draft.code if draft else None,
                    wallet_documents=form.wallet_choices(),
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Đã nộp hồ sơ %(code)s.") % {"code": result.code})
                if result.bundle is not None:
                    return redirect("procedures:my_bundle", result.bundle.code)
                return redirect("procedures:my_dossier", result.code)
    context.update({"form": form, "sources": _sources(app)})
    return render(request, "procedures/apply.html", context)


@never_cache
@citizen_required
def my_dossiers(request: HttpRequest) -> HttpResponse:
    dossiers = list(selectors.dossiers_of_citizen(request.user)[:100])
    cat = catalogue()
    names = {
        **{c: p.name for c, p in cat.procedures.items()},
        **{c: b.name for c, b in cat.bundles.items()},
    }
    rows = [
        {
            "dossier": d,
            "name": names.get(
                d.bundle.bundle_code if d.bundle else d.procedure_code, d.procedure_code
            ),
            "url": (
                reverse("procedures:my_bundle", args=[d.bundle.code])
                if d.bundle
                else reverse("procedures:apply", args=[d.procedure_code]) + f"?draft={d.code}"
                if d.status == DossierStatus.DRAFT
                else reverse("procedures:my_dossier", args=[d.code])
            ),
        }
        for d in dossiers
    ]
    return render(request, "procedures/my_dossiers.html", {"rows": rows})


def _dossier_context(dossiers: list[Dossier]) -> dict[str, Any]:
    cat = catalogue()
    return {
        "parts": [(d, cat.procedures.get(d.procedure_code)) for d in dossiers],
        "timeline": selectors.timeline(dossiers),
        "names": {c: p.name for c, p in cat.procedures.items()},
    }


@never_cache
@citizen_required
def my_dossier(request: HttpRequest, code: str) -> HttpResponse:
    try:
        dossier = selectors.dossier_for_citizen(request.user, code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if dossier.bundle is not None:
        return redirect("procedures:my_bundle", dossier.bundle.code)
    context = _dossier_context([dossier])
    context.update({"dossier": dossier, "spec": catalogue().procedure(dossier.procedure_code)})
    return render(request, "procedures/my_dossier.html", context)


@never_cache
@citizen_required
def my_bundle(request: HttpRequest, code: str) -> HttpResponse:
    try:
        bundle = selectors.bundle_for_citizen(request.user, code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    dossiers = list(
        bundle.dossiers.select_related("result_document", "subject").order_by("part_index")
    )
    context = _dossier_context(dossiers)
    fee = sum(d.fee_amount for d in dossiers)
    context.update(
        {
            "bundle": bundle,
            "spec": catalogue().bundle(bundle.bundle_code),
            "fee": fee,
            "awaiting_payment": any(d.status == DossierStatus.AWAITING_PAYMENT for d in dossiers),
            "first": dossiers[0] if dossiers else None,
        }
    )
    return render(request, "procedures/my_bundle.html", context)


def _back(dossier: Dossier) -> HttpResponse:
    if dossier.bundle_id is not None:
        return redirect("procedures:my_bundle", dossier.bundle.code)  # type: ignore[union-attr]  # bundle_id set
    return redirect("procedures:my_dossier", dossier.code)


@require_POST
@citizen_required
def dossier_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """Pay, withdraw, supplement or rate one of the citizen's dossiers."""
    try:
        dossier = selectors.dossier_for_citizen(request.user, code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    try:
        if action == "pay":
            return _pay(request, dossier)
        if action == "withdraw":
            services.withdraw_dossier(
                request.user, code=code, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Đã rút hồ sơ."))
        elif action == "supplement":
            uploads: dict[str, UploadedFile] = {}
            for key in request.FILES:
                upload = request.FILES.get(key)
                if key.startswith("doc_") and upload is not None:
                    uploads[key[4:]] = upload
            _check_uploads(uploads)
            services.supplement_dossier(
                request.user, code=code, note=request.POST.get("note", ""), uploads=uploads
            )
            messages.success(request, _("Đã gửi nội dung bổ sung."))
        elif action == "rate":
            try:
                rating = int(request.POST.get("rating", "0"))
            except ValueError:
                rating = 0
            services.rate_dossier(
                request.user, code=code, rating=rating, comment=request.POST.get("comment", "")
            )
            messages.success(request, _("Cảm ơn bạn đã đánh giá."))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return _back(dossier)


def _check_uploads(uploads: dict[str, UploadedFile]) -> None:
    for upload in uploads.values():
        problem = upload_problem(upload, SUPPLEMENT_MAX_MB)
        if problem is not None:
            raise ValidationFailed(problem, code="invalid_upload")


def _pay(request: HttpRequest, dossier: Dossier) -> HttpResponse:
    from congdan.payments import services as payments  # noqa: PLC0415 -- only when paying

    target: Any = dossier.bundle or dossier
    ref, amount, _parts = services.payable(target)
    if amount <= 0 or all(d.status != DossierStatus.AWAITING_PAYMENT for d in _parts):
        messages.info(request, _("Hồ sơ này không cần thanh toán."))
        return _back(dossier)
    payment = payments.start_payment(
        request.user,
        purpose="bundle" if dossier.bundle_id else "dossier",
        purpose_ref=ref,
        payer_person=dossier.applicant,
        amount=amount,
        description=_("Lệ phí hồ sơ %(code)s") % {"code": ref},
        return_path=(
            reverse("procedures:my_bundle", args=[ref])
            if dossier.bundle_id
            else reverse("procedures:my_dossier", args=[ref])
        ),
    )
    return redirect(payment.gateway_url)

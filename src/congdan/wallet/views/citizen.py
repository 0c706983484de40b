"""Citizen pages of the wallet ("Giấy tờ của tôi"): the list with its filters, one
document (fields, verdict, sharing, history), a share with its link and QR code, uploading
a scan, and downloads (the credential, the scan).

Views parse, call the selectors and services, render. A document the citizen may not see
is a 404. Every page works without JavaScript.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from congdan.core.errors import DomainError, NotFound
from congdan.core.web import add_domain_error
from congdan.identity.decorators import citizen_required
from congdan.identity.models import EidAccount
from congdan.registry.models import Person, Sex
from congdan.wallet import credentials, doctypes, keys, services
from congdan.wallet.files import scan_response
from congdan.wallet.forms import DocumentFilterForm, ShareForm, UploadForm
from congdan.wallet.models import CredentialFormat, Document, DocumentKind, Share
from congdan.wallet.selectors import (
    DocumentFilter,
    documents_for_citizen,
    filter_documents,
    get_document_for_citizen,
    get_share_for_citizen,
    shares_of,
    verify_document,
)
from congdan.wallet.services.sharing import share_url

# How many fields besides the name a card shows on its face.
CARD_FACE_FIELDS = 2
# Room for the upload form's other fields and the multipart boundaries.
UPLOAD_OVERHEAD = 64 * 1024


def _person(request: HttpRequest) -> Person:
    account: EidAccount = request.eid_account  # type: ignore[attr-defined]  # set by citizen_required
    return account.person


def _document(request: HttpRequest, number: str) -> Document:
    try:
        return get_document_for_citizen(_person(request), number)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def _display(key: str, value: Any) -> Any:
    if key == "sex" and value in Sex.values:
        return Sex(value).label
    if isinstance(value, bool):
        return gettext_lazy("Có") if value else gettext_lazy("Không")
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _claims(document: Document) -> dict[str, Any]:
    """What the document says: the verified credential's claims for an issued document
    (the stored copy for a scan)."""
    if document.kind == DocumentKind.ISSUED and document.credential:
        try:
            return credentials.all_claims(document)
        except ValueError:  # a damaged credential: the verdict says so; show the copy
            return dict(document.data)
    return dict(document.data)


def _fields(claims: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": key, "label": doctypes.field_label(key), "value": _display(key, value)}
        for key, value in claims.items()
    ]


def _card(document: Document) -> dict[str, Any]:
    """An integrated document as a card: colour, name, a couple of face fields, photo."""
    kind = doctypes.INTEGRATED.get(document.doc_type)
    data = document.data
    order = kind.fields if kind is not None else tuple(data)
    face_names = [
        n for n in order if n not in ("full_name", "owner_name", "portrait") and n in data
    ][:CARD_FACE_FIELDS]
    return {
        "document": document,
        "colour": kind.colour if kind is not None else "grey",
        "name": data.get("full_name") or data.get("owner_name") or document.holder.full_name,
        "face": [
            {"label": doctypes.field_label(n), "value": _display(n, data[n])} for n in face_names
        ],
        "portrait": data.get("portrait"),
    }


@never_cache
@require_GET
@citizen_required
def document_list(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    documents = documents_for_citizen(person)
    wanted = DocumentFilter.from_params(request.GET.dict())
    form = DocumentFilterForm(request.GET or None, documents=documents, person=person)
    shown = filter_documents(documents, person, wanted)
    own = [d for d in shown if d.holder_id == person.pk]
    # Cards in the order of doctypes.INTEGRATED (ID card first), newest first within a type.
    order = {code: i for i, code in enumerate(doctypes.INTEGRATED)}
    integrated = [d for d in own if d.integrated and d.kind == DocumentKind.ISSUED]
    integrated.sort(key=lambda d: order.get(d.doc_type, len(order)))
    cards = [_card(d) for d in integrated]
    carded = {c["document"].pk for c in cards}
    return render(
        request,
        "wallet/document_list.html",
        {
            "person": person,
            "form": form,
            "filtered": wanted.active,
            "has_documents": bool(documents),
            "cards": cards,
            "own": [d for d in own if d.pk not in carded],
            "children": [d for d in shown if d.holder_id != person.pk],
        },
    )


def _shareable(document: Document) -> bool:
    return document.kind == DocumentKind.ISSUED and bool(document.credential) and document.is_valid


def _share_form(document: Document, data: Any = None) -> ShareForm | None:
    """The share form, its claim choices read from the stored credential after bringing
    its age claims up to date (an ID card issued at 14 offers "over 18" once its holder
    is 18). None when the stored credential cannot be read (damaged, oversized): the
    page then shows the document with a notice that it cannot be shared."""
    try:
        services.refresh_age_claims(document)
        return ShareForm(data, document=document)
    except (ValueError, TypeError):  # JoseError is a ValueError: an unreadable credential
        return None


def _detail_context(
    request: HttpRequest,
    document: Document,
    share_form: ShareForm | None = None,
    *,
    unreadable: bool = False,
) -> dict[str, Any]:
    person = _person(request)
    shareable = _shareable(document) and not unreadable
    if shareable and share_form is None:
        share_form = _share_form(document)
        unreadable = share_form is None
    shares = shares_of(document)
    return {
        "document": document,
        "fields": _fields(_claims(document)),
        "card": _card(document) if document.integrated else None,
        "verdict": verify_document(document),
        "is_child": document.holder_id != person.pk,
        "is_upload": document.kind == DocumentKind.UPLOADED,
        "share_form": share_form if shareable else None,
        "unreadable": unreadable,
        "whole": document.credential_format == CredentialFormat.JWS,
        "active_shares": [s for s in shares if s.is_active],
        "past_shares": [s for s in shares if not s.is_active],
        "can_revoke": {s.pk for s in shares if person.pk in (s.shared_by_id, document.holder_id)},
        "events": list(document.events.select_related("share").order_by("-at", "-id")),
        "jwks_uri": keys.jwks_uri(document.issuer) if document.issuer else "",
    }


@never_cache
@require_GET
@citizen_required
def document_detail(request: HttpRequest, number: str) -> HttpResponse:
    document = _document(request, number)
    return render(request, "wallet/document_detail.html", _detail_context(request, document))


@never_cache
@require_POST
@citizen_required
def document_share(request: HttpRequest, number: str) -> HttpResponse:
    """The "Chia sẻ" form: share the ticked fields, then show the share's link and QR."""
    person = _person(request)
    document = _document(request, number)
    form = _share_form(document, request.POST) if _shareable(document) else None
    if form is None:  # an upload, not valid, or an unreadable credential
        context = _detail_context(request, document, unreadable=_shareable(document))
        messages.error(request, _("Giấy tờ này không chia sẻ được."))
        return render(request, "wallet/document_detail.html", context, status=400)
    if form.is_valid():
        try:
            share = services.create_share(
                person,
                number=document.number,
                claims=form.cleaned_data.get("claims", []),
                valid_minutes=form.cleaned_data["valid_minutes"],
                note=form.cleaned_data["note"],
            )
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Đã tạo lượt chia sẻ."))
            return redirect("wallet:share", document.number, share.pk)
    context = _detail_context(request, document, share_form=form)
    return render(request, "wallet/document_detail.html", context, status=400)


def _share(request: HttpRequest, number: str, share_id: int) -> Share:
    try:
        return get_share_for_citizen(_person(request), number, share_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


@never_cache
@require_GET
@citizen_required
def share_detail(request: HttpRequest, number: str, share_id: int) -> HttpResponse:
    """A share: its link, its QR code (the presentation itself when it fits, else the
    link), what it discloses, until when; and "Thu hồi"."""
    person = _person(request)
    share = _share(request, number, share_id)
    link = share_url(share.token)
    return render(
        request,
        "wallet/share_detail.html",
        {
            "share": share,
            "document": share.document,
            "link": link,
            "qr_text": share.presentation if share.fits_qr else link,
            "claim_labels": [doctypes.field_label(c) for c in share.claims],
            "can_revoke": person.pk in (share.shared_by_id, share.document.holder_id),
        },
    )


@never_cache
@require_POST
@citizen_required
def share_revoke(request: HttpRequest, number: str, share_id: int) -> HttpResponse:
    person = _person(request)
    share = _share(request, number, share_id)
    try:
        services.revoke_share(person, share_id=share.pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Đã thu hồi lượt chia sẻ."))
    target = request.POST.get("next", "")
    if target == "document":
        return redirect("wallet:document", number)
    return redirect("wallet:share", number, share.pk)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt  # checked by csrf_protect below, once the body is known to be small enough
@never_cache
@require_http_methods(["GET", "POST"])
@citizen_required
def document_upload(request: HttpRequest) -> HttpResponse:
    """Upload a scan of a paper (PDF, JPEG, PNG); it stays unverified until an officer
    checks it.

    A request whose declared size is over the limit is refused before its body is read:
    CsrfViewMiddleware would otherwise parse (and spool to disk) the whole upload before
    the view runs, so this view is CSRF-exempt and checks CSRF itself afterwards.
    """
    limit = int(settings.WALLET_UPLOAD_MAX_BYTES)
    if request.method == "POST" and _declared_length(request) > limit + UPLOAD_OVERHEAD:
        mb = f"{limit / (1024 * 1024):g}"
        return render(
            request,
            "wallet/upload.html",
            {
                "form": UploadForm(),
                "upload_error": _("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": mb},
            },
            status=413,
        )
    return _document_upload(request)


@csrf_protect
def _document_upload(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.upload_scan(
                person,
                file=data["file"],
                title=data["title"],
                doc_type=data["doc_type"],
                claimed_issuer=data["claimed_issuer"],
                issue_date=data["issue_date"],
                note=data["note"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("Đã tải lên bản chụp. Bản chụp chưa được cơ quan nhà nước xác thực.")
            )
            return redirect("wallet:document", document.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "wallet/upload.html", {"form": form}, status=status)


@never_cache
@require_GET
@citizen_required
def document_scan(request: HttpRequest, number: str) -> FileResponse:
    """The holder's (or a parent's) own uploaded scan."""
    return scan_response(_document(request, number))


@never_cache
@require_GET
@citizen_required
def document_download(request: HttpRequest, number: str) -> HttpResponse:
    """The credential as issued: an SD-JWT VC (``<JWT>~<disclosures>~``) or a compact
    JWS, as a file a verifier or another wallet can read."""
    document = _document(request, number)
    if not document.credential or document.issuer is None:
        raise Http404
    media = (
        "application/dc+sd-jwt"
        if document.credential_format == CredentialFormat.SD_JWT_VC
        else "application/jwt"
    )
    response = HttpResponse(document.credential.encode("ascii"), content_type=media)
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", document.number)
    suffix = "sd-jwt" if document.credential_format == CredentialFormat.SD_JWT_VC else "jwt"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{suffix}"'
    response["Link"] = f'<{keys.jwks_uri(document.issuer)}>; rel="jwks"'
    return response

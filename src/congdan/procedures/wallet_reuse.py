"""Reuse of wallet documents in an application (once-only for papers).

A document a procedure asks for may name the wallet document types that satisfy it
(``wallet_types`` in the spec). When the applicant's wallet — their own documents, or the
documents of the subject when the subject is their child under 18 — holds a usable one,
the form attaches it instead of asking for an upload. Usable means valid now (not
revoked, suspended or expired) and either issued by an agency or an uploaded scan an
officer has verified.

The wallet is read through ``wallet.selectors`` (a parent's read of a child's document is
access-logged there); the submission checks the chosen documents again, locked, inside
its transaction (``check_chosen``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import NotFound, ValidationFailed
from congdan.wallet import selectors as wallet_selectors
from congdan.wallet.models import Document, DocumentKind, UploadState

if TYPE_CHECKING:
    from congdan.procedures.application import Application
    from congdan.procedures.specs import DocumentSpec
    from congdan.registry.models import Person

FIELD_PREFIX = "wallet_"


def field_name(code: str) -> str:
    """The form field that carries the chosen wallet document of requirement ``code``."""
    return f"{FIELD_PREFIX}{code}"


def holders(app: Application) -> set[int]:
    """Whose documents may satisfy a requirement: the applicant's and the subject's."""
    ids = {app.applicant.person.pk}
    if app.subject is not None:
        ids.add(app.subject.pk)
    return ids


def usable(document: Document, doc: DocumentSpec, holder_ids: set[int]) -> bool:
    """Whether ``document`` may stand for requirement ``doc`` now."""
    if document.doc_type not in doc.wallet_types or document.holder_id not in holder_ids:
        return False
    if not document.is_valid:
        return False
    if document.kind == DocumentKind.ISSUED:
        return bool(document.credential)
    return document.kind == DocumentKind.UPLOADED and document.upload_state == UploadState.VERIFIED


def candidates(app: Application) -> dict[str, list[Document]]:
    """For each asked-for document with ``wallet_types``, the usable wallet documents:
    issued ones first, then verified scans, newest first. Requirements without one are
    left out (the form asks for an upload)."""
    wanted = [doc for doc in app.document_specs() if doc.wallet_types]
    if not wanted:
        return {}
    documents = wallet_selectors.documents_for_citizen(app.applicant.person)
    holder_ids = holders(app)
    found: dict[str, list[Document]] = {}
    for doc in wanted:
        usable_ones = [d for d in documents if usable(d, doc, holder_ids)]
        if usable_ones:
            # Stable sort: documents_for_citizen lists the newest first.
            usable_ones.sort(key=lambda d: d.kind != DocumentKind.ISSUED)
            found[doc.code] = usable_ones
    return found


def _refuse(code: str, message: Promise, reason: str) -> ValidationFailed:
    return ValidationFailed(message, code=reason, field=field_name(code))


def check_chosen(app: Application, chosen: dict[str, str]) -> dict[str, Document]:
    """The wallet documents ``chosen`` names (requirement code → document number), each
    checked: asked for with ``wallet_types``, visible to the applicant, of an allowed type,
    the applicant's or the subject's, usable now. Locks the documents' rows (call inside
    the submission's transaction): a revocation cannot slip in between check and use.
    Raises ``ValidationFailed`` on the ``wallet_<code>`` field otherwise."""
    specs = {doc.code: doc for doc in app.document_specs()}
    person: Person = app.applicant.person
    holder_ids = holders(app)
    result: dict[str, Document] = {}
    for code, number in chosen.items():
        doc = specs.get(code)
        if doc is None or not doc.wallet_types:
            raise _refuse(
                code,
                _("Giấy tờ này không thể lấy từ Kho giấy tờ; vui lòng tải tệp lên."),
                "wallet_not_allowed",
            )
        try:
            visible = wallet_selectors.get_document_for_citizen(person, str(number))
        except NotFound as exc:
            raise _refuse(
                code,
                _("Giấy tờ đã chọn không có trong Kho giấy tờ của bạn."),
                "wallet_document_not_found",
            ) from exc
        document = Document.objects.select_for_update(of=("self",)).get(pk=visible.pk)
        if document.doc_type not in doc.wallet_types or document.holder_id not in holder_ids:
            raise _refuse(
                code,
                _("Giấy tờ đã chọn không phải loại giấy tờ thủ tục này yêu cầu."),
                "wallet_wrong_type",
            )
        if not usable(document, doc, holder_ids):
            raise _refuse(
                code,
                _(
                    "Giấy tờ đã chọn không còn hiệu lực (bị thu hồi, tạm đình chỉ, hết hạn) "
                    "hoặc là bản chụp chưa được xác thực; vui lòng chọn giấy tờ khác hoặc "
                    "tải tệp lên."
                ),
                "wallet_document_unusable",
            )
        result[code] = document
    return result

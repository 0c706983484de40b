"""Serving a stored scan: the one response every view that shows one uses (the holder's
page, the officers' check page, a dossier's attached wallet document).

A scan is personal data and has no public media URL: it is served inline, never cached
(``Cache-Control: private, no-store``; views add ``never_cache``), never sniffed into
another type, and sandboxed (a PDF's scripts, an image's markup do nothing). A missing
stored file is a 404, never a 500.
"""

from __future__ import annotations

import re

from django.http import FileResponse, Http404

from congdan.wallet.models import Document, DocumentKind

SUFFIXES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
SCAN_CSP = "default-src 'none'; img-src 'self'; sandbox"


def scan_response(document: Document) -> FileResponse:
    """An uploaded document's stored scan, inline; Http404 when it has none or the stored
    file is gone."""
    if document.kind != DocumentKind.UPLOADED or not document.file:
        raise Http404
    try:
        handle = document.file.open("rb")
    except OSError as exc:  # the row names a file the storage no longer has
        raise Http404 from exc
    response = FileResponse(handle, content_type=document.content_type)
    suffix = SUFFIXES.get(document.content_type, "bin")
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", document.number)
    response["Content-Disposition"] = f'inline; filename="{filename}.{suffix}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SCAN_CSP
    return response


__all__ = ["scan_response"]

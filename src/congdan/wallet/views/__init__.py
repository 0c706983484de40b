"""Wallet views: ``citizen`` (my documents, sharing, uploads), ``officer`` (checking
uploaded scans), ``public`` (issuer keys and status lists)."""

from congdan.wallet.views.citizen import (
    document_detail,
    document_download,
    document_list,
    document_scan,
    document_share,
    document_upload,
    share_detail,
    share_revoke,
)
from congdan.wallet.views.officer import upload_check, upload_queue, upload_scan_file
from congdan.wallet.views.public import issuer, issuer_jwks, issuer_metadata, status_list

__all__ = [
    "document_detail",
    "document_download",
    "document_list",
    "document_scan",
    "document_share",
    "document_upload",
    "issuer",
    "issuer_jwks",
    "issuer_metadata",
    "share_detail",
    "share_revoke",
    "status_list",
    "upload_check",
    "upload_queue",
    "upload_scan_file",
]

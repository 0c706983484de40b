"""Wallet views: ``citizen`` (my documents), ``public`` (issuer keys and status lists)."""

from congdan.wallet.views.citizen import document_detail, document_download, document_list
from congdan.wallet.views.public import issuer, issuer_jwks, issuer_metadata, status_list

__all__ = [
    "document_detail",
    "document_download",
    "document_list",
    "issuer",
    "issuer_jwks",
    "issuer_metadata",
    "status_list",
]

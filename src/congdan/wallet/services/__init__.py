"""The wallet's state changes (DESIGN rule 1), one module per concern:

- ``issuing``: issue a document, revoke / suspend / reinstate it;
- ``sharing``: share chosen fields by link or QR, revoke a share;
- ``uploads``: a citizen uploads a scan, an officer verifies it;
- ``consents``: a citizen lets a requester system pull documents.
"""

from congdan.wallet.services.issuing import (
    ADULT_AGE,
    change_status,
    create_issued,
    issue_document,
    refresh_age_claims,
    reinstate_document,
    revoke_document,
    suspend_document,
)
from congdan.wallet.services.sharing import create_share, revoke_share
from congdan.wallet.services.uploads import check_upload, upload_scan

__all__ = [
    "ADULT_AGE",
    "change_status",
    "check_upload",
    "create_issued",
    "create_share",
    "issue_document",
    "refresh_age_claims",
    "reinstate_document",
    "revoke_document",
    "revoke_share",
    "suspend_document",
    "upload_scan",
]

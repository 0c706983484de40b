"""Wallet URLs: the citizen's documents under /me/documents/, and the issuers' public
keys and status lists under /wallet/issuers/<agency code>/."""

from django.urls import URLPattern, URLResolver, path, register_converter

from congdan.wallet import views
from congdan.wallet.views import consents as consent_views
from congdan.wallet.views import verify as verify_views


class _Safe:
    """A path segment of plain ASCII letters, digits and ``_ . -``: anything else (a NUL,
    which PostgreSQL cannot compare, spaces, Unicode look-alikes) does not match and is a
    404 before any view or query runs."""

    regex = r"[A-Za-z0-9_.-]{1,120}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class _Token(_Safe):
    regex = r"[A-Za-z0-9_-]{8,64}"


register_converter(_Safe, "safe")
register_converter(_Token, "token")

app_name = "wallet"
urlpatterns: list[URLPattern | URLResolver] = [
    path("me/documents/", views.document_list, name="documents"),
    # Uploads, sharing, scans (upload/ before the <number> catch-all); officers' checks.
    path("me/documents/upload/", views.document_upload, name="upload"),
    path("me/documents/<safe:number>/share/", views.document_share, name="document_share"),
    path("me/documents/<safe:number>/scan/", views.document_scan, name="document_scan"),
    path("me/documents/<safe:number>/shares/<int:share_id>/", views.share_detail, name="share"),
    path(
        "me/documents/<safe:number>/shares/<int:share_id>/revoke/",
        views.share_revoke,
        name="share_revoke",
    ),
    path("office/documents/uploads/", views.upload_queue, name="office_uploads"),
    path("office/documents/uploads/<safe:number>/", views.upload_check, name="office_upload"),
    path(
        "office/documents/uploads/<safe:number>/scan/",
        views.upload_scan_file,
        name="office_upload_scan",
    ),
    # Issued documents of the officer's agency: find, then suspend / reinstate / revoke.
    path("office/documents/", views.officer.office_documents, name="office_documents"),
    path("office/documents/<safe:number>/", views.officer.office_document, name="office_document"),
    path(
        "office/documents/<safe:number>/status/",
        views.officer.office_document_status,
        name="office_document_status",
    ),
    # Pull consents (before the <number> catch-all).
    path("me/documents/consents/", consent_views.consent_list, name="consents"),
    path(
        "me/documents/consents/<int:consent_id>/revoke/",
        consent_views.consent_revoke,
        name="consent_revoke",
    ),
    path("me/documents/<safe:number>/", views.document_detail, name="document"),
    path(
        "me/documents/<safe:number>/download/",
        views.document_download,
        name="document_download",
    ),
    # Issuer identifier (``iss``), its JWKS and status lists: public, stable URLs.
    path("wallet/issuers/<safe:code>", views.issuer, name="issuer"),
    path("wallet/issuers/<safe:code>/jwks.json", views.issuer_jwks, name="issuer_jwks"),
    path(
        "wallet/issuers/<safe:code>/status/<int:number>",
        views.status_list,
        name="status_list",
    ),
    # Public verifier (Helper A): paste a presentation, open a share link, offline page.
    path("verify/", verify_views.verify, name="verify"),
    path("verify/offline/", verify_views.verify_offline, name="verify_offline"),
    path("v/<token:token>/", verify_views.share_link, name="share_link"),
    path(
        ".well-known/jwt-vc-issuer/wallet/issuers/<safe:code>",
        views.issuer_metadata,
        name="issuer_metadata",
    ),
]

"""Wallet URLs: the citizen's documents under /me/documents/, and the issuers' public
keys and status lists under /wallet/issuers/<agency code>/."""

from django.urls import URLPattern, URLResolver, path

from congdan.wallet import views

app_name = "wallet"
urlpatterns: list[URLPattern | URLResolver] = [
    path("me/documents/", views.document_list, name="documents"),
    path("me/documents/<str:number>/", views.document_detail, name="document"),
    path(
        "me/documents/<str:number>/download/",
        views.document_download,
        name="document_download",
    ),
    # Issuer identifier (``iss``), its JWKS and status lists: public, stable URLs.
    path("wallet/issuers/<str:code>", views.issuer, name="issuer"),
    path("wallet/issuers/<str:code>/jwks.json", views.issuer_jwks, name="issuer_jwks"),
    path(
        "wallet/issuers/<str:code>/status/<int:number>",
        views.status_list,
        name="status_list",
    ),
    path(
        ".well-known/jwt-vc-issuer/wallet/issuers/<str:code>",
        views.issuer_metadata,
        name="issuer_metadata",
    ),
]

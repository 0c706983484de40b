"""Wallet URLs: the citizen's documents under /me/documents/."""

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
]

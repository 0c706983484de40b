"""Identity URLs: each part of the app has its own module (account, oidc, officer)."""

from django.urls import include, path

app_name = "identity"
urlpatterns = [
    path("", include("congdan.identity.urls_account")),
    path("", include("congdan.identity.urls_oidc")),
    path("", include("congdan.identity.urls_officer")),
]

"""Identity URLs (oidc). Paths are relative to the site root: these are included
before django-oauth-toolkit's ``o/`` URLs, so the views here replace DOT's at the same
paths (authorize, discovery, JWKS, introspection, logout); DOT's reverse names still
resolve to the same paths."""

from django.urls import URLPattern, URLResolver, path, re_path

from congdan.identity.views import oidc

urlpatterns: list[URLPattern | URLResolver] = [
    path(".well-known/openid-configuration", oidc.discovery, name="oidc_discovery"),
    re_path(r"^o/\.well-known/openid-configuration/?$", oidc.discovery),
    path("o/.well-known/jwks.json", oidc.jwks, name="oidc_jwks"),
    path("o/authorize/", oidc.AuthorizeView.as_view(), name="oidc_authorize"),
    path("o/token/", oidc.TokenEndpointView.as_view(), name="oidc_token"),
    path("o/introspect/", oidc.IntrospectView.as_view(), name="oidc_introspect"),
    path("o/logout/", oidc.LogoutView.as_view(), name="oidc_logout"),
    path("oidc/level2-required/", oidc.level2_required, name="level2_required"),
    path("me/login/", oidc.portal_login, name="portal_login"),
    path("me/callback/", oidc.portal_callback, name="portal_callback"),
    path("me/logout/", oidc.portal_logout, name="portal_logout"),
    path("me/services/", oidc.connected_services, name="connected_services"),
    path("me/services/<int:consent_id>/revoke/", oidc.revoke_consent, name="revoke_consent"),
]

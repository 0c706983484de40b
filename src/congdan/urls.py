from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from oauth2_provider import urls as oauth2_urls

from congdan.api import api
from congdan.core.views import dev_outbox, healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("dev/outbox", dev_outbox, name="dev_outbox"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("registry/", include("congdan.registry.urls")),
    path("payments/", include("congdan.payments.urls")),
    path("", include("congdan.wallet.urls")),
    path("", include("congdan.exchange.urls")),
    path("monitoring/", include("congdan.monitoring.urls")),
    path("", include("congdan.procedures.urls")),
    # identity first: it overrides some of django-oauth-toolkit's views under /o/.
    path("", include("congdan.identity.urls")),
    # Only the protocol endpoints of django-oauth-toolkit: its application-management
    # pages would let any logged-in user register a client (relying parties are
    # registered in the admin or with `congdan oidc_client`, docs/oidc.md).
    path(
        "o/",
        include((oauth2_urls.base_urlpatterns + oauth2_urls.oidc_urlpatterns, "oauth2_provider")),
    ),
    path("", include("congdan.portal.urls")),
]

if settings.CONGDAN_BENCH_ENDPOINTS:
    from congdan.core.views import bench_person_pk

    urlpatterns.append(path("bench/person/<int:pk>", bench_person_pk))

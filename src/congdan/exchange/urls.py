"""Exchange pages: the citizen's data tracker and consents under /me/data/, the
data-protection officer's supervision under /supervision/access/. (The member API is
mounted with the project's API, not here.)"""

from django.urls import URLPattern, URLResolver, path

from congdan.exchange.views import consents, supervision, tracker

app_name = "exchange"
urlpatterns: list[URLPattern | URLResolver] = [
    path("me/data/access/", tracker.tracker, name="tracker"),
    path("me/data/access/export.csv", tracker.tracker_export, name="tracker_export"),
    path("me/data/consents/", consents.consent_list, name="consents"),
    path(
        "me/data/consents/<int:consent_id>/revoke/",
        consents.consent_revoke,
        name="consent_revoke",
    ),
    path("supervision/access/", supervision.volumes, name="supervision"),
    path("supervision/access/export.csv", supervision.volumes_export, name="supervision_export"),
    path("supervision/access/anomalies/", supervision.anomaly_list, name="anomalies"),
    path("supervision/access/finding/", supervision.finding_entries, name="finding"),
]

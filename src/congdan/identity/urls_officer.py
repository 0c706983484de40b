"""Identity URLs (officer pages and the citizen's level-2 request)."""

from django.urls import URLPattern, URLResolver, path

from congdan.identity.views import level2, officer

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/level2/", level2.level2_request, name="level2_request"),
    path("id/officer/level2/", officer.level2_queue, name="level2_queue"),
    path("id/officer/level2/<int:account_id>/", officer.level2_verify, name="level2_verify"),
    path(
        "id/officer/level2/<int:account_id>/portrait/",
        officer.level2_portrait,
        name="level2_portrait",
    ),
    path(
        "id/officer/level2/request/<int:request_id>/reject/",
        officer.level2_reject,
        name="level2_reject",
    ),
    path("id/officer/reports/", officer.report_queue, name="report_queue"),
    path("id/officer/reports/<int:report_id>/", officer.report_resolve, name="report_resolve"),
]

from django.urls import path

from congdan.procedures.views import citizen, officer

app_name = "procedures"
urlpatterns = [
    path("services/", citizen.catalogue_view, name="catalogue"),
    path("services/<slug:code>/", citizen.procedure_view, name="procedure"),
    path("services/<slug:code>/apply/", citizen.apply_view, name="apply"),
    path("me/dossiers/", citizen.my_dossiers, name="my_dossiers"),
    path("me/dossiers/<slug:code>/", citizen.my_dossier, name="my_dossier"),
    path(
        "me/dossiers/<slug:code>/<slug:action>/", citizen.dossier_action, name="my_dossier_action"
    ),
    path("me/bundles/<slug:code>/", citizen.my_bundle, name="my_bundle"),
    path("office/dossiers/", officer.queue_view, name="office_queue"),
    path("office/dossiers/<slug:code>/", officer.dossier_view, name="office_dossier"),
    path(
        "office/dossiers/<slug:code>/files/<int:attachment_id>/",
        officer.attachment_view,
        name="office_attachment",
    ),
    path(
        "office/dossiers/<slug:code>/wallet/<int:attachment_id>/",
        officer.wallet_document_view,
        name="office_wallet_document",
    ),
    path(
        "office/dossiers/<slug:code>/<slug:action>/",
        officer.dossier_action,
        name="office_dossier_action",
    ),
    path("office/counter/", officer.counter_view, name="counter"),
    path("office/counter/file/", officer.counter_file, name="counter_file"),
]

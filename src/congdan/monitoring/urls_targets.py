"""URL patterns of the targets page and the Decision 766 weights; the app's ``urls.py``
(namespace ``monitoring``, mounted at ``monitoring/``) includes them."""

from __future__ import annotations

from django.urls import path

from congdan.monitoring.views import targets

urlpatterns = [
    path("targets/", targets.target_list, name="targets"),
    path("targets/set/", targets.target_set, name="target_set"),
    path("targets/<int:pk>/remove/", targets.target_remove, name="target_remove"),
    path("targets/weights/", targets.target_weights, name="target_weights"),
]

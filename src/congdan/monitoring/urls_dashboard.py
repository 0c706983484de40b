"""URL patterns of the programme dashboards; the app's ``urls.py`` (namespace
``monitoring``, mounted at ``monitoring/``) includes them."""

from __future__ import annotations

from django.urls import path

from congdan.monitoring.views import dashboard

urlpatterns = [
    path("", dashboard.overview, name="dashboard"),
    path("kpi/<slug:code>/", dashboard.kpi_detail, name="kpi"),
]

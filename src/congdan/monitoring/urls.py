"""URLs of the monitoring app, mounted at ``/monitoring/``: dashboards, the task tracker,
working groups and paper dossier counts."""

from congdan.monitoring import urls_dashboard, urls_tasks

app_name = "monitoring"

urlpatterns = [*urls_dashboard.urlpatterns, *urls_tasks.urlpatterns]

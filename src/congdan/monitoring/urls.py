"""URLs of the monitoring app, mounted at ``/monitoring/``: dashboards, the task tracker,
working groups, paper dossier counts and targets."""

from congdan.monitoring import urls_dashboard, urls_targets, urls_tasks

app_name = "monitoring"

urlpatterns = [
    *urls_dashboard.urlpatterns,
    *urls_tasks.urlpatterns,
    *urls_targets.urlpatterns,
]

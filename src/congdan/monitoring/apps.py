from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "congdan.monitoring"
    label = "monitoring"
    verbose_name = _("Theo dõi Đề án 06")

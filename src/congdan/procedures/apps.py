from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "congdan.procedures"
    label = "procedures"
    verbose_name = _("Thủ tục hành chính và hồ sơ")

    def ready(self) -> None:
        from congdan.procedures import receivers  # noqa: F401, PLC0415 -- connects signal receivers

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "congdan.identity"
    label = "identity"
    verbose_name = _("Định danh điện tử")

    def ready(self) -> None:
        from congdan.identity import receivers  # noqa: F401, PLC0415 -- connects registry signals

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "congdan.wallet"
    label = "wallet"
    verbose_name = _("Kho giấy tờ điện tử")

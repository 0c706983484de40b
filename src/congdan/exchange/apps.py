from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "congdan.exchange"
    label = "exchange"
    verbose_name = _("Chia sẻ dữ liệu với tổ chức thành viên")

"""Payment gateways: the interface (``base``), the built-in sandbox, and the one in use.

``get_gateway()`` returns the gateway named by ``CONGDAN_PAYMENT_GATEWAY`` (a dotted path
to a class implementing ``base.PaymentGateway``). docs/payments.md shows how to plug in a
real one.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils.module_loading import import_string

from congdan.payments.gateways.base import PaymentGateway


@functools.cache
def _gateway(path: str) -> PaymentGateway:
    gateway: PaymentGateway = import_string(path)()
    return gateway


def get_gateway() -> PaymentGateway:
    return _gateway(settings.CONGDAN_PAYMENT_GATEWAY)

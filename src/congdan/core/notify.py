"""Notification channels: SMS and e-mail to citizens, behind one small interface.

Services call ``send_sms`` / ``send_email`` (usually from ``transaction.on_commit``); the
backend named by ``CONGDAN_NOTIFY_BACKEND`` delivers. Two backends ship:

* ``OutboxBackend`` stores messages in ``core.OutboxMessage`` and shows them at
  ``/dev/outbox``. Settings allow it only with DEBUG or CONGDAN_DEMO on.

A real SMS gateway is an external border: implement ``NotificationBackend`` in a module
of your own and name it in ``CONGDAN_NOTIFY_BACKEND`` (docs/identity.md).

Message bodies may carry one-time codes, so nothing here logs them.
"""

from __future__ import annotations

import functools
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from congdan.core.models import OutboxMessage


class NotificationBackend(Protocol):
    def send(self, *, channel: str, recipient: str, body: str) -> None: ...


class OutboxBackend:
    def send(self, *, channel: str, recipient: str, body: str) -> None:
        OutboxMessage.objects.create(channel=channel, recipient=recipient, body=body)


@functools.cache
def _backend(path: str) -> NotificationBackend:
    backend: NotificationBackend = import_string(path)()
    return backend


def backend() -> NotificationBackend:
    return _backend(settings.CONGDAN_NOTIFY_BACKEND)


def send_sms(phone: str, body: str) -> None:
    backend().send(channel="sms", recipient=phone, body=body)


def send_email(address: str, body: str) -> None:
    backend().send(channel="email", recipient=address, body=body)

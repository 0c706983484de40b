"""Admin of payments: read-only (payments change only through ``services``).

The payer's identity is left out of these pages: reading whose payment it is goes
through the procedures app, which scopes by jurisdiction and logs the access.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from congdan.core.admin import PermissionAdmin
from congdan.payments.models import Payment, PaymentEvent, SandboxTransaction

PAYMENT_FIELDS = (
    "reference",
    "purpose",
    "purpose_ref",
    "amount",
    "description",
    "status",
    "gateway",
    "gateway_txn",
    "created_at",
    "expires_at",
    "paid_at",
    "receipt_number",
    "refunded_at",
    "refund_reason",
    "return_path",
)


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    fields = ("at", "kind", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(PermissionAdmin):
    list_display = ("reference", "purpose", "purpose_ref", "amount", "status", "created_at")
    list_filter = ("status", "purpose", "gateway")
    search_fields = ("=reference", "=purpose_ref", "=receipt_number")
    fields = PAYMENT_FIELDS
    readonly_fields = PAYMENT_FIELDS
    inlines = (PaymentEventInline,)
    date_hierarchy = "created_at"


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(PermissionAdmin):
    list_display = ("txn", "reference", "amount", "status", "response_code", "created_at")
    list_filter = ("status",)
    search_fields = ("=reference", "=txn")
    readonly_fields = (
        "txn",
        "reference",
        "amount",
        "description",
        "return_url",
        "status",
        "response_code",
        "card_last4",
        "created_at",
        "expires_at",
        "paid_at",
        "refunded_amount",
    )

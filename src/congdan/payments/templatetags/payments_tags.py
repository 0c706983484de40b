"""Template filters of the payments app."""

from __future__ import annotations

from django import template

from congdan.payments.fees import format_dong

register = template.Library()


@register.filter
def dong(amount: int | None) -> str:
    """``{{ payment.amount|dong }}`` → ``1.000.000 ₫``."""
    return "" if amount is None else format_dong(int(amount))

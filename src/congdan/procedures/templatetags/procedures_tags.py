"""Small template filters of the dossier pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``mapping[key]``, or "" when absent (for dicts passed to a template)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def display_value(value: Any) -> str:
    """A form value as the citizen typed it (booleans as Có/Không)."""
    from django.utils.translation import gettext as _  # noqa: PLC0415 -- per call, per language

    if value is True:
        return _("Có")
    if value is False:
        return _("Không")
    if value in (None, ""):
        return "—"
    return str(value)


@register.filter
def status_label(value: str) -> str:
    from congdan.procedures.models import DossierStatus  # noqa: PLC0415 -- app registry ready

    return str(DossierStatus(value).label) if value in DossierStatus.values else value

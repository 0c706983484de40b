"""Names of catalogue services and purposes in the active language (the database keeps
the Vietnamese names the catalogue was loaded with)."""

from __future__ import annotations

from django import template

from congdan.exchange import catalogue
from congdan.exchange.models import DataService, ServicePurpose

register = template.Library()

_PURPOSES = {
    (service.code, purpose.code): purpose
    for service in catalogue.SERVICES
    for purpose in service.purposes
}


@register.filter
def service_label(service: DataService) -> str:
    spec = catalogue.SERVICE_BY_CODE.get(service.code)
    return str(spec.name) if spec is not None else service.name


@register.filter
def purpose_label(purpose: ServicePurpose, service: DataService) -> str:
    """``{{ consent.purpose|purpose_label:consent.service }}``."""
    spec = _PURPOSES.get((service.code, purpose.code))
    return str(spec.name) if spec is not None else purpose.name

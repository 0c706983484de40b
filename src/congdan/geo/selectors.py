"""Reads of administrative units (reference data: no jurisdiction scoping, no access log).

Lookups by code validate user input, so an unknown or malformed code raises
``ValidationFailed`` with the form field at fault, never a 500.
"""

from __future__ import annotations

import functools

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.geo.models import AdministrativeUnit, Level, Scheme

# A legacy commune -> current commune chain is one step; the bound only guards against a
# cycle in bad data.
_MAX_SUCCESSOR_HOPS = 5


def current_unit(unit: AdministrativeUnit) -> AdministrativeUnit:
    """Today's unit for ``unit``: itself when current, else its successor.

    A legacy province resolves to the province it merged into; a legacy commune to the
    commune it (mostly) became. A legacy district has no successor (districts were
    abolished) and resolves to today's province of its legacy province; the five island
    districts without communes resolve to their special zone (đặc khu).
    """
    for _hop in range(_MAX_SUCCESSOR_HOPS):
        if unit.is_current:
            return unit
        # A unit without successor (a legacy district) stands for its parent's area.
        following = unit.successor if unit.successor_id is not None else unit.parent
        if following is None:  # a legacy province without successor: incomplete data
            raise ValidationFailed(
                _("Đơn vị hành chính %(name)s không có đơn vị kế thừa.") % {"name": unit.name},
                code="no_successor",
            )
        unit = following
    if not unit.is_current:
        raise ValidationFailed(_("Dữ liệu đơn vị kế thừa bị lặp vòng."), code="successor_cycle")
    return unit


def _digits(code: str, width: int, *, field: str) -> str:
    code = (code or "").strip()
    if not code.isascii() or not code.isdigit() or len(code) > width:
        raise ValidationFailed(
            _("Mã đơn vị hành chính “%(code)s” không hợp lệ.") % {"code": code[:20]},
            code="invalid_unit_code",
            field=field,
        )
    return code.zfill(width)


def province_by_code(code: str, scheme: str = Scheme.CURRENT) -> AdministrativeUnit:
    """A province by its 2-digit code ("48", or "8" for "08") in ``scheme``."""
    normalized = _digits(code, 2, field="province")
    unit = AdministrativeUnit.objects.filter(
        scheme=scheme, level=Level.PROVINCE, code=normalized
    ).first()
    if unit is None:
        raise ValidationFailed(
            _("Không có tỉnh/thành phố mã %(code)s.") % {"code": normalized},
            code="unknown_province",
            field="province",
        )
    return unit


def province_by_id_code(id_code: str) -> AdministrativeUnit:
    """The legacy province whose code opens personal ID numbers ("001" Hà Nội ... "096").

    ID-number codes follow the 63 legacy provinces and stay valid after the merger; use
    ``current_unit`` for today's province.
    """
    normalized = _digits(id_code, 3, field="province")
    unit = AdministrativeUnit.objects.filter(
        scheme=Scheme.LEGACY, level=Level.PROVINCE, id_code=normalized
    ).first()
    if unit is None:
        raise ValidationFailed(
            _("Mã tỉnh %(code)s trong số định danh không tồn tại.") % {"code": normalized},
            code="unknown_province",
            field="province",
        )
    return unit


def id_code_of_province(unit: AdministrativeUnit) -> str:
    """The 3-digit ID-number code (digits 1–3) for births registered in province ``unit``.

    The codes belong to the 63 legacy provinces (001 Hà Nội … 096 Cà Mau) and stay valid
    after the 2025 merger; the 34 current provinces carry no ``id_code`` of their own in
    the loaded data. The rule, in order:

    1. a unit with ``id_code`` set (a legacy province, or a current one should the
       reference data ever give it one) uses it;
    2. a current province uses the code of its legacy predecessor of the same name
       (compared without diacritics or case): Thành phố Đà Nẵng → 048 (not Quảng Nam's
       049), Tỉnh Lào Cai → 010 (not Yên Bái's 015), Tỉnh Bắc Ninh → 027. Every current
       province kept the name of one of the provinces merged into it, so the rule always
       finds one in the packaged data.

    Unverified: which code the Ministry of Public Security assigns to births registered
    after 1 July 2025 in a merged province. Should it turn out to follow the commune's
    legacy province instead, only this function changes.
    """
    if unit.id_code:
        return unit.id_code
    if unit.level != Level.PROVINCE or not unit.is_current:
        raise ValidationFailed(
            _("%(name)s không phải là tỉnh/thành phố.") % {"name": unit.name},
            code="not_a_province",
            field="province",
        )
    predecessors = AdministrativeUnit.objects.filter(
        scheme=Scheme.LEGACY, level=Level.PROVINCE, successor=unit
    ).exclude(id_code="")
    same_name = [p for p in predecessors if p.name_search == unit.name_search]
    if len(same_name) != 1:
        raise ValidationFailed(
            _("Không xác định được mã tỉnh trong số định danh cho %(name)s.") % {"name": unit.name},
            code="no_id_code",
            field="province",
        )
    return same_name[0].id_code


def commune_by_code(code: str, scheme: str = Scheme.CURRENT) -> AdministrativeUnit:
    """A commune by its 5-digit GSO code ("20242") in ``scheme`` (current by default)."""
    normalized = _digits(code, 5, field="commune")
    unit = (
        AdministrativeUnit.objects.filter(scheme=scheme, level=Level.COMMUNE, code=normalized)
        .select_related("parent")
        .first()
    )
    if unit is None:
        raise ValidationFailed(
            _("Không có xã/phường mã %(code)s.") % {"code": normalized},
            code="unknown_commune",
            field="commune",
        )
    return unit


def communes_in(unit: AdministrativeUnit) -> QuerySet[AdministrativeUnit]:
    """Current communes making up a current unit: a province's communes, or the commune.

    Jurisdictions are expressed in current units; a legacy unit is refused rather than
    widened or narrowed to a guess.
    """
    if not unit.is_current:
        raise ValidationFailed(
            _("Địa bàn phải là đơn vị hành chính hiện hành (từ 01/7/2025)."),
            code="legacy_unit",
        )
    communes = AdministrativeUnit.objects.current().communes()
    if unit.level == Level.PROVINCE:
        return communes.filter(parent=unit)
    return communes.filter(pk=unit.pk)


def is_within(unit: AdministrativeUnit, jurisdiction: AdministrativeUnit) -> bool:
    """Whether ``unit`` (resolved to today's unit) lies within a current ``jurisdiction``.

    A commune is within itself and its province; a province within itself. A legacy
    ``jurisdiction`` never contains anything (deny by default).
    """
    if not jurisdiction.is_current:
        return False
    current = current_unit(unit)
    if current.pk == jurisdiction.pk:
        return True
    return (
        jurisdiction.level == Level.PROVINCE
        and current.level == Level.COMMUNE
        and current.parent_id == jurisdiction.pk
    )


@functools.lru_cache(maxsize=32_768)
def unit_by_pk(pk: int) -> AdministrativeUnit | None:
    """A unit by primary key from a per-process cache (hot read paths).

    Units are reference data: the loader updates them in place and a primary key is
    never reused for another unit, so a cached row stays right for the life of the
    process (names refreshed by ``congdan load_units`` show after a restart).
    """
    return AdministrativeUnit.objects.select_related("parent").filter(pk=pk).first()


def cached_unit(pk: int | None) -> AdministrativeUnit | None:
    return unit_by_pk(pk) if pk is not None else None

"""Targets of the KPIs and the weights of the Decision 766 index (issue 7, part 2).

Who may change what (``Perm.TARGET_MANAGE``, held by leaders and administrators):

* a target of a unit (a current province or commune) within the actor's jurisdiction: a
  provincial leader sets the province's and its communes' targets, a commune leader the
  commune's; a unit outside it is a ``NotFound`` (indistinguishable from a missing one);
* a national target (``unit=None``) and the index weights: national users only;
* a KPI not broken down by unit (e.g. the lookups, counted nationally) has national
  targets only — a unit's target for it would never apply.

Values: 0–100 for rates and the index score, a whole number ≥ 0 for counts, at most two
decimals; the amber margin likewise; the year within ``YEAR_SPAN`` years of this one.
Setting is an upsert on (KPI, unit, year). Every change is audited with
``record_change`` (old → new) in the same transaction; setting the same values again
changes nothing and writes nothing.

Reading helpers for the targets page: ``units_in_scope``, ``get_unit``, ``targets_in``,
``applying`` (the target that applies to a unit, resolved in memory as
``monitoring.targets.target_for`` does).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import diff, record_change
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.jurisdiction import Jurisdiction, jurisdiction_of
from congdan.core.permissions import Perm, requires
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring import kpis
from congdan.monitoring.models import IndexWeight, Target
from congdan.monitoring.services.ids import as_pk

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

    Actor = User | AnonymousUser

__all__ = [
    "MAX_COUNT",
    "MAX_NOTE",
    "MAX_PERCENT",
    "MAX_REASON",
    "YEAR_SPAN",
    "applying",
    "can_set_national",
    "get_target",
    "get_unit",
    "remove_target",
    "set_target",
    "set_weight",
    "set_weights",
    "targets_in",
    "unit_filter",
    "units_in_scope",
]

YEAR_SPAN = 5
MAX_PERCENT = Decimal(100)
# Target.value has 7 digits, 2 of them decimals.
MAX_COUNT = Decimal("99999")
MAX_NOTE = 300
MAX_REASON = 400
_CENT = Decimal("0.01")
_UNIT_LEVELS = ("province", "commune")


# --- scope -------------------------------------------------------------------------------


def _jurisdiction(actor: Actor | None) -> Jurisdiction:
    j = jurisdiction_of(actor)
    if j.none:
        raise PermissionDenied(
            _("Tài khoản chưa được giao địa bàn quản lý."), code="no_jurisdiction"
        )
    return j


def can_set_national(actor: Actor | None) -> bool:
    """Whether the actor may set national targets and the index weights."""
    return jurisdiction_of(actor).national


def unit_filter(j: Jurisdiction, prefix: str = "unit") -> Q:
    """Rows whose ``prefix`` unit lies within ``j`` (national rows excluded)."""
    if j.national:
        return Q(**{f"{prefix}__isnull": False})
    if j.unit is None:
        return Q(pk__in=[])
    cond = Q(**{f"{prefix}_id": j.unit.pk})
    if j.is_province:
        cond |= Q(**{f"{prefix}__parent_id": j.unit.pk})
    return cond


def units_in_scope(actor: Actor | None) -> QuerySet[AdministrativeUnit]:
    """Current provinces and communes within the actor's jurisdiction."""
    j = jurisdiction_of(actor)
    qs = AdministrativeUnit.objects.current().filter(level__in=_UNIT_LEVELS)
    if j.national:
        return qs
    if j.unit is None:
        return qs.none()
    if j.is_province:
        return qs.filter(Q(pk=j.unit.pk) | Q(parent_id=j.unit.pk))
    return qs.filter(pk=j.unit.pk)


def get_unit(actor: Actor | None, unit: AdministrativeUnit | int | str | None) -> Any:
    """The unit (None: national) if the actor may manage its targets; ``NotFound`` for a
    unit that is missing, not a current province/commune or outside the jurisdiction,
    ``PermissionDenied`` for national targets asked by a non-national actor."""
    j = _jurisdiction(actor)
    if unit is None or unit == "":
        if not j.national:
            raise PermissionDenied(
                _("Chỉ cấp trung ương được đặt mục tiêu toàn quốc."), code="national_only"
            )
        return None
    if isinstance(unit, AdministrativeUnit):
        pk: Any = unit.pk
    else:
        pk = unit
    if isinstance(pk, bool) or not (
        isinstance(pk, int) or (isinstance(pk, str) and pk.isascii() and pk.isdigit())
    ):
        raise NotFound(_("Không tìm thấy địa bàn."), code="unit_not_found")
    found = (
        units_in_scope(actor).select_related("parent").filter(pk=int(pk)).first()
        if len(str(pk)) <= 12
        else None
    )
    if found is None or not j.covers(found):
        raise NotFound(_("Không tìm thấy địa bàn."), code="unit_not_found")
    return found


def targets_in(actor: Actor | None) -> QuerySet[Target]:
    """Targets the actor may manage: those of units in the jurisdiction, and national
    ones for national users. Deny by default."""
    j = jurisdiction_of(actor)
    qs = Target.objects.select_related("unit", "unit__parent")
    if j.national:
        return qs
    if j.none:
        return qs.none()
    return qs.filter(unit_filter(j))


def get_target(actor: Actor | None, target_id: Any) -> Target:
    pk = as_pk(target_id)
    target = targets_in(actor).filter(pk=pk).first() if pk else None
    if target is None:
        raise NotFound(_("Không tìm thấy mục tiêu."), code="target_not_found")
    return target


def applying(code: str, unit: AdministrativeUnit | None, loaded: Iterable[Target]) -> Target | None:
    """The target of ``code`` that applies to ``unit`` among ``loaded`` (the year's
    targets of the unit, its parents and the national one): its own, else its
    province's, else the national one — as ``targets.target_for`` decides, without a
    query."""
    by_unit = {t.unit_id: t for t in loaded if t.kpi == code}
    chain: list[int | None] = []
    if unit is not None:
        chain.append(unit.pk)
        if unit.parent_id is not None:
            chain.append(unit.parent_id)
    chain.append(None)
    for pk in chain:
        if pk in by_unit:
            return by_unit[pk]
    return None


# --- values ------------------------------------------------------------------------------


def _decimal(raw: Any, field: str, message: Any) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise ValidationFailed(message, code=f"invalid_{field}", field=field)
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(message, code=f"invalid_{field}", field=field) from None
    if not value.is_finite() or value != value.quantize(_CENT, rounding=ROUND_DOWN):
        raise ValidationFailed(message, code=f"invalid_{field}", field=field)
    return value.quantize(_CENT)


def clean_value(kpi: kpis.KPI, raw: Any) -> Decimal:
    message: Any
    if kpi.measure == "count":
        message = _("Mục tiêu là số nguyên từ 0 đến %(max)s.") % {"max": MAX_COUNT}
        value = _decimal(raw, "value", message)
        if value < 0 or value > MAX_COUNT or value != value.to_integral_value():
            raise ValidationFailed(message, code="invalid_value", field="value")
        return value
    message = _("Mục tiêu là số từ 0 đến 100, tối đa hai chữ số thập phân.")
    value = _decimal(raw, "value", message)
    if not 0 <= value <= MAX_PERCENT:
        raise ValidationFailed(message, code="invalid_value", field="value")
    return value


def clean_margin(kpi: kpis.KPI, raw: Any) -> Decimal:
    limit = MAX_COUNT if kpi.measure == "count" else MAX_PERCENT
    message = _("Ngưỡng vàng là số từ 0 đến %(max)s, tối đa hai chữ số thập phân.") % {"max": limit}
    value = _decimal(raw, "amber_margin", message)
    if not 0 <= value <= min(limit, Decimal("999.99")):
        raise ValidationFailed(message, code="invalid_amber_margin", field="amber_margin")
    return value


def clean_year(raw: Any) -> int:
    this_year = timezone.localdate().year
    message = _("Năm phải từ %(min)d đến %(max)d.") % {
        "min": this_year - YEAR_SPAN,
        "max": this_year + YEAR_SPAN,
    }
    try:
        year = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed(message, code="invalid_year", field="year") from None
    if isinstance(raw, bool) or str(year) != str(raw).strip():
        raise ValidationFailed(message, code="invalid_year", field="year")
    if abs(year - this_year) > YEAR_SPAN:
        raise ValidationFailed(message, code="invalid_year", field="year")
    return year


def _clean_kpi(code: Any) -> kpis.KPI:
    kpi = kpis.BY_CODE.get(str(code or ""))
    if kpi is None:
        raise ValidationFailed(_("Không có chỉ tiêu này."), code="unknown_kpi", field="kpi")
    return kpi


def _snapshot(target: Target | None) -> dict[str, Any]:
    if target is None:
        return {}
    return {
        "kpi": target.kpi,
        "unit": target.unit_id,
        "year": target.year,
        "value": Decimal(target.value),
        "amber_margin": Decimal(target.amber_margin),
        "note": target.note,
    }


# --- changes -----------------------------------------------------------------------------


@requires(Perm.TARGET_MANAGE)
def set_target(
    actor: Actor,
    *,
    kpi: Any,
    unit: AdministrativeUnit | int | str | None,
    year: Any,
    value: Any,
    amber_margin: Any = Decimal(10),
    note: Any = "",
) -> Target:
    """Set (create or change) the target of ``kpi`` for ``unit`` (None: national) and
    ``year``."""
    definition = _clean_kpi(kpi)
    place = get_unit(actor, unit)
    if place is not None and "unit" not in definition.filters:
        raise ValidationFailed(
            _("Chỉ tiêu này chỉ tính cho toàn quốc nên chỉ đặt được mục tiêu toàn quốc."),
            code="national_kpi",
            field="unit",
        )
    year_ = clean_year(year)
    value_ = clean_value(definition, value)
    margin = clean_margin(definition, amber_margin)
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailed(
            _("Căn cứ tối đa %(n)d ký tự.") % {"n": MAX_NOTE}, code="note_too_long", field="note"
        )
    key = {"kpi": definition.code, "unit": place, "year": year_}
    for attempt in range(2):
        try:
            with transaction.atomic():
                row = Target.objects.select_for_update().filter(**key).first()
                before = _snapshot(row)
                if row is None:
                    row = Target(**key)
                row.value, row.amber_margin, row.note = value_, margin, text
                changes = diff(before, _snapshot(row))
                if not changes:
                    return row
                row.save()
                record_change(
                    actor,
                    action="set_target",
                    obj=row,
                    changes=changes,
                    reason=f"{definition.code} {year_} "
                    f"{place.code if place is not None else 'national'}",
                    legal_basis=text,
                )
            return row
        except IntegrityError:
            # Another leader created the same target at the same moment: update it.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@requires(Perm.TARGET_MANAGE)
def remove_target(actor: Actor, *, target_id: Any, reason: Any) -> None:
    """Remove a target (the unit then inherits its province's or the national one)."""
    target = get_target(actor, target_id)
    if target.unit_id is None and not can_set_national(actor):
        raise NotFound(_("Không tìm thấy mục tiêu."), code="target_not_found")
    text = str(reason or "").strip()
    if not text:
        raise ValidationFailed(
            _("Nhập lý do xóa mục tiêu."), code="reason_required", field="reason"
        )
    if len(text) > MAX_REASON:
        raise ValidationFailed(
            _("Lý do tối đa %(n)d ký tự.") % {"n": MAX_REASON},
            code="reason_too_long",
            field="reason",
        )
    with transaction.atomic():
        row = Target.objects.select_for_update().filter(pk=target.pk).first()
        if row is None:
            raise NotFound(_("Không tìm thấy mục tiêu."), code="target_not_found")
        before = _snapshot(row)
        record_change(
            actor,
            action="remove_target",
            obj=row,
            changes=diff(before, dict.fromkeys(before)),
            reason=text,
        )
        row.delete()


@requires(Perm.TARGET_MANAGE)
def set_weight(actor: Actor, *, group: Any, weight: Any) -> IndexWeight:
    """Set the weight (0–100 points) of one group of the Decision 766 index."""
    if not can_set_national(actor):
        raise PermissionDenied(
            _("Chỉ cấp trung ương được thay đổi trọng số Bộ chỉ số 766."), code="national_only"
        )
    groups = {code for code, _label, _default in kpis.GROUPS_766}
    code = str(group or "")
    if code not in groups:
        raise ValidationFailed(_("Không có nhóm chỉ số này."), code="unknown_group", field="group")
    message = _("Trọng số là số từ 0 đến 100, tối đa hai chữ số thập phân.")
    value = _decimal(weight, "weight", message)
    if not 0 <= value <= MAX_PERCENT:
        raise ValidationFailed(message, code="invalid_weight", field="weight")
    for attempt in range(2):
        try:
            with transaction.atomic():
                row = IndexWeight.objects.select_for_update().filter(group=code).first()
                old = Decimal(row.weight) if row is not None else None
                if row is None:
                    row = IndexWeight.objects.create(group=code, weight=value)
                elif old != value:
                    row.weight = value
                    row.save(update_fields=["weight"])
                if old != value:
                    record_change(
                        actor,
                        action="set_index_weight",
                        obj=row,
                        changes={"weight": [None if old is None else str(old), str(value)]},
                        reason=code,
                    )
            return row
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@requires(Perm.TARGET_MANAGE)
def set_weights(actor: Actor, *, weights: dict[str, Any]) -> list[IndexWeight]:
    """Set several groups' weights at once: all of them or none."""
    with transaction.atomic():
        return [set_weight(actor, group=group, weight=w) for group, w in weights.items()]

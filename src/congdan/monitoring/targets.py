"""Targets of the KPIs and their traffic-light status.

``status(code, unit, year, value)`` finds the target that applies to ``unit`` — its own,
else its province's (a commune inherits from its parent), else the national one
(``Target.unit`` empty) — and compares the value with it:

* ``gap`` is ``value - target`` in the KPI's unit (percentage points for rates);
* ``light`` is ``"green"`` when the target is met (at or above it; at or below it for a
  KPI where lower is better, e.g. the overdue count), ``"amber"`` when it misses by no
  more than the target's ``amber_margin``, ``"red"`` beyond that, and ``"none"`` when no
  target applies or the value is unknown (no data).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from congdan.geo.models import AdministrativeUnit
from congdan.monitoring.kpis import get
from congdan.monitoring.models import Target

__all__ = ["Light", "TargetStatus", "evaluate", "status", "target_for"]

Light = Literal["green", "amber", "red", "none"]


@dataclass(frozen=True)
class TargetStatus:
    target: Decimal | None  # the target value that applies
    gap: Decimal | None  # value - target
    light: Light
    source: Target | None  # the Target row (its unit tells where it was inherited from)


def _chain(unit: AdministrativeUnit | None) -> list[int | None]:
    """The unit, its parents up to the province, then None (national)."""
    chain: list[int | None] = []
    seen: set[int] = set()
    current = unit
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        chain.append(current.pk)
        current = current.parent
    chain.append(None)
    return chain


def target_for(code: str, unit: AdministrativeUnit | None, year: int) -> Target | None:
    """The target of ``code`` for ``unit`` in ``year``: its own, else inherited."""
    chain = _chain(unit)
    found = {
        t.unit_id: t
        for t in Target.objects.filter(kpi=code, year=year).filter(
            unit_id__in=[pk for pk in chain if pk is not None]
        )
    }
    national = Target.objects.filter(kpi=code, year=year, unit__isnull=True).first()
    for pk in chain:
        if pk is None:
            return national
        if pk in found:
            return found[pk]
    return None


def status(
    code: str, unit: AdministrativeUnit | None, year: int, value: Decimal | int | None
) -> TargetStatus:
    """Target, gap and traffic light of ``value`` of KPI ``code`` in ``unit``/``year``."""
    get(code)
    return evaluate(code, target_for(code, unit, year), value)


def evaluate(code: str, target: Target | None, value: Decimal | int | None) -> TargetStatus:
    """Gap and light of ``value`` against ``target`` (already found: e.g. many units'
    targets loaded in one query)."""
    kpi = get(code)
    if target is None:
        return TargetStatus(None, None, "none", None)
    goal = Decimal(target.value)
    if value is None:
        return TargetStatus(goal, None, "none", target)
    gap = Decimal(value) - goal
    shortfall = -gap if kpi.higher_is_better else gap
    if shortfall <= 0:
        light: Light = "green"
    elif shortfall <= Decimal(target.amber_margin):
        light = "amber"
    else:
        light = "red"
    return TargetStatus(goal, gap, light, target)

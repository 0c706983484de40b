"""Counter mode: dossiers received on paper at a one-stop counter (issue 7, part 1).

An officer holding ``Perm.PAPER_COUNT_RECORD`` whose agency serves a commune records, per
day and procedure, how many dossiers were received on paper there. Recording again for
the same day and procedure replaces the count (upsert); the change is audited and the
day's facts are marked stale so the next refresh counts it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import record_change
from congdan.core.errors import PermissionDenied, ValidationFailed
from congdan.core.models import User
from congdan.core.permissions import Perm, has_perm, requires
from congdan.monitoring.models import PaperDossierCount, RefreshedDay
from congdan.procedures.specs import catalogue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.geo.models import AdministrativeUnit

    Actor = User | AnonymousUser

MAX_COUNT = 10_000
# How far back a count may be recorded or corrected.
MAX_AGE_DAYS = 366
LIST_DAYS = 30


def procedure_choices() -> list[tuple[str, str]]:
    """(code, Vietnamese name) of every procedure in the catalogue, by name."""
    procedures = catalogue().procedures
    return sorted(((code, str(spec.name)) for code, spec in procedures.items()), key=lambda p: p[1])


def counter_commune(actor: Actor | None) -> AdministrativeUnit | None:
    """The commune of the actor's agency, when it is an active commune agency."""
    agency = getattr(actor, "agency", None)
    if agency is None or not agency.active or agency.jurisdiction is None:
        return None
    unit: AdministrativeUnit = agency.jurisdiction
    return unit if unit.level == "commune" and unit.scheme == "2025" else None


def _not_at_counter() -> PermissionDenied:
    return PermissionDenied(
        _("Chỉ cán bộ bộ phận một cửa của cơ quan cấp xã được ghi số hồ sơ giấy."),
        code="not_commune_counter",
    )


def _clean_day(day: Any) -> dt.date:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationFailed(_("Ngày không hợp lệ."), code="invalid_day", field="day")
    today = timezone.localdate()
    if day > today:
        raise ValidationFailed(
            _("Không ghi số hồ sơ cho ngày trong tương lai."), code="day_in_future", field="day"
        )
    if day < today - dt.timedelta(days=MAX_AGE_DAYS):
        raise ValidationFailed(
            _("Chỉ ghi được số hồ sơ trong vòng %(n)d ngày trở lại.") % {"n": MAX_AGE_DAYS},
            code="day_too_old",
            field="day",
        )
    return day


def _clean_count(count: Any) -> int:
    try:
        value = int(count)
    except (TypeError, ValueError):
        value = -1
    if isinstance(count, bool) or not 0 <= value <= MAX_COUNT or str(value) != str(count).strip():
        raise ValidationFailed(
            _("Số hồ sơ phải là số nguyên từ 0 đến %(max)d.") % {"max": MAX_COUNT},
            code="invalid_count",
            field="count",
        )
    return value


@requires(Perm.PAPER_COUNT_RECORD)
def record_paper_count(
    actor: Actor, *, day: Any, procedure_code: Any, count: Any
) -> PaperDossierCount:
    """Record (or correct) the paper dossiers of one day and procedure at the officer's
    agency and commune."""
    commune = counter_commune(actor)
    if commune is None or not isinstance(actor, User) or actor.agency is None:
        raise _not_at_counter()
    day_ = _clean_day(day)
    code = str(procedure_code or "")
    if catalogue().procedure(code) is None:
        raise ValidationFailed(
            _("Thủ tục không có trong danh mục."), code="unknown_procedure", field="procedure_code"
        )
    count_ = _clean_count(count)
    key = {"day": day_, "commune": commune, "agency": actor.agency, "procedure_code": code}
    for attempt in range(2):
        try:
            with transaction.atomic():
                row = PaperDossierCount.objects.select_for_update().filter(**key).first()
                old = row.count if row is not None else None
                if row is None:
                    row = PaperDossierCount.objects.create(
                        **key, count=count_, recorded_by=actor, recorded_at=timezone.now()
                    )
                else:
                    row.count = count_
                    row.recorded_by = actor
                    row.recorded_at = timezone.now()
                    row.save(update_fields=["count", "recorded_by", "recorded_at"])
                if old != count_:
                    record_change(
                        actor,
                        action="record_paper_count",
                        obj=row,
                        changes={"count": [old, count_]},
                        reason=f"{day_.isoformat()} {code}",
                    )
                RefreshedDay.objects.filter(day=day_).update(stale=True)
            return row
        except IntegrityError:
            # Another officer created the same row at the same time: update it instead.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def recent_counts(actor: Actor | None, days: int = LIST_DAYS) -> QuerySet[PaperDossierCount]:
    """The counts of the actor's agency over the last ``days`` days, newest first."""
    commune = counter_commune(actor)
    agency_id = getattr(actor, "agency_id", None)
    if not has_perm(actor, Perm.PAPER_COUNT_RECORD) or commune is None or agency_id is None:
        return PaperDossierCount.objects.none()
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    return (
        PaperDossierCount.objects.filter(commune=commune, agency_id=agency_id, day__gte=since)
        .select_related("recorded_by")
        .order_by("-day", "procedure_code")
    )


__all__ = ["counter_commune", "procedure_choices", "recent_counts", "record_paper_count"]

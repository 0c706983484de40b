"""Administration of the monitoring data.

* ``Target`` and ``IndexWeight``: viewed and changed by holders of
  ``Perm.TARGET_MANAGE`` (on top of the admin site's own gate); every change goes
  through ``monitoring.services.targets`` (jurisdiction, value checks, change records), a
  refusal is shown on the form, never a 500. Targets are removed with an admin action
  (audited), never with Django's delete view.
* The daily facts (``DossierFact``, ``PopulationFact``, ``LookupFact``, ``RefreshedDay``):
  read-only for ``Perm.MONITORING_VIEW``; they are derived data, recomputed by
  ``monitoring.facts.refresh_day``.
* Working groups and programme tasks: read-only for ``Perm.TASK_READ`` (changed on the
  task tracker's pages).

Rows tied to a unit are scoped by the user's jurisdiction, as on the pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from congdan.core.admin import PermissionAdmin, ServiceFormAdmin, ServiceRejectedError
from congdan.core.errors import DomainError
from congdan.core.jurisdiction import Jurisdiction, jurisdiction_of
from congdan.core.permissions import Perm
from congdan.monitoring import kpis
from congdan.monitoring.models import (
    DossierFact,
    IndexWeight,
    LookupFact,
    PopulationFact,
    ProgrammeTask,
    RefreshedDay,
    Target,
    WorkingGroup,
)
from congdan.monitoring.services import targets as target_services


def _within(j: Jurisdiction, field: str, *, national_rows: bool = False) -> Q:
    """Rows whose ``field`` unit (a commune or province) lies within ``j``."""
    if j.national:
        return Q()
    if j.unit is None:
        return Q(pk__in=[])
    cond = Q(**{f"{field}_id": j.unit.pk})
    if j.is_province:
        cond |= Q(**{f"{field}__parent_id": j.unit.pk})
    if national_rows:
        cond |= Q(**{f"{field}__isnull": True})
    return cond


class ScopedAdmin(PermissionAdmin):
    """Read-only, rows limited to the user's jurisdiction through ``scope_field``."""

    scope_field = "unit"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs.filter(_within(jurisdiction_of(request.user), self.scope_field))


class FactAdmin(PermissionAdmin):
    """Facts carry their province and commune: scoped as the dashboards scope them (a
    province's facts include those recorded at province level, without a commune)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        j = jurisdiction_of(request.user)
        if j.national:
            return qs
        if j.unit is None:
            return qs.none()
        if j.is_province:
            return qs.filter(province_id=j.unit.pk)
        return qs.filter(commune_id=j.unit.pk)


# --- targets and weights -----------------------------------------------------------------


class TargetForm(forms.ModelForm):
    kpi = forms.ChoiceField(label=_("Chỉ tiêu"), choices=())

    class Meta:
        model = Target
        fields = ("kpi", "unit", "year", "value", "amber_margin", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kpi"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = [(k.code, f"{k.name} ({k.code})") for k in kpis.KPIS]


class KeyedServiceAdmin(ServiceFormAdmin):
    """Rows named by their key fields (``key_fields``): the key is set when a row is added
    and read-only afterwards (another key is another row), so the change form is a plain
    model form without it."""

    key_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.key_fields if obj is not None else ()

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            kwargs.setdefault("form", forms.ModelForm)
        return super().get_form(request, obj, change, **kwargs)


@admin.register(Target)
class TargetAdmin(KeyedServiceAdmin):
    form = TargetForm
    key_fields = ("kpi", "unit", "year")
    view_perm = Perm.TARGET_MANAGE
    change_perm = Perm.TARGET_MANAGE
    list_display = ("kpi", "unit", "year", "value", "amber_margin", "note")
    list_filter = ("year", "kpi")
    search_fields = ("kpi", "unit__name", "note")
    list_select_related = ("unit",)
    raw_id_fields = ("unit",)
    ordering = ("-year", "kpi", "unit__name")
    actions = ("remove_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Target]:
        return target_services.targets_in(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def save_model(self, request: HttpRequest, obj: Target, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            saved = target_services.set_target(
                request.user,
                kpi=obj.kpi if change else data["kpi"],
                unit=obj.unit_id if change else data.get("unit"),
                year=obj.year if change else data["year"],
                value=data["value"],
                amber_margin=data["amber_margin"],
                note=data.get("note") or "",
            )
        except DomainError as error:
            raise ServiceRejectedError(error) from error
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.action(description=_("Xóa các mục tiêu đã chọn"))
    def remove_selected(self, request: HttpRequest, queryset: QuerySet[Target]) -> None:
        done = 0
        for target in queryset:
            try:
                target_services.remove_target(
                    request.user,
                    target_id=target.pk,
                    reason=str(_("Xóa trong trang quản trị")),
                )
            except DomainError as error:
                self.message_user(request, str(error.message), messages.ERROR)
                continue
            done += 1
        self.message_user(request, _("Đã xóa %(n)d mục tiêu.") % {"n": done})


class WeightForm(forms.ModelForm):
    group = forms.ChoiceField(label=_("Nhóm chỉ số"), choices=())

    class Meta:
        model = IndexWeight
        fields = ("group", "weight")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = [(code, label) for code, label, _default in kpis.GROUPS_766]


@admin.register(IndexWeight)
class IndexWeightAdmin(KeyedServiceAdmin):
    form = WeightForm
    key_fields = ("group",)
    view_perm = Perm.TARGET_MANAGE
    change_perm = Perm.TARGET_MANAGE
    list_display = ("group", "weight")
    ordering = ("group",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The weights are national: only national users change them.
        return super().has_change_permission(request, obj) and target_services.can_set_national(
            request.user
        )

    def save_model(self, request: HttpRequest, obj: IndexWeight, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            saved = target_services.set_weight(
                request.user,
                group=obj.group if change else data["group"],
                weight=data["weight"],
            )
        except DomainError as error:
            raise ServiceRejectedError(error) from error
        obj.pk = saved.pk
        obj._state.adding = False


# --- derived facts (read-only) -------------------------------------------------------------


@admin.register(DossierFact)
class DossierFactAdmin(FactAdmin):
    view_perm = Perm.MONITORING_VIEW
    list_display = (
        "day",
        "commune",
        "agency",
        "procedure_code",
        "received",
        "received_online",
        "decided",
        "decided_on_time",
        "overdue_open",
    )
    list_filter = ("day",)
    search_fields = ("procedure_code",)
    list_select_related = ("commune", "agency")
    date_hierarchy = "day"
    ordering = ("-day", "commune_id", "procedure_code")


@admin.register(PopulationFact)
class PopulationFactAdmin(FactAdmin):
    view_perm = Perm.MONITORING_VIEW
    list_display = ("day", "commune", "residents", "adults", "eid_level1", "eid_level2")
    list_select_related = ("commune",)
    date_hierarchy = "day"
    ordering = ("-day", "commune_id")


@admin.register(LookupFact)
class LookupFactAdmin(PermissionAdmin):
    """National data: the access log is not tied to a unit, so only users with national
    jurisdiction read it (as on the dashboard)."""

    view_perm = Perm.MONITORING_VIEW

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and jurisdiction_of(request.user).national

    list_display = ("day", "channel", "organisation", "service", "purpose", "count")
    list_filter = ("channel",)
    search_fields = ("organisation", "service", "purpose")
    date_hierarchy = "day"
    ordering = ("-day", "organisation")


@admin.register(RefreshedDay)
class RefreshedDayAdmin(PermissionAdmin):
    view_perm = Perm.MONITORING_VIEW
    list_display = ("day", "refreshed_at", "stale")
    list_filter = ("stale",)
    ordering = ("-day",)


# --- the task tracker (read-only) ----------------------------------------------------------


@admin.register(WorkingGroup)
class WorkingGroupAdmin(ScopedAdmin):
    view_perm = Perm.TASK_READ
    list_display = ("name", "level", "unit", "village", "parent")
    list_filter = ("level",)
    search_fields = ("name", "village")
    list_select_related = ("unit", "parent")


@admin.register(ProgrammeTask)
class ProgrammeTaskAdmin(ScopedAdmin):
    view_perm = Perm.TASK_READ
    list_display = ("code", "title", "owner_agency", "level", "unit", "deadline", "status")
    list_filter = ("status", "level")
    search_fields = ("code", "title", "legal_source")
    list_select_related = ("owner_agency", "unit")
    date_hierarchy = "deadline"
    ordering = ("deadline", "code")

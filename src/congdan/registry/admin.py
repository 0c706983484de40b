"""Admin of the population registry, for data stewards.

Nothing is deleted, and nothing is added here (persons are registered through services).
A person's identity data is corrected only through ``services.correct_person`` (reason and
legal basis required, change record and civil event written); everything else is
read-only. Every page showing a person's data appends to the access log, like any other
read (DESIGN rule 2), and lists are scoped by the steward's jurisdiction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.admin import PermissionAdmin, ServiceFormAdmin, ServiceRejectedError, holds
from congdan.core.errors import DomainError
from congdan.core.jurisdiction import jurisdiction_of
from congdan.core.permissions import Perm
from congdan.core.text import fold
from congdan.registry import services
from congdan.registry.models import (
    CivilEvent,
    Ethnicity,
    Household,
    HouseholdMembership,
    IdentityCard,
    Person,
    Religion,
    Residence,
)
from congdan.registry.scoping import households_for, persons_for

ADMIN_PURPOSE = "data_stewardship"
# Form fields a steward may correct: the model fields behind services.CORRECTABLE_FIELDS.
CORRECTABLE_FORM_FIELDS = frozenset(
    name.removesuffix("_id") for name in services.CORRECTABLE_FIELDS
)
CORRECTION_FIELDS = ("reason", "legal_basis", "document_ref")


def scope_by_person(qs: QuerySet[Any], user: Any, path: str = "person") -> QuerySet[Any]:
    """Rows about persons the user may see (``registry.scoping``); deny by default."""
    if jurisdiction_of(user).national:
        return qs
    return qs.filter(**{f"{path}__in": persons_for(user).values("pk")})


def _search(qs: QuerySet[Any], term: str, id_lookup: str) -> QuerySet[Any]:
    term = term.strip()
    if term.isascii() and term.isdigit():
        return qs.filter(**{id_lookup: term})
    return qs.none()


class AccessLoggedAdmin(PermissionAdmin):
    """Appends the access log for the persons a changelist page or a change page shows."""

    access_view = "admin"

    def changelist_person_ids(self, objs: Iterable[Any]) -> list[int]:
        return [obj.person_id for obj in objs]

    def change_person_ids(self, obj: Any) -> list[int]:
        return [obj.person_id]

    def change_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        return [f for f in self.get_fields(request, obj) if isinstance(f, str)]

    def _log(self, request: HttpRequest, ids: list[int], view: str, fields: Sequence[Any]) -> None:
        log_access(
            request.user,
            person_ids=ids,
            channel=Channel.ADMIN,
            view=view,
            fields=[f for f in fields if isinstance(f, str)],
            purpose=ADMIN_PURPOSE,
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            # Evaluates the page's rows once; the template reuses the cached result.
            rows = list(changelist.result_list)
            self._log(
                request,
                self.changelist_person_ids(rows),
                f"{self.access_view}_list",
                self.get_list_display(request),
            )
        return response

    def render_change_form(  # noqa: PLR0917 -- Django's signature
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            self._log(
                request,
                self.change_person_ids(obj),
                self.access_view,
                self.change_fields(request, obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- persons --------------------------------------------------------------------------


class PersonCorrectionForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Lý do cải chính"),
        max_length=400,
        required=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Bắt buộc; ghi vào lịch sử thay đổi của công dân."),
    )
    legal_basis = forms.CharField(
        label=_("Căn cứ pháp lý"),
        max_length=200,
        required=False,
        help_text=_("Ví dụ: Quyết định cải chính hộ tịch số …"),
    )
    document_ref = forms.CharField(label=_("Số văn bản/giấy tờ"), max_length=120, required=False)

    class Meta:
        model = Person
        fields = sorted(CORRECTABLE_FORM_FIELDS)

    def clean_nationality(self) -> str:
        value = str(self.cleaned_data.get("nationality") or "").strip().upper()
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise forms.ValidationError(
                _("Quốc tịch ghi bằng mã 2 chữ cái theo ISO 3166-1 (ví dụ: VN).")
            )
        return value


@admin.register(Person)
class PersonAdmin(AccessLoggedAdmin, ServiceFormAdmin):
    view_perm = Perm.PERSON_READ
    change_perm = Perm.PERSON_CORRECT
    access_view = "admin_person"
    form = PersonCorrectionForm
    list_display = (
        "id_number",
        "full_name",
        "birth_date",
        "sex",
        "residence_commune",
        "vital_status",
    )
    list_filter = ("sex", "vital_status", "status", "birth_date_precision")
    list_select_related = ("residence_commune",)
    search_fields = ("id_number",)  # shows the search box; the search is get_search_results
    search_help_text = _("Số định danh (12 chữ số) hoặc họ tên, có dấu hay không dấu.")
    raw_id_fields = ("home_town",)
    base_fieldsets: tuple[tuple[Any, dict[str, Any]], ...] = (
        (
            _("Nhân thân"),
            {
                "fields": (
                    "id_number",
                    "full_name",
                    "other_names",
                    "birth_date",
                    "birth_date_precision",
                    "sex",
                )
            },
        ),
        (
            _("Dân tộc, tôn giáo, quốc tịch, quê quán"),
            {
                "fields": (
                    "ethnicity",
                    "religion",
                    "nationality",
                    "home_town",
                    "birth_registration_province",
                    "birth_registration_place",
                )
            },
        ),
        (_("Quan hệ gia đình"), {"fields": ("father", "mother", "spouse")}),
        (_("Tình trạng"), {"fields": ("vital_status", "death_date", "status")}),
        (_("Nơi thường trú"), {"fields": ("residence_commune", "residence_province")}),
        (_("Bản ghi"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return persons_for(request.user).select_related(
            "ethnicity",
            "religion",
            "residence_commune",
            "residence_province",
            "birth_registration_province",
            "birth_registration_place",
            "home_town",
            "father",
            "mother",
            "spouse",
        )

    def change_person_ids(self, obj: Any) -> list[int]:
        return [obj.pk]

    def changelist_person_ids(self, objs: Iterable[Any]) -> list[int]:
        return [obj.pk for obj in objs]

    def change_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        return [f for f in super().change_fields(request, obj) if f not in CORRECTION_FIELDS]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isascii() and term.isdigit():
            return queryset.filter(id_number=term), False
        folded = fold(term)
        if len(folded) < 2:
            return queryset.none(), False
        return queryset.filter(name_search__contains=folded), False

    def get_fieldsets(self, request: HttpRequest, obj: Person | None = None) -> Any:
        if obj is not None and self.has_change_permission(request, obj):
            return (*self.base_fieldsets, (_("Cải chính thông tin"), {"fields": CORRECTION_FIELDS}))
        return self.base_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> Any:
        shown = [name for _title, options in self.base_fieldsets for name in options["fields"]]
        return [name for name in shown if name not in CORRECTABLE_FORM_FIELDS]

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        changes: dict[str, Any] = {}
        for name in form.changed_data:
            if name in CORRECTABLE_FORM_FIELDS:
                attname = Person._meta.get_field(name).attname  # type: ignore[union-attr]  # concrete fields only
                changes[attname] = getattr(obj, attname)
        if not changes:
            return
        try:
            person = services.correct_person(
                request.user,
                person_id=obj.pk,
                changes=changes,
                reason=form.cleaned_data["reason"],
                legal_basis=form.cleaned_data.get("legal_basis") or "",
                document_ref=form.cleaned_data.get("document_ref") or "",
            )
        except DomainError as exc:
            raise ServiceRejectedError(exc) from exc
        obj.updated_at = person.updated_at
        obj.name_search = person.name_search


# --- households, residences, cards, civil events: read-only ---------------------------


class MembershipInline(admin.TabularInline):
    model = HouseholdMembership
    fields = ("person", "relationship", "since", "until")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("until", "since")

    def get_queryset(self, request: HttpRequest) -> QuerySet[HouseholdMembership]:
        return super().get_queryset(request).select_related("person")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request.user, Perm.PERSON_READ)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(AccessLoggedAdmin):
    view_perm = Perm.PERSON_READ
    access_view = "admin_household"
    list_display = ("code", "address", "commune", "created_at", "dissolved_at")
    list_select_related = ("address", "commune")
    search_fields = ("=code",)
    search_help_text = _("Số hộ.")
    fields = ("code", "address", "commune", "created_at", "dissolved_at")
    readonly_fields = fields
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        return households_for(request.user)

    def changelist_person_ids(self, objs: Iterable[Any]) -> list[int]:
        return []  # the list shows households, not their members

    def change_person_ids(self, obj: Any) -> list[int]:
        return list(obj.memberships.values_list("person_id", flat=True))


@admin.register(Residence)
class ResidenceAdmin(AccessLoggedAdmin):
    view_perm = Perm.PERSON_HISTORY_READ
    access_view = "admin_residence"
    list_display = ("person", "kind", "address", "commune", "start_date", "end_date", "ended_on")
    list_filter = ("kind",)
    list_select_related = ("person", "address", "commune")
    search_fields = ("person__id_number",)
    search_help_text = _("Số định danh của công dân (12 chữ số).")
    fields = (
        "person",
        "kind",
        "address",
        "commune",
        "household",
        "start_date",
        "end_date",
        "ended_on",
        "reason",
        "registered_by",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Residence]:
        qs = super().get_queryset(request).select_related("household", "registered_by")
        return scope_by_person(qs, request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        return _search(queryset, search_term, "person__id_number"), False


@admin.register(IdentityCard)
class IdentityCardAdmin(AccessLoggedAdmin):
    view_perm = Perm.PERSON_READ
    access_view = "admin_identity_card"
    list_display = ("number", "person", "card_type", "issue_date", "expiry_date", "status")
    list_filter = ("card_type", "status")
    list_select_related = ("person",)
    search_fields = ("number",)
    search_help_text = _("Số thẻ / số định danh (12 chữ số).")
    fields = (
        "person",
        "number",
        "card_type",
        "issue_date",
        "expiry_date",
        "issuing_authority",
        "status",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdentityCard]:
        return scope_by_person(super().get_queryset(request), request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        return _search(queryset, search_term, "number"), False


@admin.register(CivilEvent)
class CivilEventAdmin(AccessLoggedAdmin):
    view_perm = Perm.PERSON_HISTORY_READ
    access_view = "admin_civil_event"
    list_display = ("person", "kind", "event_date", "source_agency", "document_ref", "recorded_at")
    list_filter = ("kind",)
    list_select_related = ("person", "source_agency")
    search_fields = ("person__id_number",)
    search_help_text = _("Số định danh của công dân (12 chữ số).")
    fields = (
        "person",
        "kind",
        "event_date",
        "legal_basis",
        "source_agency",
        "document_ref",
        "related_person",
        "details",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CivilEvent]:
        qs = super().get_queryset(request).select_related("related_person", "recorded_by")
        return scope_by_person(qs, request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        return _search(queryset, search_term, "person__id_number"), False


# --- reference data -------------------------------------------------------------------


class ReferenceAdmin(PermissionAdmin):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")
    fields = ("code", "name", "name_en")
    readonly_fields = fields
    list_per_page = 100


admin.site.register(Ethnicity, ReferenceAdmin)
admin.site.register(Religion, ReferenceAdmin)

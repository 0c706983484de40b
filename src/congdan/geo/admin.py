"""Read-only admin: units are reference data (reloaded with ``congdan load_units``) and
addresses are written only through ``geo.services.build_address``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from congdan.core.text import fold
from congdan.geo.models import Address, AdministrativeUnit


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "division_type", "level", "scheme", "parent", "successor")
    list_filter = ("scheme", "level", "division_type")
    search_fields = ("code", "name", "name_search", "id_code")
    list_select_related = ("parent", "successor")
    ordering = ("scheme", "level", "code")
    readonly_fields = ("name_search",)
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Also match names typed without diacritics ("da nang" finds "Đà Nẵng")."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        folded = fold(search_term)
        if folded:
            results = results | queryset.filter(name_search__contains=folded)
        return results, may_have_duplicates


@admin.register(Address)
class AddressAdmin(ReadOnlyAdmin):
    list_display = ("id", "text", "commune", "current_commune")
    list_select_related = ("commune", "current_commune")
    search_fields = ("text",)
    show_full_result_count = False

"""Admin of the access log and the change history: read-only, for supervision.

Neither can be added to, changed or deleted here (the access log refuses it in the model
and in the database too). Lists are ordered by id, not time, so that a page of the newest
entries is an index scan even with hundreds of millions of rows.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import AccessLogEntry, AccessLogSeal, ChangeRecord, Channel
from congdan.audit.services import log_access
from congdan.core.admin import PermissionAdmin
from congdan.core.permissions import Perm
from congdan.registry.admin import ADMIN_PURPOSE, scope_by_person
from congdan.registry.models import Person


def _by_person_or_actor(qs: QuerySet[Any], term: str) -> QuerySet[Any]:
    """A 12-digit term is a person's ID number; anything else an actor's username."""
    term = term.strip()
    if not term:
        return qs
    if term.isascii() and term.isdigit():
        return qs.filter(person_id__in=Person.objects.filter(id_number=term).values("pk"))
    return qs.filter(actor_label=term)


@admin.display(description=_("số định danh"))
def person_id_number(obj: Any) -> str:
    return obj.person.id_number if obj.person_id else "—"


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(PermissionAdmin):
    view_perm = Perm.ACCESS_LOG_READ
    list_display = (
        "at",
        "actor_label",
        "organisation",
        person_id_number,
        "channel",
        "view",
        "purpose",
        "request_id",
    )
    list_filter = ("channel", ("at", admin.DateFieldListFilter))
    list_select_related = ("person",)
    search_fields = ("actor_label",)  # shows the search box; see get_search_results
    search_help_text = _("Số định danh của công dân (12 chữ số) hoặc tên đăng nhập người truy cập.")
    ordering = ("-id",)
    fields = (
        "at",
        "actor",
        "actor_label",
        "organisation",
        "person",
        "channel",
        "view",
        "fields",
        "purpose",
        "request_id",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLogEntry]:
        return scope_by_person(super().get_queryset(request), request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return _by_person_or_actor(queryset, search_term), False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(PermissionAdmin):
    view_perm = Perm.PERSON_HISTORY_READ
    list_display = (
        "at",
        "actor_label",
        "organisation",
        "action",
        "object_type",
        "object_id",
        person_id_number,
        "reason",
    )
    list_filter = (("at", admin.DateFieldListFilter),)
    list_select_related = ("person",)
    search_fields = ("actor_label",)  # shows the search box; see get_search_results
    search_help_text = _(
        "Số định danh của công dân (12 chữ số) hoặc tên đăng nhập người thực hiện."
    )
    ordering = ("-id",)
    fields = (
        "at",
        "actor",
        "actor_label",
        "organisation",
        "action",
        "object_type",
        "object_id",
        "person",
        "changes_pretty",
        "reason",
        "legal_basis",
        "request_id",
    )
    readonly_fields = fields

    @admin.display(description=_("thay đổi (cũ → mới)"))
    def changes_pretty(self, obj: ChangeRecord) -> SafeString:
        text = json.dumps(obj.changes, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRecord]:
        return scope_by_person(super().get_queryset(request), request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return _by_person_or_actor(queryset, search_term), False

    def render_change_form(  # noqa: PLR0917 -- Django's signature
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # A change record carries a person's old and new values: reading it is a read.
        if obj is not None and obj.person_id is not None:
            log_access(
                request.user,
                person_ids=[obj.person_id],
                channel=Channel.ADMIN,
                view="admin_change_record",
                fields=sorted(obj.changes),
                purpose=ADMIN_PURPOSE,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(AccessLogSeal)
class AccessLogSealAdmin(PermissionAdmin):
    """Seals of the access log's segments (congdan.audit.sealing): read-only."""

    view_perm = Perm.ACCESS_LOG_SUPERVISE
    list_display = (
        "id",
        "month",
        "first_id",
        "last_id",
        "count",
        "closed",
        "sealed_at",
        "pruned_at",
    )
    list_filter = ("closed",)
    ordering = ("-id",)
    fields = (
        "month",
        "first_id",
        "last_id",
        "count",
        "closed",
        "entries_digest",
        "prev_hash",
        "seal_hash",
        "signature",
        "key_id",
        "sealed_at",
        "pruned_at",
    )
    readonly_fields = fields

"""Administration of member organisations, subsystems, grants, webhooks and rate limits.

Every change goes through ``exchange.services`` (permission ``exchange:grant:manage``,
change records); a service's refusal is shown on the form, never a 500. Grants are
never edited or deleted: an administrator shortens their validity or revokes them
(admin actions, with a reason), so the history of who could read what stays complete.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from congdan.core.admin import PermissionAdmin, ServiceFormAdmin, ServiceRejectedError, holds
from congdan.core.errors import DomainError
from congdan.core.permissions import Perm
from congdan.exchange.models import (
    AccessGrant,
    BatchJob,
    Consent,
    Contact,
    DataService,
    Delivery,
    Member,
    RateLimit,
    ServicePurpose,
    Subsystem,
    WebhookEndpoint,
)
from congdan.exchange.services import grants as grant_services
from congdan.exchange.services import members as member_services


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 1

    def _manages(self, request: HttpRequest) -> bool:
        return holds(request.user, Perm.EXCHANGE_MANAGE)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request)


class SubsystemInline(admin.TabularInline):
    model = Subsystem
    extra = 0
    fields = ("code", "name", "status", "application")
    readonly_fields = ("code", "name", "application")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Member)
class MemberAdmin(ServiceFormAdmin):
    view_perm = Perm.EXCHANGE_MANAGE
    change_perm = Perm.EXCHANGE_MANAGE
    list_display = ("code", "name", "member_class", "kind", "status", "identifier")
    list_filter = ("member_class", "kind", "status")
    search_fields = ("code", "name")
    inlines = (ContactInline, SubsystemInline)
    fields = ("code", "name", "member_class", "kind", "status", "agency")
    raw_id_fields = ("agency",)
    actions = ("add_subsystem",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code", "member_class") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Member, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                created = member_services.register_member(
                    request.user,  # type: ignore[arg-type]  # a logged-in staff user
                    code=data["code"],
                    name=data["name"],
                    kind=data["kind"],
                    member_class=data["member_class"],
                    agency=data.get("agency"),
                )
                obj.pk = created.pk
                obj._state.adding = False
                return
            if "status" in form.changed_data:
                member_services.set_member_status(
                    request.user,  # type: ignore[arg-type]  # a logged-in staff user
                    member_id=obj.pk,
                    status=data["status"],
                    reason=str(_("Đổi trạng thái trong trang quản trị")),
                )
            Member.objects.filter(pk=obj.pk).update(name=data["name"], kind=data["kind"])
        except DomainError as error:
            raise ServiceRejectedError(error) from error

    @admin.action(description=_("Thêm hệ thống (cấp client_id và client_secret)"))
    def add_subsystem(self, request: HttpRequest, queryset: QuerySet[Member]) -> None:
        for member in queryset:
            code = f"system{member.subsystems.count() + 1}"
            try:
                new = member_services.add_subsystem(
                    request.user,  # type: ignore[arg-type]  # a logged-in staff user
                    member=member,
                    code=code,
                    name=str(_("Hệ thống mới")),
                )
            except DomainError as error:
                self.message_user(request, str(error.message), messages.ERROR)
                continue
            self.message_user(
                request,
                _(
                    "%(identifier)s: client_id %(id)s · client_secret (chỉ hiển thị một lần, "
                    "hãy lưu lại ngay): %(secret)s"
                )
                % {
                    "identifier": new.subsystem.identifier,
                    "id": new.client_id,
                    "secret": new.client_secret,
                },
                messages.WARNING,
            )


class GrantForm(forms.ModelForm):
    fields_text = forms.CharField(
        label=_("Trường được phép"),
        help_text=_("Các trường của dịch vụ, cách nhau bởi dấu phẩy."),
        max_length=600,
    )

    class Meta:
        model = AccessGrant
        fields = (
            "member",
            "subsystem",
            "service",
            "purpose",
            "valid_from",
            "valid_until",
            "note",
        )


@admin.register(AccessGrant)
class AccessGrantAdmin(ServiceFormAdmin):
    form = GrantForm
    view_perm = Perm.EXCHANGE_MANAGE
    change_perm = Perm.EXCHANGE_MANAGE
    list_display = (
        "member",
        "subsystem",
        "service",
        "purpose",
        "valid_from",
        "valid_until",
        "revoked_at",
    )
    list_filter = ("service", "purpose__code", "revoked_at")
    search_fields = ("member__code", "member__name")
    list_select_related = ("member", "subsystem", "service", "purpose")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Existing grants are read-only (revoke or shorten them); new ones may be added.
        return obj is None and super().has_change_permission(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (*GrantForm.Meta.fields, "fields_text")
        return (
            *GrantForm.Meta.fields,
            "fields",
            "granted_by",
            "created_at",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        )

    def save_model(self, request: HttpRequest, obj: AccessGrant, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            created = grant_services.grant_access(
                request.user,  # type: ignore[arg-type]  # a logged-in staff user
                member=data["member"],
                subsystem=data.get("subsystem"),
                service=data["service"],
                purpose=data["purpose"],
                fields=[f.strip() for f in data["fields_text"].split(",")],
                valid_from=data.get("valid_from"),
                valid_until=data.get("valid_until"),
                note=data.get("note") or "",
            )
        except DomainError as error:
            raise ServiceRejectedError(error) from error
        obj.pk = created.pk
        obj._state.adding = False

    @admin.action(description=_("Thu hồi các quyền đã chọn"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessGrant]) -> None:
        done = 0
        for grant in queryset.filter(revoked_at__isnull=True):
            try:
                grant_services.revoke_grant(
                    request.user,  # type: ignore[arg-type]  # a logged-in staff user
                    grant_id=grant.pk,
                    reason=str(_("Thu hồi trong trang quản trị")),
                )
            except DomainError as error:
                self.message_user(request, str(error.message), messages.ERROR)
                continue
            done += 1
        self.message_user(request, _("Đã thu hồi %(n)d quyền.") % {"n": done})


class PurposeInline(admin.TabularInline):
    model = ServicePurpose
    extra = 0
    fields = ("code", "name", "legal_basis", "requires_consent", "hidden_days")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DataService)
class DataServiceAdmin(PermissionAdmin):
    """The catalogue is code (``exchange.catalogue``): shown here, changed there."""

    view_perm = Perm.EXCHANGE_MANAGE
    list_display = ("code", "kind", "name", "active")
    inlines = (PurposeInline,)


@admin.register(Consent)
class ConsentAdmin(PermissionAdmin):
    view_perm = Perm.ACCESS_LOG_SUPERVISE
    list_display = ("member", "service", "purpose", "granted_at", "valid_until", "revoked_at")
    list_filter = ("service", "revoked_at")
    list_select_related = ("member", "service", "purpose")
    raw_id_fields = ("person",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(PermissionAdmin):
    view_perm = Perm.EXCHANGE_MANAGE
    change_perm = Perm.EXCHANGE_MANAGE
    list_display = ("member", "url", "active", "cursor", "created_at")
    fields = ("member", "url", "active", "cursor", "created_at")
    readonly_fields = ("member", "url", "cursor", "created_at")


@admin.register(Delivery)
class DeliveryAdmin(PermissionAdmin):
    view_perm = Perm.EXCHANGE_MANAGE
    list_display = (
        "endpoint",
        "event_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
    )
    list_filter = ("status",)
    exclude = ("payload",)


@admin.register(BatchJob)
class BatchJobAdmin(PermissionAdmin):
    view_perm = Perm.EXCHANGE_MANAGE
    list_display = ("public_id", "member", "status", "total", "processed", "created_at")
    list_filter = ("status",)
    exclude = ("input_file", "result_file")


@admin.register(RateLimit)
class RateLimitAdmin(PermissionAdmin):
    view_perm = Perm.EXCHANGE_MANAGE
    change_perm = Perm.EXCHANGE_MANAGE
    list_display = ("member", "service", "per_minute")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request)

    def save_model(self, request: HttpRequest, obj: RateLimit, form: Any, change: bool) -> None:
        from congdan.audit.services import record_change  # noqa: PLC0415 -- keeps imports light
        from congdan.exchange import policy  # noqa: PLC0415

        before = RateLimit.objects.filter(pk=obj.pk).values_list("per_minute", flat=True).first()
        super().save_model(request, obj, form, change)
        record_change(
            request.user,
            action="exchange_rate_limit",
            obj=obj,
            changes={"per_minute": [before, obj.per_minute]},
        )
        policy.clear_caches()

"""Django admin for data stewards and administrators: the site gate, shared admin
building blocks, and the core models (users, agencies, API tokens).

Entry needs ``Perm.ADMIN_SITE`` (stewards, admins) on top of Django's ``is_staff``; each
model's view/change rights come from congdan's permissions (``PermissionAdmin``), not from
Django's per-model permission table, so a role means the same thing everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from congdan.core import api_auth
from congdan.core.errors import DomainError
from congdan.core.models import Agency, ApiToken, User
from congdan.core.permissions import Perm, Role, has_perm

if TYPE_CHECKING:
    from django.forms import ModelForm

# --- the site -------------------------------------------------------------------------


def site_has_permission(request: HttpRequest) -> bool:
    """Officers (no ``Perm.ADMIN_SITE``) never enter, even if someone made them staff."""
    user = request.user
    return bool(user.is_active and user.is_staff and has_perm(user, Perm.ADMIN_SITE))


admin.site.site_header = _("Quản trị cơ sở dữ liệu dân cư")
admin.site.site_title = _("Quản trị congdan")
admin.site.index_title = _("Quản lý dữ liệu")
# The default site instance is kept (urls.py mounts admin.site); only its gate changes.
admin.site.has_permission = site_has_permission  # type: ignore[method-assign]  # instance-level override of the site gate


# --- building blocks shared by the apps' admin modules --------------------------------


def holds(user: Any, perm: Perm | None) -> bool:
    return perm is not None and has_perm(user, Perm.ADMIN_SITE) and has_perm(user, perm)


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows: an exact ``COUNT(*)`` over millions of persons or
    hundreds of millions of log entries costs more than the page. Pages beyond the cap
    are reached by narrowing the search instead."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return object_list[: self.CAP].count()
        return min(len(object_list), self.CAP)


class PermissionAdmin(admin.ModelAdmin):
    """Rights from congdan permissions. Read-only unless ``change_perm`` is set; nothing
    is ever added or deleted here unless a subclass says so."""

    view_perm: Perm | None = Perm.ADMIN_SITE
    change_perm: Perm | None = None
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request.user, self.view_perm) or self.has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds(request.user, self.change_perm)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Domain errors raised by a service during ``save_model``, per request: the change form
# is shown again with the error on the field at fault (see ``ServiceFormAdmin``).
_service_errors: WeakKeyDictionary[HttpRequest, DomainError] = WeakKeyDictionary()


class ServiceRejectedError(Exception):
    def __init__(self, error: DomainError) -> None:
        super().__init__(str(error))
        self.error = error


class ServiceFormAdmin(PermissionAdmin):
    """Save through a service; a ``DomainError`` becomes a form error, not a 500.

    ``save_model`` raises ``ServiceRejectedError``; the whole form view (its transaction
    included) is left, then run again with a form class that reports the error, so the
    user sees their input and the message on the field at fault.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejectedError as rejected:
            _service_errors[request] = rejected.error
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            finally:
                _service_errors.pop(request, None)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        form_class: type[ModelForm[Any]] = super().get_form(request, obj, change, **kwargs)
        error = _service_errors.get(request)
        if error is None:
            return form_class
        name = (error.field or "").removesuffix("_id")
        message = str(error.message)

        class RejectedForm(form_class):  # type: ignore[valid-type,misc]  # built at runtime
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                self.add_error(name if name in self.fields else None, message)
                return cleaned

        return RejectedForm


# --- users and agencies ---------------------------------------------------------------


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "jurisdiction", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    list_select_related = ("jurisdiction",)
    raw_id_fields = ("jurisdiction",)
    list_per_page = 50


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]  # Django defines it
        (_("Vai trò và cơ quan"), {"fields": ("role", "agency", "position")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Vai trò và cơ quan"), {"fields": ("role", "agency", "position")}),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "role",
        "agency",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = ("role", "is_active", "is_staff", "agency__kind")
    list_select_related = ("agency",)
    autocomplete_fields = ("agency",)
    list_per_page = 50


# --- API tokens -----------------------------------------------------------------------


class ApiTokenCreateForm(forms.ModelForm):
    valid_days = forms.IntegerField(
        label=_("Số ngày hiệu lực"),
        min_value=0,
        max_value=api_auth.MAX_VALID_DAYS,
        initial=api_auth.DEFAULT_VALID_DAYS,
        help_text=_("0 = không hết hạn (không khuyến nghị)."),
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name")


_issued_keys: WeakKeyDictionary[HttpRequest, str] = WeakKeyDictionary()

KEY_PAGE = """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}
<h1>{{ heading }}</h1>
<p>{{ lead }}</p>
<p><label for="api-key">{{ key_label }}</label><br>
<input id="api-key" type="text" readonly value="{{ key }}" size="60"
 style="font-family: monospace" autocomplete="off" spellcheck="false"></p>
<p>{{ usage }} <code>Authorization: Bearer {{ prefix }}…</code></p>
<p><a href="{{ back_url }}">{{ back_label }}</a></p>
{% endblock %}
"""


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceFormAdmin):
    """Tokens are issued here (the key is shown once) or by ``create_api_token``;
    the stored hash is never shown. Admins see everyone's tokens, others their own."""

    view_perm = Perm.API_TOKEN_MANAGE
    list_display = ("prefix", "name", "user", "created_at", "expires_at", "last_used_at", "state")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("=prefix", "name", "user__username")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    actions = ("revoke",)
    ordering = ("-created_at",)
    detail_fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "state",
    )

    @admin.display(description=_("Trạng thái"))
    def state(self, obj: ApiToken) -> str:
        return str(api_auth.describe(obj))

    def _is_admin(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", "") == Role.ADMIN

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        qs = super().get_queryset(request)
        return qs if self._is_admin(request) else qs.filter(user_id=request.user.pk)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return holds(request.user, Perm.API_TOKEN_MANAGE)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return holds(request.user, Perm.API_TOKEN_MANAGE)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is not None:
            return self.detail_fields
        return ("user", "name", "valid_days") if self._is_admin(request) else ("name", "valid_days")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return self.detail_fields if obj is not None else ()

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        owner = form.cleaned_data.get("user") or request.user
        if not isinstance(owner, User):
            raise PermissionDenied
        days = form.cleaned_data.get("valid_days")
        try:
            token, key = api_auth.issue_token(
                request.user, owner=owner, name=form.cleaned_data["name"], valid_days=days or None
            )
        except DomainError as exc:
            raise ServiceRejectedError(exc) from exc
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        obj._state.db = token._state.db
        _issued_keys[request] = key

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        key = _issued_keys.pop(request, None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mã truy cập API mới"),
            "heading": _("Mã truy cập API mới: %(name)s") % {"name": obj.name},
            "lead": _(
                "Sao chép mã dưới đây ngay bây giờ. Hệ thống chỉ lưu mã băm, "
                "không hiển thị lại mã này."
            ),
            "key_label": _("Mã truy cập"),
            "key": key,
            "usage": _("Gửi kèm mỗi yêu cầu API trong tiêu đề:"),
            "prefix": obj.prefix,
            "back_url": "../",
            "back_label": _("Quay lại danh sách mã truy cập"),
        }
        html = engines["django"].from_string(KEY_PAGE).render(context, request)
        response = HttpResponse(html)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Thu hồi các mã đã chọn"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        try:
            count = api_auth.revoke_tokens(request.user, queryset)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return
        self.message_user(request, _("Đã thu hồi %(n)d mã.") % {"n": count}, messages.SUCCESS)

"""Admin for OpenID Connect relying parties, citizens' consents and signing keys.

Gated by ``Perm.OIDC_CLIENT_MANAGE``. A relying party is one page: the DOT
``Application`` with its ``ClientPolicy`` fields; a new one is registered through
``services.clients.create_client`` and its secret is shown once. DOT's own admin pages
(applications, tokens, grants) are removed: they would show tokens in clear.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from congdan.audit.services import diff
from congdan.core.admin import PermissionAdmin, ServiceFormAdmin, ServiceRejectedError
from congdan.core.errors import DomainError
from congdan.core.permissions import Perm
from congdan.identity.models import ClientPolicy, Consent, EidLevel, SigningKey
from congdan.identity.oidc import ALL_SCOPES
from congdan.identity.services import clients

Application = get_application_model()

for model in (
    Application,
    get_access_token_model(),
    get_refresh_token_model(),
    get_grant_model(),
    get_id_token_model(),
):
    with contextlib.suppress(NotRegistered):
        admin.site.unregister(model)


class RelyingPartyForm(forms.ModelForm):
    organisation = forms.CharField(label=_("Tổ chức"), max_length=255, required=False)
    logo = forms.FileField(label=_("Biểu tượng"), required=False)
    allowed_scopes = forms.MultipleChoiceField(
        label=_("Phạm vi được phép"),
        choices=[(s, s) for s in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    required_level = forms.TypedChoiceField(
        label=_("Mức độ tài khoản yêu cầu"), choices=EidLevel.choices, coerce=int, initial=1
    )
    sector_identifier = forms.CharField(
        label=_("Định danh khu vực (sector)"),
        max_length=255,
        required=False,
        help_text=_("Để trống: tên máy chủ của địa chỉ chuyển hướng đầu tiên."),
    )
    first_party = forms.BooleanField(
        label=_("Ứng dụng của hệ thống (bỏ qua trang đồng ý)"), required=False
    )

    class Meta:
        model = Application
        fields = [
            "name",
            "client_type",
            "authorization_grant_type",
            "redirect_uris",
            "post_logout_redirect_uris",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grant_field = cast(forms.ChoiceField, self.fields["authorization_grant_type"])
        grant_field.choices = [
            (
                AbstractApplication.GRANT_AUTHORIZATION_CODE,
                _("Đăng nhập công dân (authorization code)"),
            ),
            (
                AbstractApplication.GRANT_CLIENT_CREDENTIALS,
                _("Hệ thống thành viên (client credentials)"),
            ),
        ]
        policy = (
            ClientPolicy.objects.filter(application_id=self.instance.pk).first()
            if self.instance.pk
            else None
        )
        if policy is not None:
            for name in (
                "organisation",
                "allowed_scopes",
                "required_level",
                "sector_identifier",
                "first_party",
            ):
                self.initial[name] = getattr(policy, name)


class RelyingPartyAdmin(ServiceFormAdmin):
    form = RelyingPartyForm
    view_perm = Perm.OIDC_CLIENT_MANAGE
    change_perm = Perm.OIDC_CLIENT_MANAGE
    list_display = ("name", "client_id", "client_type", "authorization_grant_type", "created")
    search_fields = ("name", "client_id")
    readonly_fields = ("client_id",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_change_permission(request)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        base = [
            "name",
            "client_type",
            "authorization_grant_type",
            "redirect_uris",
            "post_logout_redirect_uris",
            "organisation",
            "logo",
            "allowed_scopes",
            "required_level",
            "sector_identifier",
            "first_party",
        ]
        return ["client_id", *base] if obj is not None else base

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                registered = clients.create_client(
                    request.user,
                    name=data["name"],
                    redirect_uris=data["redirect_uris"].split(),
                    post_logout_redirect_uris=data["post_logout_redirect_uris"].split(),
                    scopes=data["allowed_scopes"],
                    required_level=data["required_level"],
                    confidential=data["client_type"] == AbstractApplication.CLIENT_CONFIDENTIAL,
                    organisation=data["organisation"],
                    sector_identifier=data["sector_identifier"],
                    first_party=data["first_party"],
                    client_credentials=(
                        data["authorization_grant_type"]
                        == AbstractApplication.GRANT_CLIENT_CREDENTIALS
                    ),
                )
                obj.pk = registered.application.pk
                obj.client_id = registered.application.client_id
                policy = registered.policy
                message = _("Đã đăng ký ứng dụng. client_id: %(id)s") % {"id": obj.client_id}
                if registered.client_secret:
                    message += str(
                        _(" · client_secret (chỉ hiển thị một lần, hãy lưu lại ngay): %(secret)s")
                        % {"secret": registered.client_secret}
                    )
                self.message_user(request, message, messages.WARNING)
            else:
                policy, _created = ClientPolicy.objects.get_or_create(
                    application=obj,
                    defaults={
                        "sector_identifier": clients.default_sector(obj.redirect_uris.split())
                    },
                )
                before = {
                    "allowed_scopes": policy.allowed_scopes,
                    "required_level": policy.required_level,
                    "organisation": policy.organisation,
                    "sector_identifier": policy.sector_identifier,
                    "first_party": policy.first_party,
                }
                policy.allowed_scopes = clients.clean_scopes(data["allowed_scopes"])
                policy.required_level = data["required_level"]
                policy.organisation = data["organisation"]
                policy.sector_identifier = (
                    data["sector_identifier"]
                    or clients.default_sector(obj.redirect_uris.split())
                    or obj.name
                )
                policy.first_party = data["first_party"]
                obj.save()
                after = {key: getattr(policy, key) for key in before}
                clients.record_client_change(
                    request.user,
                    application=obj,
                    changes={
                        **diff(before, after),
                        **{
                            name: [None, str(data[name])]
                            for name in form.changed_data
                            if name in RelyingPartyForm.Meta.fields
                        },
                    },
                )
            if data.get("logo"):
                policy.logo = data["logo"]
            policy.save()
        except DomainError as error:
            raise ServiceRejectedError(error) from error

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None


class ConsentAdmin(PermissionAdmin):
    view_perm = Perm.OIDC_CLIENT_MANAGE
    list_display = ("user", "application", "scopes", "granted_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("user", "application", "scopes", "granted_at", "revoked_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consent]:
        return super().get_queryset(request).select_related("user", "application")


class SigningKeyAdmin(PermissionAdmin):
    """Read-only; the private key is never shown (rotate with ``congdan oidc_keys``)."""

    view_perm = Perm.OIDC_CLIENT_MANAGE
    list_display = ("kid", "created_at", "retired_at", "retire_after")
    fields = ("kid", "created_at", "retired_at", "retire_after")
    readonly_fields = fields


admin.site.register(Application, RelyingPartyAdmin)
admin.site.register(Consent, ConsentAdmin)
admin.site.register(SigningKey, SigningKeyAdmin)

"""Admin for the wallet: trusted foreign issuers (added and deactivated here), and
read-only views of issuer keys, documents and shares.

Rights come from congdan permissions (``PermissionAdmin``): trusted issuers are managed by
whoever manages OIDC relying parties (``Perm.OIDC_CLIENT_MANAGE``: administrators);
keys, documents and shares are visible to the admin site's users (stewards, admins), never
changed here. No page shows a private key, a share's token (the link is a bearer
capability) or a document's content: documents are listed by number, type and status
within the user's jurisdiction.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from congdan.audit.services import diff, record_change
from congdan.core.admin import PermissionAdmin, holds
from congdan.core.permissions import Perm
from congdan.registry.admin import scope_by_person
from congdan.wallet.models import Document, IssuerKey, Share, TrustedIssuer


class TrustedIssuerForm(forms.ModelForm):
    issuer = forms.URLField(
        label=_("định danh bên cấp (iss)"), max_length=300, assume_scheme="https"
    )

    class Meta:
        model = TrustedIssuer
        fields = ("issuer", "name", "active")

    def clean_issuer(self) -> str:
        value = str(self.cleaned_data["issuer"]).strip().rstrip("/")
        if not value.startswith("https://") and not value.startswith("http://"):
            raise forms.ValidationError(_("Định danh bên cấp phải là địa chỉ https://."))
        return value


@admin.register(TrustedIssuer)
class TrustedIssuerAdmin(PermissionAdmin):
    """Another installation's issuers our verifier accepts. The JWKS is fetched at the
    first verification (and hourly); the time of the last fetch is shown."""

    view_perm = Perm.OIDC_CLIENT_MANAGE
    change_perm = Perm.OIDC_CLIENT_MANAGE
    form = TrustedIssuerForm
    list_display = ("name", "issuer", "active", "jwks_fetched_at", "key_count")
    list_filter = ("active",)
    search_fields = ("name", "issuer")
    readonly_fields = ("jwks_fetched_at", "key_count")
    actions = ("deactivate",)

    @admin.display(description=_("số khóa đã lưu"))
    def key_count(self, obj: TrustedIssuer) -> int:
        keys = obj.jwks.get("keys") if isinstance(obj.jwks, dict) else None
        return len(keys) if isinstance(keys, list) else 0

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return holds(request.user, Perm.OIDC_CLIENT_MANAGE)

    def save_model(self, request: HttpRequest, obj: TrustedIssuer, form: Any, change: bool) -> None:
        before = TrustedIssuer.objects.filter(pk=obj.pk).first() if change else None
        if before is not None and before.issuer != obj.issuer:
            # Another issuer: the stored keys were someone else's.
            obj.jwks, obj.jwks_fetched_at = {}, None
        super().save_model(request, obj, form, change)
        fields = ("issuer", "name", "active")
        old = {name: getattr(before, name) for name in fields} if before is not None else {}
        record_change(
            request.user,
            action="change_trusted_issuer" if change else "add_trusted_issuer",
            obj=obj,
            changes=diff(old, {name: getattr(obj, name) for name in fields}),
        )

    @admin.action(description=_("Ngừng tin cậy các bên cấp đã chọn"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[TrustedIssuer]) -> None:
        for issuer in queryset.filter(active=True):
            issuer.active = False
            issuer.save(update_fields=["active"])
            record_change(
                request.user,
                action="change_trusted_issuer",
                obj=issuer,
                changes={"active": [True, False]},
            )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("deactivate", None)
        return actions


@admin.register(IssuerKey)
class IssuerKeyAdmin(PermissionAdmin):
    """Read-only; the private key is never shown (rotate with ``congdan wallet_rotate_key``)."""

    list_display = ("kid", "agency", "created_at", "retired_at")
    list_filter = ("retired_at",)
    list_select_related = ("agency",)
    search_fields = ("kid", "agency__code")
    fields = ("kid", "agency", "public_jwk", "created_at", "retired_at")
    readonly_fields = fields


@admin.register(Document)
class DocumentAdmin(PermissionAdmin):
    """Numbers, types, issuers and statuses of documents held by persons in the user's
    jurisdiction; the content is the holder's and is not shown here."""

    list_display = ("number", "doc_type", "kind", "issuer", "status", "issued_at", "valid_until")
    list_filter = ("kind", "status", "integrated", "doc_type")
    list_select_related = ("issuer",)
    search_fields = ("=number",)
    fields = (
        "number",
        "doc_type",
        "title_vi",
        "kind",
        "integrated",
        "issuer",
        "issued_at",
        "valid_until",
        "status",
        "credential_format",
        "upload_state",
        "revoked_at",
        "suspended_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        return scope_by_person(super().get_queryset(request), request.user, "holder")


@admin.register(Share)
class ShareAdmin(PermissionAdmin):
    """Shares of documents in the user's jurisdiction: which fields, until when, revoked
    or not. The token (the link itself) is not shown."""

    list_display = ("pk", "document", "created_at", "expires_at", "revoked_at", "fits_qr")
    list_filter = ("revoked_at", "fits_qr")
    list_select_related = ("document",)
    search_fields = ("=document__number",)
    fields = ("document", "claims", "note", "created_at", "expires_at", "revoked_at", "fits_qr")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Share]:
        return scope_by_person(super().get_queryset(request), request.user, "document__holder")

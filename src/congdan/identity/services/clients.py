"""Relying parties, citizens' consent and the ID-token signing keys (state changes).

Each function takes the acting user first (None for the system: a command or the
portal itself), runs in one transaction and records the change in the audit history.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from congdan.audit.services import record_change
from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.models import Agency
from congdan.core.permissions import Perm, check_perm
from congdan.identity import keys
from congdan.identity.models import ClientPolicy, Consent, EidLevel, SigningKey
from congdan.identity.oidc import ALL_SCOPES, SYSTEM_SCOPES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from oauth2_provider.models import Application

    from congdan.core.models import User

    Actor = User | AnonymousUser | None

PORTAL_CLIENT_ID = "congdan-portal"
PORTAL_SCOPES = ["openid", "profile", "id_number"]


def _check_actor(actor: Actor, perm: Perm) -> None:
    """``None`` is the system (a management command, the portal's own client)."""
    if actor is not None:
        check_perm(actor, perm)


def _application_model() -> type[Application]:
    return get_application_model()


# --- consent ------------------------------------------------------------------------------


def live_consent(user: User, application: Application) -> Consent | None:
    return Consent.objects.filter(
        user=user, application=application, revoked_at__isnull=True
    ).first()


def consent_covers(user: User, application: Application, scopes: Iterable[str]) -> bool:
    consent = live_consent(user, application)
    return consent is not None and set(scopes) <= set(consent.scopes)


def grant_consent(actor: User, *, application: Application, scopes: Sequence[str]) -> Consent:
    """Remember that the citizen (the actor) gives the client these scopes. A consent
    that already covers them is kept; otherwise it is replaced by one for the union."""
    with transaction.atomic():
        current = (
            Consent.objects.select_for_update()
            .filter(user=actor, application=application, revoked_at__isnull=True)
            .first()
        )
        wanted = set(scopes)
        if current is not None and wanted <= set(current.scopes):
            return current
        before: list[str] = []
        if current is not None:
            before = list(current.scopes)
            wanted |= set(current.scopes)
            current.revoked_at = timezone.now()
            current.save(update_fields=["revoked_at"])
        consent = Consent.objects.create(user=actor, application=application, scopes=sorted(wanted))
        record_change(
            actor,
            action="oidc_consent_grant",
            obj=consent,
            changes={
                "scopes": [before, consent.scopes],
                "client_id": [None, application.client_id],
            },
            person_id=_person_id(actor),
            reason="citizen_consent",
        )
    return consent


def revoke_consent(actor: User, *, consent_id: int) -> Consent:
    """The citizen withdraws a consent: the client's refresh and access tokens for them
    stop working at once. Someone else's consent is a NotFound, like a missing one."""
    refresh_model = get_refresh_token_model()
    access_model = get_access_token_model()
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .select_related("application")
            .filter(pk=consent_id, user=actor, revoked_at__isnull=True)
            .first()
        )
        if consent is None:
            raise NotFound(_("Không tìm thấy sự đồng ý này."), code="consent_not_found")
        now = timezone.now()
        consent.revoked_at = now
        consent.save(update_fields=["revoked_at"])
        refresh_model.objects.filter(
            user=actor, application=consent.application, revoked__isnull=True
        ).update(revoked=now)
        access_model.objects.filter(user=actor, application=consent.application).delete()
        record_change(
            actor,
            action="oidc_consent_revoke",
            obj=consent,
            changes={"revoked_at": [None, now.isoformat()]},
            person_id=_person_id(actor),
            reason="citizen_revoked",
        )
    return consent


def _person_id(user: Any) -> int | None:
    eid = getattr(user, "eid", None)
    return eid.person_id if eid is not None else None


# --- relying parties ----------------------------------------------------------------------


@dataclass
class RegisteredClient:
    application: Application
    policy: ClientPolicy
    client_secret: str  # plain text, shown once ("" for a public client)


def default_sector(redirect_uris: Sequence[str]) -> str:
    return urlsplit(redirect_uris[0]).hostname or "" if redirect_uris else ""


def clean_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(dict.fromkeys(s for s in scopes if s))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ValidationFailed(
            _("Phạm vi không tồn tại: %(names)s") % {"names": ", ".join(unknown)},
            code="unknown_scope",
            field="allowed_scopes",
        )
    return scopes


def create_client(
    actor: Actor,
    *,
    name: str,
    redirect_uris: Sequence[str] = (),
    post_logout_redirect_uris: Sequence[str] = (),
    scopes: Iterable[str],
    required_level: int = EidLevel.LEVEL1,
    confidential: bool = True,
    organisation: str = "",
    sector_identifier: str = "",
    first_party: bool = False,
    client_credentials: bool = False,
    client_id: str | None = None,
    client_secret: str | None = None,
    agency: Agency | None = None,
) -> RegisteredClient:
    """Register a relying party (or, with ``client_credentials``, a member-organisation
    system) with its policy. The plain secret is returned once; only its hash is kept.

    ``agency``: the agency a member system acts for; required (and active) for the
    ``wallet:issue`` scope, whose documents are issued in that agency's name."""
    _check_actor(actor, Perm.OIDC_CLIENT_MANAGE)
    allowed = clean_scopes(scopes)
    if "wallet:issue" in allowed and (agency is None or not agency.active):
        raise ValidationFailed(
            _(
                "Phạm vi wallet:issue cần một cơ quan cấp giấy tờ đang hoạt động "
                "(hệ thống cấp giấy tờ nhân danh cơ quan đó)."
            ),
            code="agency_required",
            field="agency",
        )
    if client_credentials:
        confidential = True
        if not set(allowed) <= set(SYSTEM_SCOPES):
            raise ValidationFailed(
                _("Hệ thống kết nối (client credentials) chỉ được các phạm vi hệ thống %(scopes)s.")
                % {"scopes": ", ".join(SYSTEM_SCOPES)},
                code="system_scopes_only",
                field="allowed_scopes",
            )
    elif not redirect_uris:
        raise ValidationFailed(
            _("Cần ít nhất một địa chỉ chuyển hướng (redirect URI)."),
            code="redirect_uri_required",
            field="redirect_uris",
        )
    if required_level not in (EidLevel.LEVEL1, EidLevel.LEVEL2):
        raise ValidationFailed(_("Mức độ không hợp lệ."), code="bad_level", field="required_level")
    model = _application_model()
    secret = (client_secret or generate_client_secret()) if confidential else ""
    with transaction.atomic():
        if client_id and model.objects.filter(client_id=client_id).exists():
            raise ValidationFailed(
                _("Mã ứng dụng (client_id) đã tồn tại."), code="client_exists", field="client_id"
            )
        application = model(
            name=name,
            redirect_uris=" ".join(redirect_uris),
            post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
            client_type=(
                AbstractApplication.CLIENT_CONFIDENTIAL
                if confidential
                else AbstractApplication.CLIENT_PUBLIC
            ),
            authorization_grant_type=(
                AbstractApplication.GRANT_CLIENT_CREDENTIALS
                if client_credentials
                else AbstractApplication.GRANT_AUTHORIZATION_CODE
            ),
            algorithm=AbstractApplication.RS256_ALGORITHM,
            client_secret=secret,
            skip_authorization=False,
        )
        if client_id:
            application.client_id = client_id
        application.save()
        policy = ClientPolicy.objects.create(
            application=application,
            organisation=organisation,
            allowed_scopes=allowed,
            required_level=required_level,
            sector_identifier=sector_identifier or default_sector(redirect_uris) or name,
            first_party=first_party,
            agency=agency,
        )
        record_change(
            actor,
            action="oidc_client_create",
            obj=application,
            changes={
                "name": [None, name],
                "client_id": [None, application.client_id],
                "allowed_scopes": [None, allowed],
                "required_level": [None, required_level],
                "client_type": [None, application.client_type],
                "redirect_uris": [None, list(redirect_uris)],
                "agency": [None, agency.code if agency is not None else None],
            },
        )
    return RegisteredClient(application=application, policy=policy, client_secret=secret)


def record_client_change(
    actor: Actor, *, application: Application, changes: dict[str, list[Any]]
) -> None:
    """Record an administrator's edit of a relying party (the admin saves the rows)."""
    _check_actor(actor, Perm.OIDC_CLIENT_MANAGE)
    if changes:
        record_change(actor, action="oidc_client_change", obj=application, changes=changes)


def portal_redirect_uri() -> str:
    return f"{settings.CONGDAN_PUBLIC_URL}/me/callback/"


def portal_post_logout_uri() -> str:
    return f"{settings.CONGDAN_PUBLIC_URL}/"


def ensure_portal_client() -> Application:
    """The portal's own first-party public client, made on first use and kept in step
    with ``CONGDAN_PUBLIC_URL`` (its redirect URIs follow the setting)."""
    model = _application_model()
    redirect_uri = portal_redirect_uri()
    post_logout = portal_post_logout_uri()
    app = model.objects.filter(client_id=PORTAL_CLIENT_ID).select_related("policy").first()
    if app is None:
        try:
            return create_client(
                None,
                name=str(settings.CONGDAN_SITE_NAME),
                redirect_uris=[redirect_uri],
                post_logout_redirect_uris=[post_logout],
                scopes=PORTAL_SCOPES,
                confidential=False,
                organisation=str(settings.CONGDAN_SITE_NAME),
                sector_identifier=PORTAL_CLIENT_ID,
                first_party=True,
                client_id=PORTAL_CLIENT_ID,
            ).application
        except ValidationFailed:  # made by a concurrent request in between
            return model.objects.get(client_id=PORTAL_CLIENT_ID)
    if app.redirect_uris != redirect_uri or app.post_logout_redirect_uris != post_logout:
        with transaction.atomic():
            locked = model.objects.select_for_update().get(pk=app.pk)
            before = {"redirect_uris": locked.redirect_uris}
            locked.redirect_uris = redirect_uri
            locked.post_logout_redirect_uris = post_logout
            locked.save(update_fields=["redirect_uris", "post_logout_redirect_uris"])
            record_change(
                None,
                action="oidc_client_change",
                obj=locked,
                changes={"redirect_uris": [before["redirect_uris"], redirect_uri]},
                reason="public_url_changed",
            )
        app = locked
    return app


# The demo relying parties of ``congdan oidc_client ensure-demo`` (docs/oidc.md).
DEMO_CLIENTS: tuple[dict[str, Any], ...] = (
    {
        "client_id": "demo-bank",
        "client_secret": "demo-bank-secret-not-for-production",
        "name": "Ngân hàng Demo",
        "organisation": "Ngân hàng Demo",
        "redirect_uris": ["http://127.0.0.1:8765/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:8765/"],
        "scopes": ["openid", "profile", "id_number", "phone"],
        "required_level": EidLevel.LEVEL1,
    },
    {
        "client_id": "demo-dichvucong",
        "client_secret": "demo-dichvucong-secret-not-for-production",
        "name": "Dịch vụ công Demo",
        "organisation": "Cổng dịch vụ công Demo",
        "redirect_uris": ["http://127.0.0.1:8766/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:8766/"],
        "scopes": ["openid", "profile", "id_number", "address", "household", "card"],
        "required_level": EidLevel.LEVEL2,
    },
)


def demo_mode() -> bool:
    return bool(settings.DEBUG or getattr(settings, "CONGDAN_DEMO", False)) or (
        os.environ.get("CONGDAN_DEMO") == "1"
    )


def ensure_demo_clients() -> list[tuple[dict[str, Any], bool]]:
    """Make the two demo relying parties if missing. Returns (spec, created) pairs."""
    if not demo_mode():
        raise ValidationFailed(
            _("Chỉ tạo ứng dụng demo khi bật CONGDAN_DEMO hoặc DEBUG."), code="demo_only"
        )
    model = _application_model()
    out = []
    for spec in DEMO_CLIENTS:
        if model.objects.filter(client_id=spec["client_id"]).exists():
            out.append((spec, False))
            continue
        create_client(
            None,
            name=spec["name"],
            redirect_uris=spec["redirect_uris"],
            post_logout_redirect_uris=spec["post_logout_redirect_uris"],
            scopes=spec["scopes"],
            required_level=spec["required_level"],
            confidential=True,
            organisation=spec["organisation"],
            client_id=spec["client_id"],
            client_secret=spec["client_secret"],
        )
        out.append((spec, True))
    return out


# The demo member systems of ``congdan demo_accounts`` (docs/wallet.md): an issuer that
# pushes documents in the name of ``agency`` and a requester that pulls them with the
# citizen's consent.
DEMO_WALLET_CLIENTS: tuple[dict[str, Any], ...] = (
    {
        "client_id": "demo-issuer-c06",
        "client_secret": "demo-issuer-c06-secret-not-for-production",
        "name": "Hệ thống cấp giấy tờ Demo (C06)",
        "organisation": "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
        "scopes": ["wallet:issue"],
        "agency": "C06",
    },
    {
        "client_id": "demo-bank-wallet",
        "client_secret": "demo-bank-wallet-secret-not-for-production",
        "name": "Ngân hàng Demo (lấy giấy tờ)",
        "organisation": "Ngân hàng Demo",
        "scopes": ["wallet:read"],
        "agency": None,
    },
)


def ensure_demo_wallet_clients() -> list[tuple[dict[str, Any], bool]]:
    """Make the demo issuer and requester systems if missing (their agencies must
    exist: ``wallet.seed.ensure_agencies``). Returns (spec, created) pairs."""
    if not demo_mode():
        raise ValidationFailed(
            _("Chỉ tạo ứng dụng demo khi bật CONGDAN_DEMO hoặc DEBUG."), code="demo_only"
        )
    model = _application_model()
    out = []
    for spec in DEMO_WALLET_CLIENTS:
        if model.objects.filter(client_id=spec["client_id"]).exists():
            out.append((spec, False))
            continue
        agency = Agency.objects.filter(code=spec["agency"]).first() if spec["agency"] else None
        create_client(
            None,
            name=spec["name"],
            scopes=spec["scopes"],
            organisation=spec["organisation"],
            client_credentials=True,
            client_id=spec["client_id"],
            client_secret=spec["client_secret"],
            agency=agency,
        )
        out.append((spec, True))
    return out


# --- signing keys -------------------------------------------------------------------------


def rotate_signing_key(actor: Actor) -> SigningKey:
    """Make a new signing key; the previous ones stop signing but stay published until
    their tokens have expired (``retire_after``)."""
    _check_actor(actor, Perm.OIDC_CLIENT_MANAGE)
    kid, pem = keys.new_key_material()
    with transaction.atomic():
        now = timezone.now()
        old = list(SigningKey.objects.select_for_update().filter(retired_at__isnull=True))
        retire_after = now + keys.retirement_grace()
        for key in old:
            key.retired_at = now
            key.retire_after = retire_after
            key.save(update_fields=["retired_at", "retire_after"])
        new = SigningKey.objects.create(kid=kid, private_pem=pem, created_at=now)
        record_change(
            actor,
            action="oidc_key_rotate",
            obj=new,
            changes={"kid": [None, kid], "retired": [None, [k.kid for k in old]]},
        )
    return new

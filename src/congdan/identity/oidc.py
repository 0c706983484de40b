"""The OpenID Connect side of the identity app: scopes → claims, subjects, and the
django-oauth-toolkit validator that enforces client policies and signs ID tokens.

Docs: docs/oidc.md. Claims are read from the registry models for the citizen's own
person; every ID token carrying claims beyond ``sub`` and every userinfo response
appends an access-log entry naming the client as the reader.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from jwcrypto import jws, jwt
from oauth2_provider.models import AbstractApplication, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.identity import keys
from congdan.identity.models import AccountStatus, ClientPolicy, Consent, EidAccount
from congdan.registry.models import (
    CardStatus,
    DatePrecision,
    HouseholdMembership,
    IdentityCard,
    Person,
    Relationship,
    Residence,
    ResidenceKind,
)

if TYPE_CHECKING:
    from oauth2_provider.models import Application
    from oauthlib.common import Request

# Scopes a relying party may be allowed; client credentials use the system scopes:
# ``registry:read`` (lookups), ``wallet:issue`` (an agency pushes or revokes documents,
# needs the policy's agency) and ``wallet:read`` (a requester pulls, with consent).
USER_SCOPES = (
    "openid",
    "profile",
    "id_number",
    "address",
    "phone",
    "household",
    "card",
    "access_log",
)
# Scopes that grant an API right (reading one's own access log), not ID-token claims.
NON_CLAIM_SCOPES = frozenset({"access_log"})
SYSTEM_SCOPES = ("registry:read", "wallet:issue", "wallet:read", "exchange:query")
ALL_SCOPES = USER_SCOPES + SYSTEM_SCOPES

# Each scope's claims with the label the consent page shows for it.
SCOPE_CLAIMS: dict[str, tuple[tuple[str, Promise], ...]] = {
    "openid": (
        ("sub", _("Mã định danh của bạn dành riêng cho ứng dụng này")),
        ("acr", _("Mức độ tài khoản định danh điện tử")),
    ),
    "profile": (
        ("name", _("Họ, chữ đệm và tên")),
        ("birthdate", _("Ngày sinh")),
        ("gender", _("Giới tính")),
    ),
    "id_number": (("id_number", _("Số định danh cá nhân")),),
    "address": (
        (
            "address",
            _("Nơi thường trú: địa chỉ, tên và mã xã/phường, tỉnh/thành phố hiện nay"),
        ),
    ),
    "phone": (("phone_number", _("Số điện thoại đã xác thực của tài khoản")),),
    "household": (("household", _("Số hộ, họ tên chủ hộ, quan hệ với chủ hộ")),),
    "card": (("id_card", _("Số thẻ căn cước, ngày cấp, ngày hết hạn của thẻ còn hiệu lực")),),
    "access_log": (
        (
            "access_log",
            _("Nhật ký ai đã xem dữ liệu của bạn: ai, khi nào, trường nào, mục đích gì"),
        ),
    ),
    "registry:read": (),
    "wallet:issue": (),
    "wallet:read": (),
    "exchange:query": (),
}

ACR_LEVEL1 = "level1"
ACR_LEVEL2 = "level2"
ACR_VALUES = (ACR_LEVEL1, ACR_LEVEL2)
# Claims that are not personal data (their presence alone does not log an access).
TECHNICAL_CLAIMS = frozenset(
    {"sub", "acr", "amr", "auth_time", "iss", "aud", "exp", "iat", "nonce", "jti"}
)
# In an authorization code's stored ``claims``: how and when the citizen logged in.
AUTH_STASH_KEY = "_congdan_auth"
GENDERS = {"M": "male", "F": "female"}


def acr_of(level: int) -> str:
    return ACR_LEVEL2 if level >= 2 else ACR_LEVEL1


def level_of_acr_values(acr_values: str | Sequence[str] | None) -> int:
    """The lowest level a request's ``acr_values`` accepts (1 when none is known)."""
    values = acr_values.split() if isinstance(acr_values, str) else list(acr_values or [])
    levels = [2 if v == ACR_LEVEL2 else 1 for v in values if v in ACR_VALUES]
    return min(levels) if levels else 1


def claim_labels(scopes: Iterable[str]) -> list[tuple[str, Promise]]:
    """(claim, human label) for the consent page, in scope order."""
    wanted = set(scopes)
    return [pair for scope in USER_SCOPES if scope in wanted for pair in SCOPE_CLAIMS[scope]]


def policy_of(application: Application | None) -> ClientPolicy | None:
    if application is None:
        return None
    try:
        return application.policy
    except ClientPolicy.DoesNotExist:
        return None


def subject_for(account: EidAccount, policy: ClientPolicy | None) -> str:
    """The OIDC ``sub``: the public id for clients allowed the ID number, otherwise a
    pairwise identifier (HMAC of the sector and the public id, keyed from SECRET_KEY)."""
    if policy is not None and "id_number" in policy.allowed_scopes:
        return str(account.public_id)
    sector = policy.sector_identifier if policy is not None else ""
    return salted_hmac(
        "congdan.identity.oidc.pairwise-sub",
        f"{sector}|{account.public_id}",
        algorithm="sha256",
    ).hexdigest()


def _birthdate(person: Person) -> str:
    date = person.birth_date
    if person.birth_date_precision == DatePrecision.YEAR:
        return f"{date.year:04d}"
    if person.birth_date_precision == DatePrecision.MONTH:
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()


def _address(person: Person) -> dict[str, Any] | None:
    residence = (
        Residence.objects.filter(person=person, kind=ResidenceKind.PERMANENT, ended_on__isnull=True)
        .select_related("address", "address__current_commune__parent", "commune__parent")
        .order_by("-start_date", "-id")
        .first()
    )
    if residence is None:
        return None
    commune = residence.address.current_commune or residence.commune
    province = commune.parent if commune is not None else None
    return {
        "formatted": residence.address.text,
        "street_address": residence.address.street,
        "locality": commune.name if commune else "",
        "region": province.name if province else "",
        "country": "VN",
        "commune_code": commune.code if commune else "",
        "province_code": province.code if province else "",
    }


def _household(person: Person) -> dict[str, Any] | None:
    membership = (
        HouseholdMembership.objects.filter(person=person, until__isnull=True)
        .select_related("household")
        .first()
    )
    if membership is None:
        return None
    head = (
        HouseholdMembership.objects.filter(
            household_id=membership.household_id, until__isnull=True, relationship=Relationship.HEAD
        )
        .select_related("person")
        .first()
    )
    return {
        "code": membership.household.code,
        "head_name": head.person.full_name if head else "",
        "relationship": membership.relationship,
    }


def _card(person: Person) -> dict[str, Any] | None:
    today = timezone.localdate()
    card = (
        IdentityCard.objects.filter(person=person, status=CardStatus.VALID)
        .exclude(expiry_date__lt=today)
        .order_by("-issue_date", "-id")
        .first()
    )
    if card is None:
        return None
    return {
        "number": card.number,
        "type": card.card_type,
        "issue_date": card.issue_date.isoformat(),
        "expiry_date": card.expiry_date.isoformat() if card.expiry_date else None,
    }


def registry_claims(account: EidAccount, scopes: Iterable[str]) -> dict[str, Any]:
    """The personal claims the scopes give, read from the citizen's own registry record."""
    wanted = set(scopes)
    person = account.person
    claims: dict[str, Any] = {}
    if "profile" in wanted:
        claims["name"] = person.full_name
        claims["birthdate"] = _birthdate(person)
        claims["gender"] = GENDERS.get(person.sex, "other")
    if "id_number" in wanted:
        claims["id_number"] = person.id_number
    if "address" in wanted and (address := _address(person)) is not None:
        claims["address"] = address
    if "phone" in wanted and account.phone_verified_at is not None:
        claims["phone_number"] = (
            "+84" + account.phone[1:] if account.phone.startswith("0") else account.phone
        )
        claims["phone_number_verified"] = True
    if "household" in wanted and (household := _household(person)) is not None:
        claims["household"] = household
    if "card" in wanted and (card := _card(person)) is not None:
        claims["id_card"] = card
    return claims


def log_claims_read(
    account: EidAccount, application: Application, claims: dict[str, Any], *, view: str
) -> None:
    """Append the access-log entry for a client receiving personal claims (if any)."""
    fields = [name for name in claims if name not in TECHNICAL_CLAIMS]
    if not fields:
        return
    policy = policy_of(application)
    client_id = application.client_id
    log_access(
        None,
        person_ids=[account.person_id],
        channel=Channel.OIDC,
        view=view,
        fields=fields,
        purpose=f"oidc:{client_id}",
        on_behalf_of=(f"oidc:{client_id}", policy.organisation if policy else ""),
    )


def account_for_user(user: Any) -> EidAccount | None:
    if user is None or not getattr(user, "pk", None):
        return None
    cached = getattr(user, "_congdan_eid", None)
    if cached is not None:
        return cached
    account = EidAccount.objects.select_related("person").filter(user_id=user.pk).first()
    user._congdan_eid = account
    return account


def live_consent_exists(user_id: int, application_id: int) -> bool:
    return Consent.objects.filter(
        user_id=user_id, application_id=application_id, revoked_at__isnull=True
    ).exists()


class CongdanOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator with congdan's client policies, claims, signing
    keys and issuer (``settings.CONGDAN_PUBLIC_URL``, read at request time)."""

    # -- issuer and keys ---------------------------------------------------------------
    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return str(settings.CONGDAN_PUBLIC_URL)

    def finalize_id_token(
        self, id_token: dict[str, Any], token: dict[str, Any], token_handler: Any, request: Request
    ) -> str:
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        key = keys.current_key()
        header = {"typ": "JWT", "alg": keys.ALGORITHM, "kid": key.kid}
        signed = jwt.JWT(header=json.dumps(header), claims=json.dumps(id_token, default=str))
        signed.make_signed_token(keys.jwk_of(key))
        id_token_row = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = id_token_row
        request.id_token = id_token_row
        return signed.serialize()

    def _get_key_for_token(self, token: str) -> Any:
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
        return keys.key_for_kid(header.get("kid") if isinstance(header, dict) else None)

    # -- clients -----------------------------------------------------------------------
    def _load_application(self, client_id: str, request: Request) -> Application | None:
        """The client with its policy in one query (DOT loads the policy-less row, then
        every scope check reads the policy: a second query on every token request).
        Client ID metadata documents (CIMD) are not enabled here, so an unknown id is
        simply no client."""
        model = get_application_model()
        client = getattr(request, "client", None)
        if (
            isinstance(client, model)
            and client.client_id == client_id
            and client.is_usable(request)
        ):
            return client
        request.client = None
        if (
            not client_id or "\x00" in client_id
        ):  # PostgreSQL refuses NUL in text: no client has one
            return None
        try:
            client = model.objects.select_related("policy").get(client_id=client_id)
        except model.DoesNotExist:
            return None
        if not client.is_usable(request):
            return None
        request.client = client
        return client

    # -- scopes and policies -----------------------------------------------------------
    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Application,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """Deny by default: a client without a policy gets nothing; a request for a scope
        the policy does not allow fails with ``invalid_scope`` (never silently narrowed)."""
        policy = policy_of(client)
        if policy is None or not scopes:
            return False
        allowed = set(policy.allowed_scopes) & set(ALL_SCOPES)
        if not set(scopes) <= allowed:
            return False
        # System scopes only through client credentials, personal ones only with a user.
        if client.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS:
            return set(scopes) <= set(SYSTEM_SCOPES)
        return not (set(scopes) & set(SYSTEM_SCOPES))

    def get_default_scopes(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> list[str]:
        client = request.client
        policy = policy_of(client)
        if policy is None:
            return []
        if client.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS:
            return [s for s in policy.allowed_scopes if s in SYSTEM_SCOPES]
        return ["openid"] if "openid" in policy.allowed_scopes else []

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        """PKCE is mandatory for public clients (S256 only: the authorize view refuses
        ``plain``); confidential clients may use it and are checked when they do."""
        client = getattr(request, "client", None)
        if client is None or client.client_id != client_id:
            self._load_application(client_id, request)
            client = request.client
        return client is None or client.client_type == AbstractApplication.CLIENT_PUBLIC

    # -- silent authentication: the authorize view decides (it knows the session) ------
    def validate_silent_login(self, request: Request) -> bool:
        return True

    def validate_silent_authorization(self, request: Request) -> bool:
        return True

    # -- codes and tokens only for usable accounts ---------------------------------------
    def _create_authorization_code(
        self, request: Request, code: dict[str, Any], expires: dt.datetime | None = None
    ) -> Any:
        stash = getattr(request, "congdan_auth", None)
        if stash:
            request.claims = {**(request.claims or {}), AUTH_STASH_KEY: stash}
        return super()._create_authorization_code(request, code, expires)

    def validate_refresh_token(
        self, refresh_token: str, client: Application, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        account = account_for_user(request.user)
        if account is None or account.status != AccountStatus.ACTIVE:
            return False
        policy = policy_of(client)
        if policy is None:
            return False
        return policy.first_party or live_consent_exists(request.user.pk, client.pk)

    def validate_bearer_token(self, token: str, scopes: list[str], request: Request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        if request.user is None:  # a client-credentials token
            return True
        account = account_for_user(request.user)
        return account is not None and account.status == AccountStatus.ACTIVE

    # -- claims ------------------------------------------------------------------------
    def get_discovery_claims(self, request: Any) -> list[str]:
        names = [
            claim
            for scope in USER_SCOPES
            if scope not in NON_CLAIM_SCOPES
            for claim, _label in SCOPE_CLAIMS[scope]
        ]
        return [*names, "auth_time", "amr", "phone_number_verified"]

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Request) -> dict[str, Any]:
        account = account_for_user(request.user)
        if account is None:
            return {"sub": ""}
        claims: dict[str, Any] = {"sub": subject_for(account, policy_of(request.client))}
        claims.update(registry_claims(account, request.scopes))
        return claims

    def get_id_token_dictionary(
        self, token: Any, token_handler: Any, request: Request
    ) -> tuple[dict[str, Any], dt.datetime]:
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        account = account_for_user(request.user)
        stash = (
            (request.claims or {}).get(AUTH_STASH_KEY) if isinstance(request.claims, dict) else None
        )
        if stash:
            claims["auth_time"] = int(stash.get("auth_time") or claims["auth_time"])
            if stash.get("amr"):
                claims["amr"] = list(stash["amr"])
            claims["acr"] = stash.get("acr") or acr_of(account.level if account else 1)
        else:
            claims["acr"] = acr_of(account.level if account else 1)
        if account is not None:
            log_claims_read(account, request.client, claims, view="oidc:id_token")
        return claims, expiration_time

    def get_userinfo_claims(self, request: Request) -> dict[str, Any]:
        claims = self.get_oidc_claims(request.access_token, None, request)
        account = account_for_user(request.user)
        if account is not None:
            log_claims_read(account, request.client, claims, view="oidc:userinfo")
        return claims


def discovery_extras() -> dict[str, Any]:
    return {
        "acr_values_supported": list(ACR_VALUES),
        "subject_types_supported": ["pairwise", "public"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "claims_parameter_supported": False,
        "ui_locales_supported": ["vi", "en"],
    }


def token_lifetimes() -> dict[str, int]:
    return {
        "access_token": oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        "id_token": oauth2_settings.ID_TOKEN_EXPIRE_SECONDS,
        "refresh_token": oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS,
        "authorization_code": oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS,
    }

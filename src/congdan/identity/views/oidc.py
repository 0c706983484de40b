"""OpenID Connect provider views (on top of django-oauth-toolkit) and the portal as its
own first relying party. Views parse, call services, render; docs/oidc.md explains."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from jwcrypto import jwk, jwt
from jwcrypto.common import JWException
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import (
    AuthorizationView,
    IntrospectTokenView,
    RPInitiatedLogoutView,
    TokenView,
)
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import add_params_to_uri

from congdan.core.errors import NotFound
from congdan.identity import keys
from congdan.identity.decorators import PORTAL_SESSION_KEY, citizen_required
from congdan.identity.forms.oidc import ConsentForm
from congdan.identity.models import AccountStatus, Consent, EidAccount
from congdan.identity.oidc import (
    acr_of,
    claim_labels,
    discovery_extras,
    level_of_acr_values,
    policy_of,
    subject_for,
)
from congdan.identity.selectors import account_of
from congdan.identity.services import clients

LEVEL2_SESSION_KEY = "oidc_level2_back"
PORTAL_FLOW_KEY = "portal_oidc_flows"
LEVEL2_REQUEST_PATH = "/me/level2/"


def _public_url(path: str) -> str:
    return f"{settings.CONGDAN_PUBLIC_URL}{path}"


def _reverse_or(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def error_redirect_url(redirect_uri: str, error: str, description: str, state: str | None) -> str:
    params = [("error", error), ("error_description", description)]
    if state:
        params.append(("state", state))
    if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
        params.append(("iss", str(settings.CONGDAN_PUBLIC_URL)))
    return str(add_params_to_uri(redirect_uri, params))


# --- discovery and keys -------------------------------------------------------------------


@never_cache
def discovery(request: HttpRequest) -> JsonResponse:
    """OpenID Provider metadata; every URL follows ``CONGDAN_PUBLIC_URL``."""
    from congdan.identity.oidc import CongdanOAuth2Validator  # noqa: PLC0415 -- keeps import light

    data = {
        "issuer": str(settings.CONGDAN_PUBLIC_URL),
        "authorization_endpoint": _public_url(reverse("oauth2_provider:authorize")),
        "token_endpoint": _public_url(reverse("oauth2_provider:token")),
        "userinfo_endpoint": _public_url(reverse("oauth2_provider:user-info")),
        "jwks_uri": _public_url(reverse("oauth2_provider:jwks-info")),
        "end_session_endpoint": _public_url(reverse("oauth2_provider:rp-initiated-logout")),
        "introspection_endpoint": _public_url(reverse("oauth2_provider:introspect")),
        "revocation_endpoint": _public_url(reverse("oauth2_provider:revoke-token")),
        "scopes_supported": list(oauth2_settings.SCOPES),
        "claims_supported": CongdanOAuth2Validator().get_discovery_claims(request),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        "prompt_values_supported": ["none", "login", "consent"],
        **discovery_extras(),
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(keys.public_jwks())
    response["Access-Control-Allow-Origin"] = "*"
    max_age = oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response


# --- authorization ------------------------------------------------------------------------


def auth_stash(request: HttpRequest, account: EidAccount) -> dict[str, Any]:
    """When and how the citizen logged in (helper of the login page stores ``eid_auth``;
    the user's last login otherwise), kept with the code for the ID token."""
    eid_auth = request.session.get("eid_auth") or {}
    auth_time = eid_auth.get("time")
    if not auth_time:
        last = getattr(request.user, "last_login", None)
        auth_time = (last or timezone.now()).timestamp()
    amr = [str(a) for a in eid_auth.get("amr") or []]
    return {"auth_time": int(auth_time), "amr": amr, "acr": acr_of(account.level)}


@method_decorator(never_cache, name="dispatch")
class AuthorizeView(AuthorizationView):
    """The authorization endpoint: DOT's flow plus congdan's rules — only active e-ID
    accounts, the level the client needs, S256 PKCE, and a remembered consent."""

    template_name = "identity/oidc/consent.html"
    form_class = ConsentForm

    def get_login_url(self) -> str:
        return _reverse_or("identity:login", str(settings.LOGIN_URL))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated and "none" in request.GET.get("prompt", "").split():
            self.oauth2_data: dict[str, Any] = {}
            try:
                _scopes, credentials = self.validate_authorization_request(request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
            return HttpResponseRedirect(
                error_redirect_url(
                    credentials["redirect_uri"],
                    "login_required",
                    "The end-user is not logged in.",
                    credentials.get("state"),
                )
            )
        return super().dispatch(request, *args, **kwargs)

    def error_response(self, error: Any, application: Any, **kwargs: Any) -> HttpResponse:
        # OAuthLibMixin's decision: redirect to the client unless the client or its
        # redirect URI is the problem; then our page instead of DOT's English one.
        do_redirect, response = OAuthLibMixin.error_response(self, error, **kwargs)
        if do_redirect:
            return self.redirect(response["url"], application)
        oauth_error = response["error"]
        return render(
            self.request,
            "identity/oidc/error.html",
            {"error": oauth_error.error, "description": oauth_error.description},
            status=oauth_error.status_code,
        )

    def _deny(
        self, application: Any, credentials: dict[str, Any], error: str, text: str
    ) -> HttpResponse:
        return self.redirect(
            error_redirect_url(credentials["redirect_uri"], error, text, credentials.get("state")),
            application,
        )

    def _check_account_and_level(
        self, application: Any, credentials: dict[str, Any], acr_values: str
    ) -> tuple[EidAccount | None, HttpResponse | None]:
        request = self.request
        policy = policy_of(application)
        account = account_of(request.user)
        back_url = error_redirect_url(
            credentials["redirect_uri"],
            "access_denied",
            "The account cannot be used for this client.",
            credentials.get("state"),
        )
        if account is None or account.status != AccountStatus.ACTIVE:
            context = {
                "application": application,
                "policy": policy,
                "account": account,
                "back_url": back_url,
            }
            return None, render(request, "identity/oidc/account_unusable.html", context, status=403)
        needed = max(policy.required_level if policy else 2, level_of_acr_values(acr_values))
        if account.level < needed:
            request.session[LEVEL2_SESSION_KEY] = {
                "client": application.name,
                "organisation": policy.organisation if policy else "",
                "back_url": error_redirect_url(
                    credentials["redirect_uri"],
                    "unmet_authentication_requirements",
                    "The client requires an e-ID account of level 2.",
                    credentials.get("state"),
                ),
            }
            return None, redirect("identity:level2_required")
        return account, None

    def get(  # noqa: PLR0911 -- one early answer per OAuth/OIDC rule, in protocol order
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = (
            get_application_model()
            .objects.select_related("policy")
            .get(client_id=credentials["client_id"])
        )
        if credentials.get("code_challenge") and credentials.get("code_challenge_method") != "S256":
            return self._deny(
                application, credentials, "invalid_request", "code_challenge_method must be S256."
            )
        acr_values = request.GET.get("acr_values", "")
        account, refusal = self._check_account_and_level(application, credentials, acr_values)
        if refusal is not None or account is None:
            return refusal or HttpResponse(status=403)
        prompt = set(request.GET.get("prompt", "").split())
        if "login" in prompt:
            return self.handle_prompt_login()
        policy = policy_of(application)
        if "ui_locales" in credentials and isinstance(credentials["ui_locales"], list):
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])
        covered = policy is not None and (
            policy.first_party or clients.consent_covers(request.user, application, scopes)  # type: ignore[arg-type]  # authenticated here
        )
        if covered and "consent" not in prompt:
            return self._issue(application, scopes, credentials, account)
        if "none" in prompt:
            return self._deny(application, credentials, "consent_required", "Consent is required.")
        self.oauth2_data = {
            **credentials,
            "scopes": scopes,
            "acr_values": acr_values,
        }
        form = self.get_form(self.get_form_class())
        context = {
            "form": form,
            "application": application,
            "policy": policy,
            "claims": claim_labels(scopes),
            "scopes": scopes,
            "deny_url": error_redirect_url(
                credentials["redirect_uri"],
                "access_denied",
                "The end-user refused.",
                credentials.get("state"),
            ),
        }
        return self.render_to_response(self.get_context_data(**context))

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_initial()
        initial["acr_values"] = self.oauth2_data.get("acr_values", "")
        return initial

    def _issue(
        self, application: Any, scopes: list[str], credentials: dict[str, Any], account: EidAccount
    ) -> HttpResponse:
        credentials = {**credentials, "congdan_auth": auth_stash(self.request, account)}
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def form_valid(self, form: ConsentForm) -> HttpResponse:
        data = form.cleaned_data
        application = (
            get_application_model()
            .objects.select_related("policy")
            .filter(client_id=data["client_id"])
            .first()
        )
        if application is None:
            return render(
                self.request,
                "identity/oidc/error.html",
                {"error": "invalid_client", "description": ""},
                status=400,
            )
        credentials: dict[str, Any] = {
            key: data[key]
            for key in (
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "nonce",
                "code_challenge",
                "code_challenge_method",
            )
            if data.get(key)
        }
        credentials.setdefault("state", None)
        if data.get("claims"):
            try:
                credentials["claims"] = json.loads(data["claims"])
            except ValueError:
                credentials["claims"] = None
        scopes = data.get("scope", "")
        # Validate the request again (the hidden fields come back from the browser).
        try:
            self.validate_authorization_request(self._as_get(credentials, scopes))
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        if not data.get("allow"):
            return self._deny(application, credentials, "access_denied", "The end-user refused.")
        if credentials.get("code_challenge") and credentials.get("code_challenge_method") != "S256":
            return self._deny(
                application, credentials, "invalid_request", "code_challenge_method must be S256."
            )
        account, refusal = self._check_account_and_level(
            application, credentials, data.get("acr_values") or ""
        )
        if refusal is not None or account is None:
            return refusal or HttpResponse(status=403)
        policy = policy_of(application)
        if policy is not None and not policy.first_party:
            clients.grant_consent(self.request.user, application=application, scopes=scopes.split())
        return self._issue(application, scopes.split(), credentials, account)

    def _as_get(self, credentials: dict[str, Any], scopes: str) -> HttpRequest:
        """A copy of the request as the GET that started the flow, to validate it again."""
        query = QueryDict(mutable=True)
        for key, value in credentials.items():
            if value and isinstance(value, str):
                query[key] = value
        query["scope"] = scopes
        clone = HttpRequest()
        clone.method = "GET"
        clone.path = clone.path_info = self.request.path
        clone.META = {k: v for k, v in self.request.META.items() if isinstance(v, str)}
        clone.META["QUERY_STRING"] = query.urlencode()
        clone.META.pop("CONTENT_TYPE", None)
        clone.GET = query  # type: ignore[assignment]  # a mutable QueryDict stands in for the parsed query
        return clone


@never_cache
def level2_required(request: HttpRequest) -> HttpResponse:
    """Why a level-1 account cannot use a client that needs level 2, how to reach it,
    and a button back to the client (which receives ``unmet_authentication_requirements``)."""
    back = request.session.get(LEVEL2_SESSION_KEY) or {}
    context = {
        "client": back.get("client", ""),
        "organisation": back.get("organisation", ""),
        "back_url": back.get("back_url", ""),
        "level2_url": _reverse_or("identity:level2_request", LEVEL2_REQUEST_PATH),
    }
    return render(request, "identity/oidc/level2_required.html", context, status=403)


# --- introspection and logout -------------------------------------------------------------


def _calling_client_id(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        from urllib.parse import unquote_plus  # noqa: PLC0415 -- RFC 6749 2.3.1 encoding

        return unquote_plus(decoded.split(":", 1)[0])
    return request.POST.get("client_id") or None


class TokenEndpointView(TokenView):
    """DOT's token endpoint without its extra read-back of every issued token.

    DOT re-reads the access token it has just written, only to send its
    ``app_authorized`` signal, which nothing here listens to: one query per token (a
    sixth of the client-credentials path; bench/bench_login.py)."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response


class IntrospectView(IntrospectTokenView):
    """RFC 7662 for confidential clients: a client sees only its own tokens, and the
    answer names the citizen by the client's ``sub``, never by the ID number."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token_value = request.POST.get("token")
        if not token_value:
            return JsonResponse(
                {"error": "invalid_request", "error_description": "Token parameter is missing."},
                status=400,
            )
        client_id = _calling_client_id(request)
        caller = (
            get_application_model().objects.filter(client_id=client_id).first()
            if client_id
            else None
        )
        if caller is None or caller.client_type != caller.CLIENT_CONFIDENTIAL:
            return JsonResponse({"error": "invalid_client"}, status=401)
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        token = (
            get_access_token_model()
            .objects.select_related("user", "application__policy")
            .filter(token_checksum=checksum, application=caller)
            .first()
        )
        if token is None or not token.is_valid():
            return JsonResponse({"active": False})
        data: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": caller.client_id,
            "token_type": "Bearer",
            "exp": int(token.expires.timestamp()),
            "iss": str(settings.CONGDAN_PUBLIC_URL),
        }
        if token.user_id is not None:
            account = EidAccount.objects.filter(user_id=token.user_id).first()
            if account is None or account.status != AccountStatus.ACTIVE:
                return JsonResponse({"active": False})
            data["sub"] = subject_for(account, policy_of(caller))
            data["acr"] = acr_of(account.level)
        return JsonResponse(data)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse(
            {"error": "invalid_request", "error_description": "Use POST."}, status=405
        )


class LogoutView(RPInitiatedLogoutView):
    """RP-initiated logout with a Vietnamese confirmation page."""

    template_name = "identity/oidc/logout_confirm.html"


# --- the portal as a relying party --------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return "/me/"


@never_cache
def portal_login(request: HttpRequest) -> HttpResponse:
    """Start the authorization-code flow (PKCE S256, nonce, state) with the portal's
    own client; ``next`` is kept for the callback."""
    application = clients.ensure_portal_client()
    verifier = _b64url(secrets.token_bytes(48))
    state = _b64url(secrets.token_bytes(24))
    nonce = _b64url(secrets.token_bytes(24))
    flows = dict(request.session.get(PORTAL_FLOW_KEY) or {})
    # A few flows may be open at once (several tabs); the oldest go first.
    while len(flows) >= 5:
        flows.pop(next(iter(flows)))
    flows[state] = {
        "verifier": verifier,
        "nonce": nonce,
        "next": _safe_next(request, request.GET.get("next")),
    }
    request.session[PORTAL_FLOW_KEY] = flows
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": clients.portal_redirect_uri(),
            "scope": " ".join(clients.PORTAL_SCOPES),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return redirect(f"{reverse('oauth2_provider:authorize')}?{query}")


def _exchange_code(request: HttpRequest, code: str, verifier: str) -> tuple[int, dict[str, Any]]:
    """The token request, made in-process through DOT's OAuthLibCore (no HTTP to
    ourselves: a one-worker server would wait for itself)."""
    token_request = HttpRequest()
    token_request.method = "POST"
    token_request.path = token_request.path_info = reverse("oauth2_provider:token")
    token_request.META = {
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "SERVER_NAME": request.META.get("SERVER_NAME", "localhost"),
        "SERVER_PORT": request.META.get("SERVER_PORT", "80"),
        "REMOTE_ADDR": request.META.get("REMOTE_ADDR", ""),
        "HTTP_HOST": request.get_host(),
    }
    body = QueryDict(mutable=True)
    body.update(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": clients.portal_redirect_uri(),
            "client_id": clients.PORTAL_CLIENT_ID,
            "code_verifier": verifier,
        }
    )
    token_request.POST = body  # type: ignore[assignment]  # a mutable QueryDict stands in for the parsed body
    _uri, _headers, raw, status = get_oauthlib_core().create_token_response(token_request)
    try:
        return status, json.loads(raw or "{}")
    except ValueError:
        return 500, {}


def verify_id_token(id_token: str, *, audience: str, nonce: str) -> dict[str, Any]:
    """Check an ID token's signature against our JWKS, and iss, aud, nonce, exp."""
    key_set = jwk.JWKSet.from_json(json.dumps(keys.public_jwks()))
    token = jwt.JWT(
        jwt=id_token,
        key=key_set,
        algs=[keys.ALGORITHM],
        check_claims={
            "iss": str(settings.CONGDAN_PUBLIC_URL),
            "aud": audience,
            "exp": None,
            "nonce": nonce,
        },
    )
    claims: dict[str, Any] = json.loads(token.claims)
    return claims


def _login_failed(request: HttpRequest, status: int = 400) -> HttpResponse:
    return render(request, "identity/oidc/portal_login_failed.html", {}, status=status)


@never_cache
def portal_callback(request: HttpRequest) -> HttpResponse:  # noqa: PLR0911 -- one refusal per check of the callback
    state = request.GET.get("state", "")
    flows = dict(request.session.get(PORTAL_FLOW_KEY) or {})
    flow = flows.pop(state, None) if state else None
    request.session[PORTAL_FLOW_KEY] = flows
    if flow is None:
        return _login_failed(request)
    if request.GET.get("error"):
        context = {"error": request.GET.get("error")}
        return render(request, "identity/oidc/portal_login_failed.html", context, status=403)
    code = request.GET.get("code", "")
    if not code or not request.user.is_authenticated:
        return _login_failed(request)
    status, payload = _exchange_code(request, code, flow["verifier"])
    id_token = payload.get("id_token")
    if status != 200 or not id_token:
        return _login_failed(request)
    try:
        claims = verify_id_token(id_token, audience=clients.PORTAL_CLIENT_ID, nonce=flow["nonce"])
    except (JWException, ValueError):
        return _login_failed(request)
    account = account_of(request.user)
    if account is None or claims.get("sub") != str(account.public_id):
        return _login_failed(request)
    request.session[PORTAL_SESSION_KEY] = {
        "uid": request.user.pk,
        "sub": claims["sub"],
        "acr": claims.get("acr", ""),
        "id_token": id_token,
        "auth_time": claims.get("auth_time"),
    }
    return redirect(flow["next"])


@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    """End the portal session and, through RP-initiated logout, the provider's."""
    portal = request.session.pop(PORTAL_SESSION_KEY, None) or {}
    id_token = portal.get("id_token")
    home = clients.portal_post_logout_uri()
    if not id_token:
        auth_logout(request)
        return redirect(home)
    clients.ensure_portal_client()
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": clients.PORTAL_CLIENT_ID,
            "post_logout_redirect_uri": home,
        }
    )
    return redirect(f"{reverse('oauth2_provider:rp-initiated-logout')}?{query}")


# --- connected services (the citizen's consents) ------------------------------------------


@citizen_required
def connected_services(request: HttpRequest) -> HttpResponse:
    consents = (
        Consent.objects.filter(user_id=int(request.user.pk or 0), revoked_at__isnull=True)
        .select_related("application__policy")
        .order_by("-granted_at")
    )
    rows = [
        {
            "consent": consent,
            "application": consent.application,
            "policy": policy_of(consent.application),
            "claims": claim_labels(consent.scopes),
        }
        for consent in consents
    ]
    return render(request, "identity/oidc/connected_services.html", {"rows": rows})


@require_POST
@citizen_required
def revoke_consent(request: HttpRequest, consent_id: int) -> HttpResponse:
    try:
        consent = clients.revoke_consent(request.user, consent_id=consent_id)  # type: ignore[arg-type]  # citizen_required
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    messages.success(
        request,
        _("Đã thu hồi sự đồng ý chia sẻ thông tin với %(client)s.")
        % {"client": consent.application.name},
    )
    return redirect("identity:connected_services")

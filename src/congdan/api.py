"""The REST API (django-ninja): one NinjaAPI, routers per app.

Every error leaves as JSON ``{"code": ..., "message": ...}`` with a Vietnamese message
(DESIGN rule 3): domain errors with their own status, bad parameters 422, missing or bad
credentials 401, unknown paths 404, and a bug 500 (logged, never the traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from congdan.core.api_auth import ApiTokenAuth
from congdan.core.errors import DomainError, RateLimited
from congdan.exchange.api import router as exchange_router
from congdan.exchange.api_batch import router as exchange_batch_router
from congdan.exchange.api_events import router as exchange_events_router
from congdan.exchange.api_govstack import router as govstack_router
from congdan.registry.api import router as registry_router
from congdan.wallet.api_orgs import router as wallet_orgs_router
from congdan.wallet.api_verify import router as wallet_verify_router

logger = logging.getLogger(__name__)

DESCRIPTION = """\
The population registry for agencies' systems, the wallet's issuer and requester API for
member organisations, the data exchange for member organisations (lookups, verification,
batch verification, change notifications under grants; also as the GovStack Digital
Registries API) and the public verifier.

**Authentication**: registry endpoints take `Authorization: Bearer <key>` with an API
token (`congdan create_api_token <username> --name NAME`); wallet endpoints take an OAuth2
client-credentials access token from `/o/token/` (scope `wallet:issue` or `wallet:read`),
exchange and GovStack endpoints one with scope `exchange:query`; `POST /api/v1/verify/`
and the exchange catalogue are public. Session cookies are not accepted.

**Purpose**: send `X-Purpose` (printable ASCII; registry default `official_duty`, required
by exchange calls, where it must be a purpose the member's grant covers); it is written,
with the caller and the request id, to the access log the citizen can read.

**Errors**: always `{"code": "...", "message": "..."}` with a Vietnamese message;
see docs/api.md for the codes.
"""

api = NinjaAPI(
    title="congdan API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=ApiTokenAuth(),
)


def error_response(
    request: HttpRequest, status: int, code: str, message: Any, **headers: str
) -> HttpResponse:
    response = api.create_response(request, {"code": code, "message": str(message)}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


# Vietnamese explanations of pydantic's error types, keyed by ``type``.
_PROBLEMS: dict[str, Any] = {
    "missing": gettext_lazy("bắt buộc"),
    "int_parsing": gettext_lazy("phải là số nguyên"),
    "int_type": gettext_lazy("phải là số nguyên"),
    "int_from_float": gettext_lazy("phải là số nguyên"),
    "date_from_datetime_parsing": gettext_lazy("phải là ngày dạng YYYY-MM-DD"),
    "date_from_datetime_inexact": gettext_lazy("phải là ngày dạng YYYY-MM-DD"),
    "date_parsing": gettext_lazy("phải là ngày dạng YYYY-MM-DD"),
    "date_type": gettext_lazy("phải là ngày dạng YYYY-MM-DD"),
    "greater_than_equal": gettext_lazy("phải từ %(ge)s trở lên"),
    "greater_than": gettext_lazy("phải lớn hơn %(gt)s"),
    "less_than_equal": gettext_lazy("phải không quá %(le)s"),
    "less_than": gettext_lazy("phải nhỏ hơn %(lt)s"),
    "string_too_long": gettext_lazy("dài quá %(max_length)s ký tự"),
    "string_too_short": gettext_lazy("cần ít nhất %(min_length)s ký tự"),
    "string_pattern_mismatch": gettext_lazy("có ký tự không được phép"),
}


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    # loc is (source, name, ...): "query"/"path"/"header" then the parameter.
    name = ".".join(loc[1:]) or (loc[0] if loc else "?")
    template = _PROBLEMS.get(str(error.get("type", "")))
    if template is None:
        problem = _("không hợp lệ")
    else:
        try:
            problem = str(template) % {k: str(v) for k, v in (error.get("ctx") or {}).items()}
        except (KeyError, TypeError, ValueError):
            problem = _("không hợp lệ")
    return f"{name} {problem}"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = list(dict.fromkeys(_describe(error) for error in exc.errors))
    message = _("Tham số không hợp lệ: %(details)s.") % {"details": "; ".join(details[:10])}
    return error_response(request, 422, "invalid_request", message)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        401,
        "unauthenticated",
        _(
            "Cần mã truy cập API hợp lệ trong tiêu đề Authorization: Bearer <mã>. "
            "Mã bị thiếu, sai, đã hết hạn hoặc đã bị thu hồi."
        ),
        WWW_Authenticate='Bearer realm="congdan"',
    )


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error_response(
        request, 403, "permission_denied", _("Bạn không có quyền thực hiện thao tác này.")
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 405:
        response = error_response(
            request,
            405,
            "method_not_allowed",
            _("Phương thức HTTP này không được hỗ trợ cho địa chỉ này."),
        )
        response["Allow"] = "GET"
        return response
    if exc.status_code == 400:  # ninja: a request body that is not JSON
        return error_response(
            request, 422, "invalid_request", _("Nội dung yêu cầu không phải JSON hợp lệ.")
        )
    if exc.status_code == 429:
        return error_response(
            request, 429, "rate_limited", _("Quá nhiều yêu cầu; vui lòng thử lại sau.")
        )
    return error_response(
        request, exc.status_code, "request_failed", _("Yêu cầu không thực hiện được.")
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Không tìm thấy tài nguyên được yêu cầu."))


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too many parameters, an oversized body ...: Django's own guards; bad input, not a bug.
    logger.warning("Refused API request on %s: %s", request.path, type(exc).__name__)
    return error_response(request, 400, "bad_request", _("Yêu cầu không hợp lệ hoặc quá lớn."))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug, not bad input. Logged (through the masking filter) with the request id, so
    # the caller can quote it; the response carries no internals.
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(
        request,
        500,
        "internal_error",
        _("Lỗi hệ thống; vui lòng thử lại sau hoặc báo mã yêu cầu (X-Request-ID) cho quản trị."),
    )


api.add_router("/v1/registry/", registry_router, tags=["registry"])
api.add_router("/v1/verify/", wallet_verify_router, tags=["verify"])
api.add_router("/v1/wallet/", wallet_orgs_router, tags=["wallet"])
api.add_router("/v1/exchange/", exchange_router, tags=["exchange"])
api.add_router("/v1/exchange/", exchange_events_router, tags=["exchange"])
api.add_router("/v1/exchange/batch", exchange_batch_router, tags=["exchange"])
api.add_router("/govstack/", govstack_router, tags=["govstack"])

# Last: any other path under /api/ is a JSON 404, not Django's HTML page.
_fallback = Router()


@_fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    "/{path:rest}",
    auth=None,
    include_in_schema=False,
)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    raise Http404


api.add_router("", _fallback)

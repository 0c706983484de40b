"""Request id: taken from ``X-Request-ID`` when sane, otherwise generated; echoed back.
And the API's JSON 405 for methods a route does not have."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from congdan.core.context import request_id_var

_SAFE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # set for audit
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ApiMethodNotAllowedMiddleware:
    """django-ninja answers a method a path does not have with a plain-text 405 before
    any of our exception handlers run; under /api/ it becomes ``{"code","message"}``
    (DESIGN rule 3), keeping the ``Allow`` header ninja computed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        allow = response.get("Allow", "")
        body = {
            "code": "method_not_allowed",
            "message": _(
                "Phương thức HTTP này không được hỗ trợ cho địa chỉ này; được phép: %(allow)s."
            )
            % {"allow": allow},
        }
        replaced = JsonResponse(body, status=405, json_dumps_params={"ensure_ascii": False})
        replaced["Allow"] = allow
        return replaced


def request_id_of(request: HttpRequest | None) -> str:
    return getattr(request, "request_id", "") if request is not None else ""

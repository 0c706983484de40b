"""Typed domain errors (DESIGN rule 3).

Services raise these; views turn them into form errors, the API into
``{"code": ..., "message": ...}`` with the HTTP status given here. Messages are
Vietnamese-first through gettext. ``field`` names the form field at fault, when there is one.
"""

from __future__ import annotations

from typing import ClassVar

from django.utils.functional import Promise


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: str = "invalid"

    def __init__(
        self, message: str | Promise, *, code: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self.message)}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    """Missing *or* outside the actor's jurisdiction: the two are indistinguishable."""

    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` seconds until the window reopens."""

    status = 429
    code = "rate_limited"

    def __init__(
        self, message: str | Promise, *, retry_after: int, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)

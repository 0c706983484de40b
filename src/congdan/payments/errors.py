"""Typed errors of the payments app (subclasses of ``core.errors``)."""

from __future__ import annotations

from congdan.core.errors import DomainError


class InvalidSignature(DomainError):  # noqa: N818 -- errors read as outcomes, as in core.errors
    """A callback whose signature does not verify: it is refused, nothing changes."""

    status = 400
    code = "invalid_signature"


class GatewayUnavailable(DomainError):  # noqa: N818 -- errors read as outcomes, as in core.errors
    """The payment gateway did not answer or refused an operation."""

    status = 502
    code = "gateway_unavailable"

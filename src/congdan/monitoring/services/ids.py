"""Primary keys from request values."""

from __future__ import annotations

from typing import Any

_MAX_PK = 2**63  # BigAutoField


def as_pk(value: Any) -> int:
    """``value`` as a primary key, or 0 (matches no row) when it is not a positive integer
    in range: a form value, a URL part, None, a bool or garbage."""
    if isinstance(value, bool):
        return 0
    try:
        pk = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return pk if 0 < pk < _MAX_PK else 0

"""Fixed-window request counters per member and service.

With ``CONGDAN_CACHE_URL`` pointing at Redis the counters live there, otherwise in the
database (the embedded default). Either way each process adds its calls to the shared
counter once per FLUSH_CALLS calls or per second, and on every call near the limit. The
window is a minute; a refused request learns when the window reopens (``Retry-After``).
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import RateLimited

WINDOW = 60


def _redis_configured() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return backend.endswith("RedisCache")


def _add_in_cache(key: str, window: int, weight: int) -> int:
    cache_key = f"exchange:rate:{key}:{window}"
    if cache.add(cache_key, weight, WINDOW + 5):
        return weight
    try:
        return int(cache.incr(cache_key, weight))
    except ValueError:  # expired between add and incr
        cache.add(cache_key, weight, WINDOW + 5)
        return weight


# Both stores batch: each process adds its calls to the shared counter at most every
# FLUSH_SECONDS or FLUSH_CALLS calls, and on every call once the count nears the limit,
# so a limit is exact near its end and the hot path mostly skips the round trip.
FLUSH_SECONDS = 1.0
FLUSH_CALLS = 50
_pending: dict[tuple[str, int], list[float]] = {}  # (key, window) → [pending, total, at]
_lock = threading.Lock()


def _count(key: str, window: int, weight: int, limit: int) -> int:
    add = _add_in_cache if _redis_configured() else _add_in_database
    with _lock:
        state = _pending.get((key, window))
        if state is None:
            for stale in [k for k in _pending if k[1] < window]:
                del _pending[stale]
            state = _pending[(key, window)] = [0, 0, 0.0]
        state[0] += weight
        now = time.monotonic()
        due = (
            state[0] >= FLUSH_CALLS
            or now - state[2] >= FLUSH_SECONDS
            or (state[1] + state[0]) * 2 >= limit
        )
        if not due:
            return int(state[1] + state[0])
        pending, state[0], state[2] = int(state[0]), 0, now
    total = add(key, window, pending)
    with _lock:
        state[1] = total
        return int(total + state[0])


def _add_in_database(key: str, window: int, weight: int) -> int:
    from congdan.exchange.models import RateCounter  # noqa: PLC0415 -- models load after apps

    table = RateCounter._meta.db_table
    # One statement, atomic on both engines (SQLite ≥ 3.35 and PostgreSQL upsert).
    sql = (
        f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, %s) "  # noqa: S608 -- table name from the model
        "ON CONFLICT (key, window_start) DO UPDATE SET count = "
        f"{table}.count + EXCLUDED.count RETURNING count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window, weight])
        row = cursor.fetchone()
    return int(row[0]) if row else weight


def hit(key: str, limit: int, *, weight: int = 1, now: float | None = None) -> None:
    """Count ``weight`` requests under ``key``; ``RateLimited`` when over ``limit`` per
    minute."""
    moment = time.time() if now is None else now
    window = int(moment // WINDOW) * WINDOW
    count = _count(key, window, weight, limit)
    if count > limit:
        raise RateLimited(
            _(
                "Vượt giới hạn %(limit)d yêu cầu mỗi phút cho dịch vụ này; thử lại sau "
                "%(seconds)d giây."
            )
            % {"limit": limit, "seconds": int(window + WINDOW - moment) + 1},
            retry_after=int(window + WINDOW - moment) + 1,
        )


def prune(before: float | None = None) -> int:
    """Delete database counters of windows that ended (a worker poller)."""
    from congdan.exchange.models import RateCounter  # noqa: PLC0415 -- models load after apps

    cutoff = int((time.time() if before is None else before) // WINDOW) * WINDOW - WINDOW
    deleted, _detail = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def reset_local() -> None:
    """Forget this process's unflushed counts (tests start clean)."""
    with _lock:
        _pending.clear()

"""Sealing the access log into a signed hash chain, and verifying it.

The hot path (``services.log_access``) is untouched: it appends rows and never waits on
the chain. A background poller, ``seal_pending``, later seals *segments*: the entries of
one calendar month (UTC) with ``id`` in (the month's previous ``last_id``, ``last_id``].
Each seal stores the SHA-256 digest of its entries' canonical serialisation (every
column), the previous seal's hash (one chain over all seals, ordered by seal id), its own
hash over those fields and an Ed25519 signature of that hash. ``verify`` recomputes all
of it. Design and limits: docs/access-log.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, AccessLogSeal
from congdan.audit.services import LOG_COLUMNS

logger = logging.getLogger(__name__)

UTC = dt.UTC
FORMAT = "congdan-access-log-seal/1"
GENESIS = "0" * 64
# Entries per segment, and per query while streaming a segment.
SEGMENT_MAX_ROWS = 50_000
CHUNK_ROWS = 5_000
# Segments per seal_pending() call.
MAX_SEGMENTS_PER_CALL = 20
# pg_advisory_xact_lock key of the chain ("congdan seal").
CHAIN_LOCK_KEY = 0x636F6E6764616E

# Every column of the access log, in the canonical order. tests/audit/test_sealing.py
# checks this list against the model: a new column must be added here (and bumps FORMAT).
ROW_FIELDS: tuple[str, ...] = ("id", *LOG_COLUMNS)


# --- keys -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _derive_key(secret: str) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"congdan/access-log-seal",
        info=b"ed25519/v1",
    ).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key() -> Ed25519PrivateKey:
    """The seal key: derived (HKDF-SHA256) from ``ACCESS_LOG_SEAL_SECRET``, or from
    ``SECRET_KEY`` when that is empty (development and the demo)."""
    return _derive_key(settings.ACCESS_LOG_SEAL_SECRET or settings.SECRET_KEY)


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 -- rarely used

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PublicKey) -> str:
    """Fingerprint of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:16]


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as 64 hex digits (``verify_access_log --show-key`` prints it)."""
    try:
        raw = bytes.fromhex(text.strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ValueError("a public key is 64 hexadecimal digits (32 bytes)") from exc


# --- canonical forms ------------------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_row(row: Sequence[Any]) -> bytes:
    """One entry as one line of compact JSON, values in ``ROW_FIELDS`` order."""
    values = [
        _iso(v) if isinstance(v, dt.datetime) else v.isoformat() if isinstance(v, dt.date) else v
        for v in row
    ]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def compute_seal_hash(seal: AccessLogSeal) -> str:
    fields = [
        FORMAT,
        seal.month.strftime("%Y-%m"),
        seal.first_id,
        seal.last_id,
        seal.count,
        seal.closed,
        seal.entries_digest,
        seal.prev_hash,
        _iso(seal.sealed_at),
        seal.key_id,
    ]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- months ---------------------------------------------------------------------------


def month_of(value: dt.datetime) -> dt.date:
    utc = value.astimezone(UTC)
    return dt.date(utc.year, utc.month, 1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    nxt = add_months(month, 1)
    return (
        dt.datetime(month.year, month.month, 1, tzinfo=UTC),
        dt.datetime(nxt.year, nxt.month, 1, tzinfo=UTC),
    )


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").replace(tzinfo=UTC).date()
    except ValueError as exc:
        raise ValueError("a month is written YYYY-MM, e.g. 2026-11") from exc


def _rows(month: dt.date, after_id: int, upto_id: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Entries of ``month`` with ``after_id < id (<= upto_id)``, in id order, streamed
    by keyset pagination (each query a bounded index range scan; nothing held open)."""
    start, end = month_bounds(month)
    qs = AccessLogEntry.objects.filter(at__gte=start, at__lt=end).order_by("id")
    if upto_id is not None:
        qs = qs.filter(id__lte=upto_id)
    cursor = after_id
    while True:
        chunk = list(qs.filter(id__gt=cursor).values_list(*ROW_FIELDS)[:CHUNK_ROWS])
        yield from chunk
        if len(chunk) < CHUNK_ROWS:
            return
        cursor = chunk[-1][0]


# --- sealing --------------------------------------------------------------------------


@dataclass
class _Segment:
    month: dt.date
    first_id: int
    last_id: int
    count: int
    closed: bool
    digest: str


def _lock_chain() -> None:
    """Serialise sealers on the chain only: an advisory lock on PostgreSQL (inserts into
    the log never take it); elsewhere a row lock on the newest seal (SQLite serialises
    writers anyway, and ``prev_hash`` is unique, so a forked chain cannot be written)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    else:
        list(AccessLogSeal.objects.select_for_update().order_by("-id").values("id")[:1])


def _month_state() -> dict[dt.date, tuple[int, bool]]:
    """month → (highest sealed id, closed) over all seals."""
    rows = AccessLogSeal.objects.values("month").annotate(
        last=Max("last_id"), n_closed=Count("id", filter=Q(closed=True))
    )
    return {r["month"]: (r["last"], r["n_closed"] > 0) for r in rows}


def _candidate_months(state: dict[dt.date, tuple[int, bool]], cutoff: dt.datetime) -> list[dt.date]:
    """Months that may have work, oldest first: from the first sealed month (or, before
    any seal, the month of the oldest entry) to the cutoff's month, except closed ones."""
    if state:
        first = min(state)
    else:
        oldest = AccessLogEntry.objects.order_by("at").values_list("at", flat=True).first()
        if oldest is None:
            return []
        first = month_of(oldest)
    last = month_of(cutoff)
    months = []
    month = first
    while month <= last:
        if not state.get(month, (0, False))[1]:
            months.append(month)
        month = add_months(month, 1)
    return months


def _build_segment(
    month: dt.date, after_id: int, cutoff: dt.datetime, max_rows: int
) -> _Segment | None:
    """The next segment of ``month``: its entries after ``after_id`` in id order, up to the
    first one not yet older than the cutoff, at most ``max_rows``. None: nothing to seal."""
    end = month_bounds(month)[1]
    digest = hashlib.sha256()
    count, first_id, last_id = 0, after_id + 1, after_id
    exhausted = True
    for row in _rows(month, after_id):
        if count >= max_rows or row[1] >= cutoff:
            exhausted = False
            break
        digest.update(canonical_row(row))
        if count == 0:
            first_id = row[0]
        last_id = row[0]
        count += 1
    closed = exhausted and cutoff >= end
    if count == 0 and not closed:
        return None
    return _Segment(month, first_id, last_id, count, closed, digest.hexdigest())


def _write_seal(segment: _Segment) -> AccessLogSeal:
    head = AccessLogSeal.objects.order_by("-id").values_list("seal_hash", flat=True).first()
    key = signing_key()
    seal = AccessLogSeal(
        month=segment.month,
        first_id=segment.first_id,
        last_id=segment.last_id,
        count=segment.count,
        closed=segment.closed,
        entries_digest=segment.digest,
        prev_hash=head or GENESIS,
        sealed_at=timezone.now(),
        key_id=key_id_of(key.public_key()),
    )
    seal.seal_hash = compute_seal_hash(seal)
    seal.signature = key.sign(bytes.fromhex(seal.seal_hash)).hex()
    seal.save(force_insert=True)
    return seal


def _seal_one(cutoff: dt.datetime, max_rows: int) -> int | None:
    """Seal one segment. Its entries are read and hashed outside any transaction (on
    SQLite a write transaction would hold up the log's inserts); the short transaction
    that writes the seal takes the chain lock and checks that no other sealer moved the
    month on meanwhile. Returns the items handled (see seal_pending), or None when
    nothing is left to seal."""
    state = _month_state()
    for month in _candidate_months(state, cutoff):
        before = state.get(month, (0, False))
        segment = _build_segment(month, before[0], cutoff, max_rows)
        if segment is None:
            continue
        with transaction.atomic():
            _lock_chain()
            if _month_state().get(month, (0, False)) != before:
                return 0  # another sealer got there first; the next round starts afresh
            _write_seal(segment)
        return segment.count or 1  # an empty month closed counts as one item
    return None


def seal_pending(
    *,
    now: dt.datetime | None = None,
    max_rows: int = SEGMENT_MAX_ROWS,
    max_segments: int = MAX_SEGMENTS_PER_CALL,
) -> int:
    """Poller: seal entries older than ``ACCESS_LOG_SEAL_DELAY`` seconds that no segment
    holds yet, at most ``max_segments`` segments of at most ``max_rows`` entries each.
    Returns the items handled: entries sealed, plus one per empty month closed (0:
    nothing was left to do)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.ACCESS_LOG_SEAL_DELAY)
    total = 0
    for _ in range(max_segments):
        try:
            sealed = _seal_one(cutoff, max_rows)
        except IntegrityError:
            # Another sealer wrote the same link of the chain first (unique prev_hash).
            logger.info("access log: another sealer extended the chain; stopping this round")
            break
        if sealed is None:
            break
        total += sealed
    return total


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One finding of ``verify``. ``kind``: count, digest, first_id, seal_hash, chain,
    signature, unknown_key, sealed_after_close, after_close, unsealed_month,
    pruned_rows, pruned_early, anchor."""

    kind: str
    message: str
    seal_id: int | None = None
    month: str = ""
    first_id: int | None = None
    last_id: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.seal_id is not None:
            where = f"segment #{self.seal_id} ({self.month}, ids {self.first_id}–{self.last_id}): "
        elif self.month:
            where = f"{self.month}: "
        return f"{where}{self.message}"


@dataclass
class Report:
    seals: int = 0
    segments_checked: int = 0
    entries_checked: int = 0
    pruned_segments: int = 0
    head: str = GENESIS
    unsealed: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    key_ids: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unsealed_total(self) -> int:
        return sum(self.unsealed.values())


def _problem(
    kind: str, message: str, seal: AccessLogSeal | None = None, month: str = ""
) -> Problem:
    if seal is None:
        return Problem(kind, message, month=month)
    return Problem(
        kind,
        message,
        seal_id=seal.pk,
        month=seal.month.strftime("%Y-%m"),
        first_id=seal.first_id,
        last_id=seal.last_id,
    )


def _check_links(
    seal: AccessLogSeal, prev_hash: str, keys: dict[str, Ed25519PublicKey]
) -> list[Problem]:
    problems = []
    if compute_seal_hash(seal) != seal.seal_hash:
        problems.append(
            _problem("seal_hash", "the seal's fields do not match its hash (seal altered)", seal)
        )
    if seal.prev_hash != prev_hash:
        problems.append(
            _problem(
                "chain",
                "chain broken: the previous seal was removed, inserted or altered "
                f"(expected prev_hash {prev_hash[:16]}…, found {seal.prev_hash[:16]}…)",
                seal,
            )
        )
    key = keys.get(seal.key_id)
    if key is None:
        problems.append(
            _problem("unknown_key", f"signed with an unknown key {seal.key_id!r}", seal)
        )
    else:
        try:
            key.verify(bytes.fromhex(seal.signature), bytes.fromhex(seal.seal_hash))
        except (InvalidSignature, ValueError):
            problems.append(_problem("signature", "signature invalid (forged seal)", seal))
    return problems


def _check_segment(seal: AccessLogSeal, after_id: int) -> tuple[int, list[Problem]]:
    """Recompute one segment. Returns (entries found in its range, problems)."""
    digest = hashlib.sha256()
    count, first = 0, None
    for row in _rows(seal.month, after_id, seal.last_id):
        digest.update(canonical_row(row))
        if first is None:
            first = row[0]
        count += 1
    if seal.pruned_at is not None:
        if count:
            return count, [
                _problem(
                    "pruned_rows",
                    f"{count} entries found in a segment pruned by retention (inserted)",
                    seal,
                )
            ]
        return 0, []
    if count != seal.count:
        change = "deleted or moved" if count < seal.count else "inserted"
        return count, [
            _problem(
                "count",
                f"{count} entries found, {seal.count} sealed (entries {change}); digest differs",
                seal,
            )
        ]
    if digest.hexdigest() != seal.entries_digest:
        return count, [
            _problem("digest", "digest differs: an entry of this segment was edited", seal)
        ]
    if count and first != seal.first_id:
        return count, [
            _problem("first_id", f"first entry is {first}, sealed {seal.first_id}", seal)
        ]
    return count, []


def _retention_cutoff(now: dt.datetime) -> dt.date | None:
    months = settings.ACCESS_LOG_RETENTION_MONTHS
    if not months:
        return None
    return add_months(month_of(now), -months)


def verify(
    *,
    month: dt.date | None = None,
    public_keys: Iterable[Ed25519PublicKey] = (),
    anchor: str | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Recompute every non-pruned segment (or those of ``month``), the chain and the
    signatures; find entries outside the sealed ranges. ``public_keys``: keys of earlier
    seal secrets (the current one is always trusted). ``anchor``: a seal hash recorded
    earlier (e.g. printed by a previous run) that must still be in the chain."""
    now = now or timezone.now()
    report = Report()
    current = signing_key().public_key()
    keys = {key_id_of(k): k for k in [current, *public_keys]}
    report.key_ids = set(keys)
    retention_cutoff = _retention_cutoff(now)

    prev_hash = GENESIS
    month_last: dict[dt.date, int] = {}
    closed_seal: dict[dt.date, AccessLogSeal] = {}
    in_range: dict[dt.date, int] = {}
    anchor_found = anchor is None
    for seal in AccessLogSeal.objects.order_by("id").iterator(chunk_size=2000):
        report.seals += 1
        report.problems.extend(_check_links(seal, prev_hash, keys))
        prev_hash = seal.seal_hash
        if anchor is not None and seal.seal_hash == anchor.strip().lower():
            anchor_found = True
        after_id = month_last.get(seal.month, 0)
        month_last[seal.month] = max(after_id, seal.last_id)
        if seal.month in closed_seal:
            report.problems.append(
                _problem("sealed_after_close", "sealed after its month was closed", seal)
            )
        if seal.closed:
            closed_seal[seal.month] = seal
        if month is not None and seal.month != month:
            continue
        if seal.pruned_at is not None:
            report.pruned_segments += 1
            if retention_cutoff is None or seal.month >= retention_cutoff:
                report.problems.append(
                    _problem("pruned_early", "marked pruned but still within retention", seal)
                )
        found, problems = _check_segment(seal, after_id)
        report.problems.extend(problems)
        in_range[seal.month] = in_range.get(seal.month, 0) + found
        if seal.pruned_at is None:
            report.segments_checked += 1
            report.entries_checked += found
    report.head = prev_hash
    if not anchor_found:
        report.problems.append(
            _problem(
                "anchor",
                f"the recorded seal {anchor} is not in the chain (seals removed or rewritten)",
            )
        )
    _check_coverage(report, month, month_last, closed_seal, in_range)
    return report


def _check_coverage(
    report: Report,
    month: dt.date | None,
    month_last: dict[dt.date, int],
    closed_seal: dict[dt.date, AccessLogSeal],
    in_range: dict[dt.date, int],
) -> None:
    """Entries outside every sealed range: the unsealed tail of open months (normal),
    or entries in a closed month or in an unsealed month older than a sealed one
    (inserted)."""
    qs = AccessLogEntry.objects.all()
    if month is not None:
        start, end = month_bounds(month)
        qs = qs.filter(at__gte=start, at__lt=end)
    totals = (
        qs.annotate(m=TruncMonth("at", tzinfo=UTC)).values("m").annotate(n=Count("id")).order_by()
    )
    newest_sealed = max(month_last, default=None)
    for row in totals:
        m = month_of(row["m"]) if isinstance(row["m"], dt.datetime) else row["m"]
        outside = row["n"] - in_range.get(m, 0)
        if outside <= 0:
            continue
        label = m.strftime("%Y-%m")
        if m in closed_seal:
            report.problems.append(
                _problem(
                    "after_close",
                    f"{outside} entries after the month was closed by this segment (inserted)",
                    closed_seal[m],
                )
            )
        elif m not in month_last and newest_sealed is not None and m < newest_sealed:
            report.problems.append(
                _problem(
                    "unsealed_month",
                    f"{outside} entries in a month never sealed, older than sealed months "
                    "(inserted)",
                    month=label,
                )
            )
        else:
            report.unsealed[label] = outside

"""Token Status List (draft-ietf-oauth-status-list): revocation and suspension for
verifiers, published by each issuer.

Every issued document gets a random free index in one of its issuer's lists (random, so
that neighbouring indices do not tell a verifier which documents were issued together).
The list is 2 bits per index — 0 valid, 1 invalid (revoked), 2 suspended — packed least
significant bits first, zlib-compressed and base64url-encoded, inside a JWT of type
``statuslist+jwt`` signed with the issuer's key. It is built from the documents' stored
status on each request, so a revocation is visible to the next fetch; ``TTL`` tells
verifiers to fetch again after 30 seconds (the issue asks for under a minute).
"""

from __future__ import annotations

import random
import time
import zlib
from typing import TYPE_CHECKING, Any

from congdan.wallet import jose, keys
from congdan.wallet.models import Document, DocumentStatus, StatusList

if TYPE_CHECKING:
    from congdan.core.models import Agency

BITS = 2
VALID, INVALID, SUSPENDED = 0, 1, 2
TYP = "statuslist+jwt"
TTL = 30  # seconds a verifier may cache a list
# A list is closed when half full, so a random free index is found in a few draws.
FILL = 0.5
_rng = random.SystemRandom()

STATUS_VALUES = {
    DocumentStatus.VALID: VALID,
    DocumentStatus.REVOKED: INVALID,
    DocumentStatus.SUSPENDED: SUSPENDED,
}


def _open_list(agency: Agency) -> StatusList:
    current = StatusList.objects.filter(agency=agency).order_by("-number").first()
    if current is not None:
        used = Document.objects.filter(status_list=current).count()
        if used < current.size * FILL:
            return current
    number = current.number + 1 if current is not None else 1
    status_list, _created = StatusList.objects.get_or_create(agency=agency, number=number)
    return status_list


def allocate(agency: Agency, count: int = 1) -> list[tuple[StatusList, int]]:
    """``count`` free (list, index) pairs of the agency; the caller saves them on
    documents (a unique constraint catches a concurrent taker: draw again)."""
    if count == 1:
        # One document (the usual path): draw until a free index; a list is at most half
        # full, so each draw succeeds with probability >= 1/2 (one indexed probe each).
        status_list = _open_list(agency)
        taken_here = Document.objects.filter(status_list=status_list)
        for index in _draws(status_list.size):
            if not taken_here.filter(status_index=index).exists():
                return [(status_list, index)]
    pairs: list[tuple[StatusList, int]] = []
    while len(pairs) < count:
        status_list = _open_list(agency)
        used = set(
            Document.objects.filter(status_list=status_list).values_list("status_index", flat=True)
        )
        room = int(status_list.size * FILL) - len(used)
        if room <= 0:  # pragma: no cover -- _open_list opened a fresh one
            continue
        free = (i for i in _draws(status_list.size) if i not in used)
        taken: set[int] = set()
        while len(taken) < min(room, count - len(pairs)):
            taken.add(next(free))
        pairs.extend((status_list, i) for i in taken)
        if len(pairs) < count:
            # This list is now (in this batch) full: let the next round open another.
            StatusList.objects.get_or_create(agency=agency, number=status_list.number + 1)
    return pairs


def _draws(size: int) -> Any:
    while True:
        yield _rng.randrange(size)


def encode(size: int, statuses: dict[int, int]) -> str:
    """The compressed, base64url byte array of ``size`` 2-bit entries."""
    data = bytearray((size * BITS + 7) // 8)
    per_byte = 8 // BITS
    for index, value in statuses.items():
        data[index // per_byte] |= (value & 0b11) << ((index % per_byte) * BITS)
    return jose.b64e(zlib.compress(bytes(data), 9))


def decode_status(lst: str, bits: int, index: int) -> int:
    """The status at ``index`` of an encoded list (verifier side); JoseError when the
    list is malformed or too short."""
    if bits not in (1, 2, 4, 8):
        raise jose.JoseError("bad_status_list", "unsupported bits")
    try:
        data = zlib.decompressobj().decompress(jose.b64d(lst), 16 * 1024 * 1024)
    except zlib.error as exc:
        raise jose.JoseError("bad_status_list", "not zlib") from exc
    per_byte = 8 // bits
    if index < 0 or index // per_byte >= len(data):
        raise jose.JoseError("bad_status_list", "index outside the list")
    return (data[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)


def payload(status_list: StatusList, now: int) -> dict[str, Any]:
    """The status list token's claims as of now (built from the documents' status)."""
    agency = status_list.agency
    statuses = {
        index: STATUS_VALUES[DocumentStatus(status)]
        for index, status in Document.objects.filter(status_list=status_list)
        .exclude(status=DocumentStatus.VALID)
        .values_list("status_index", "status")
        if index is not None
    }
    return {
        "sub": keys.status_list_uri(agency, status_list.number),
        "iss": keys.issuer_id(agency),
        "iat": now,
        "exp": now + 24 * 3600,
        "ttl": TTL,
        "status_list": {"bits": BITS, "lst": encode(status_list.size, statuses)},
    }


def token(status_list: StatusList, now: int | None = None) -> str:
    """The signed status list JWT as of now."""
    now = int(time.time()) if now is None else now
    key = keys.current_key(status_list.agency)
    return jose.sign({"typ": TYP, "kid": key.kid}, payload(status_list, now), keys.private_key(key))

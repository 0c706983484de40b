"""Signing and checking a document's content (JWS compact, RS256, ``identity.keys``).

What is signed is the canonical JSON of ``content_of(document)``: keys sorted, no
insignificant whitespace, UTF-8 (names keep their diacritics). It holds only what never
changes after issue: the holder's personal ID number (never their name, which a
correction may change), the issuer's code, the dates, the fields and the source. The
status is *not* signed: a revoked document still carries a valid signature, and
``selectors.verify_document`` is about authenticity; whether it still holds is the status.

Keys: the current ID-token signing key signs (its kid goes in the protected header),
``identity.keys.key_for_kid`` verifies. A key is published only until its retirement grace
ends, so a document signed by a key retired longer ago no longer verifies (docs/wallet.md).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jwcrypto import jws
from jwcrypto.common import JWException

from congdan.identity import keys

if TYPE_CHECKING:
    from congdan.wallet.models import Document

FORMAT = "congdan.wallet.document/1"
MEDIA_TYPE = "application/vnd.congdan.document+json"


def content_of(document: Document) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "number": document.number,
        "doc_type": document.doc_type,
        "title_vi": document.title_vi,
        "title_en": document.title_en,
        "holder": {"id_number": document.holder.id_number},
        "issuer": {"code": document.issuer.code},
        "issued_at": document.issued_at.isoformat(),
        "valid_until": document.valid_until.isoformat() if document.valid_until else None,
        "data": document.data,
        "source_ref": document.source_ref,
    }


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign(content: dict[str, Any]) -> str:
    """The JWS compact serialisation of ``content`` signed with the current key."""
    key = keys.current_key()
    token = jws.JWS(canonical(content))
    header = {"alg": keys.ALGORITHM, "kid": key.kid, "cty": MEDIA_TYPE}
    token.add_signature(keys.jwk_of(key), None, json.dumps(header))
    return str(token.serialize(compact=True))


def verified_payload(signature: str) -> bytes | None:
    """The signed bytes when ``signature`` is a JWS by a published key of ours, else None.

    The kid is required (``key_for_kid`` would otherwise fall back to the current key)
    and so is RS256: the header cannot pick a weaker algorithm.
    """
    try:
        token = jws.JWS()
        token.deserialize(signature)
        header = token.jose_header
        if not isinstance(header, dict) or header.get("alg") != keys.ALGORITHM:
            return None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            return None
        key = keys.key_for_kid(kid)
        if key is None:
            return None
        token.verify(key, alg=keys.ALGORITHM)
        payload = token.payload
    except (JWException, ValueError, TypeError):
        return None
    return bytes(payload)


def header_of(signature: str) -> dict[str, Any]:
    """The protected header, unverified (for showing the kid)."""
    try:
        token = jws.JWS()
        token.deserialize(signature)
        header = token.jose_header
    except (JWException, ValueError, TypeError):
        return {}
    return header if isinstance(header, dict) else {}

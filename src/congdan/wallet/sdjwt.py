"""SD-JWT (RFC 9901) and SD-JWT VC: issuing, presenting and parsing, on ``jose``.

An issued credential is ``<issuer JWT>~<disclosure>~…~`` (every disclosure, kept by the
wallet). A presentation keeps the disclosures the holder chose and ends with a key-binding
JWT signed by the holder's key (the one in ``cnf``), over the ``sd_hash`` of everything
before it: ``<issuer JWT>~<chosen disclosures>~<KB-JWT>``.

A credential whose claims need no hiding is the same issuer JWT with every claim in clear
and no disclosures; presenting it still adds the key-binding JWT (``<JWS>~<KB-JWT>``).

Only flat, top-level claims are selectively disclosable (a document's fields); that is
all the wallet needs and keeps a presentation small enough for a QR code.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from congdan.wallet import jose
from congdan.wallet.jose import JoseError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

SD_ALG = "sha-256"
TYP_SD_JWT_VC = "dc+sd-jwt"
TYP_JWT_VC = "vc+jwt"
TYP_KB = "kb+jwt"
SALT_BYTES = 16
# Claims that are never selectively disclosable (RFC 9901 §4.2.2, SD-JWT VC §3.2.2).
RESERVED = frozenset(
    {"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "sub", "_sd", "_sd_alg"}
)
MAX_DISCLOSURES = 100


def disclosure(name: str, value: Any) -> str:
    salt = jose.b64e(secrets.token_bytes(SALT_BYTES))
    return jose.b64e(
        json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":")).encode()
    )


def issue(
    *,
    header: dict[str, Any],
    claims: dict[str, Any],
    disclosable: dict[str, Any],
    key: ec.EllipticCurvePrivateKey,
) -> str:
    """``<issuer JWT>~<d1>~…~<dn>~`` — ``claims`` in clear, ``disclosable`` hidden behind
    digests. With nothing disclosable it is a plain JWS followed by ``~``."""
    clash = (set(disclosable) & set(claims)) | (set(disclosable) & RESERVED)
    if clash:
        raise ValueError(f"claims both clear and disclosable or reserved: {sorted(clash)}")
    disclosures = [disclosure(name, value) for name, value in disclosable.items()]
    payload = dict(claims)
    if disclosures:
        payload["_sd"] = sorted(jose.sha256_b64(d) for d in disclosures)
        payload["_sd_alg"] = SD_ALG
    jwt = jose.sign(header, payload, key)
    return "~".join([jwt, *disclosures]) + "~"


@dataclass
class Parsed:
    """A credential or presentation split into its parts; nothing verified yet."""

    jwt: str
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    disclosures: list[str]
    kb_jwt: str | None
    # The disclosed claims by name (filled by ``disclosed_claims``).
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def sd_hash_input(self) -> str:
        """What the KB-JWT's ``sd_hash`` covers: the SD-JWT up to its last ``~``."""
        return "~".join([self.jwt, *self.disclosures]) + "~"


def split(text: str) -> Parsed:
    """Split ``<JWT>~<disclosures>~[<KB-JWT>]`` (or a bare JWS) into its parts."""
    if not isinstance(text, str):
        raise JoseError("malformed", "not text")
    text = text.strip()
    if not text or len(text) > jose.MAX_TOKEN:
        raise JoseError("malformed", "empty or too long")
    parts = text.split("~") if "~" in text else [text, ""]
    jwt, middle, last = parts[0], parts[1:-1], parts[-1]
    if len(middle) > MAX_DISCLOSURES:
        raise JoseError("malformed", "too many disclosures")
    if any(not d for d in middle):
        raise JoseError("malformed", "empty disclosure")
    header, payload, signing_input, signature = jose.parse(jwt)
    return Parsed(
        jwt=jwt,
        header=header,
        payload=payload,
        signing_input=signing_input,
        signature=signature,
        disclosures=middle,
        kb_jwt=last or None,
    )


def disclosed_claims(parsed: Parsed) -> dict[str, Any]:
    """The claims the disclosures reveal, each checked against a digest in ``_sd``.

    Raises JoseError("bad_disclosure") for a disclosure that is malformed, not referenced
    by the signed payload, repeated, or that names a reserved or clear claim.
    """
    digests = parsed.payload.get("_sd", [])
    if parsed.disclosures and parsed.payload.get("_sd_alg") != SD_ALG:
        raise JoseError("bad_disclosure", "unsupported _sd_alg")
    if not isinstance(digests, list):
        raise JoseError("malformed", "_sd must be a list")
    wanted = set(digests)
    seen: set[str] = set()
    claims: dict[str, Any] = {}
    for item in parsed.disclosures:
        digest = jose.sha256_b64(item) if item.isascii() else ""
        if digest not in wanted or digest in seen:
            raise JoseError("bad_disclosure", "a disclosure is not covered by the signature")
        seen.add(digest)
        try:
            salt, name, value = jose.b64_json(item)
        except (TypeError, ValueError) as exc:
            raise JoseError("bad_disclosure", "a disclosure is not [salt, name, value]") from exc
        if not isinstance(salt, str) or not isinstance(name, str):
            raise JoseError("bad_disclosure", "a disclosure is not [salt, name, value]")
        if name in RESERVED or name in parsed.payload or name in claims:
            raise JoseError("bad_disclosure", f"disclosure of a reserved or clear claim {name}")
        claims[name] = value
    parsed.claims = claims
    return claims


def disclosure_names(credential: str) -> dict[str, str]:
    """claim name → its disclosure, for a credential the wallet holds (trusted input)."""
    names: dict[str, str] = {}
    for item in split(credential).disclosures:
        _salt, name, _value = jose.b64_json(item)
        names[name] = item
    return names


def present(
    credential: str,
    *,
    claims: list[str],
    holder_key: ec.EllipticCurvePrivateKey,
    aud: str,
    nonce: str,
    iat: int,
    exp: int | None = None,
) -> str:
    """A presentation disclosing only ``claims`` (unknown names are ignored by the caller's
    choice list), bound to the holder's key."""
    parsed = split(credential)
    available = disclosure_names(credential)
    chosen = [available[name] for name in claims if name in available]
    sd_jwt = "~".join([parsed.jwt, *chosen]) + "~"
    kb_payload: dict[str, Any] = {
        "iat": iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": jose.sha256_b64(sd_jwt),
    }
    if exp is not None:
        kb_payload["exp"] = exp
    return sd_jwt + jose.sign({"typ": TYP_KB}, kb_payload, holder_key)

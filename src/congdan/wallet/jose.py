"""The little JOSE the wallet needs: ES256 compact JWS over P-256 keys (RFC 7515/7518).

Written on ``cryptography`` rather than jwcrypto because documents are signed in bulk (the
seed issues hundreds of thousands) and a verifier parses untrusted input: this module does
exactly one algorithm, refuses every other ``alg`` (no ``none``, no HMAC confusion), and
turns every malformed input into ``JoseError`` with a code. Tests check what it signs with
an independent implementation (joserfc).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

ALG = "ES256"
CURVE = "P-256"
_COORD = 32  # bytes of a P-256 coordinate / signature half
# A compact JWS longer than this is not one of ours (a portrait-bearing document is
# about 20 kB); refused before any decoding.
MAX_TOKEN = 200_000


class JoseError(ValueError):
    """Malformed or unverifiable input; ``code`` says which."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# A JOSE header or a disclosure is a few hundred bytes; far larger is not ours.
MAX_JSON_PART = 64_000


def b64d(text: str) -> bytes:
    """Strict base64url without padding: any other character is refused (so a token has
    exactly one spelling, as in the browser's offline verifier)."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise JoseError("malformed", "not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JoseError("malformed", "not base64url") from exc


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 (names keep their diacritics)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def json_b64(value: Any) -> str:
    return b64e(canonical_json(value))


def b64_json(text: str, max_chars: int = MAX_TOKEN) -> Any:
    """The JSON value in a base64url part; JoseError for anything else, including JSON
    nested deeply enough to exhaust the parser's recursion."""
    if len(text) > max_chars:
        raise JoseError("malformed", "part too large")
    try:
        return json.loads(b64d(text).decode("utf-8"))
    except JoseError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JoseError("malformed", "not JSON") from exc


# --- keys ---------------------------------------------------------------------------


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_key_from_pem(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise JoseError("bad_key", "not a P-256 private key")
    return key


def private_key_to_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK members (kty, crv, x, y) — never ``d``."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": CURVE,
        "x": b64e(numbers.x.to_bytes(_COORD, "big")),
        "y": b64e(numbers.y.to_bytes(_COORD, "big")),
    }


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an EC public key: its kid."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64e(hashlib.sha256(canonical_json(members)).digest())


def public_key_from_jwk(jwk: Any) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a JWK, or JoseError("bad_key")."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != CURVE:
        raise JoseError("bad_key", "not an EC P-256 JWK")
    try:
        x = b64d(jwk["x"])
        y = b64d(jwk["y"])
    except (KeyError, JoseError) as exc:
        raise JoseError("bad_key", "bad coordinates") from exc
    if len(x) != _COORD or len(y) != _COORD:
        raise JoseError("bad_key", "bad coordinates")
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError as exc:  # not a point on the curve
        raise JoseError("bad_key", "point not on curve") from exc


# --- compact JWS --------------------------------------------------------------------


def sign(header: dict[str, Any], payload: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """Compact JWS of ``payload`` (canonical JSON) with ``header`` (alg forced to ES256)."""
    signing_input = f"{json_b64({**header, 'alg': ALG})}.{json_b64(payload)}"
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    return f"{signing_input}.{b64e(r.to_bytes(_COORD, 'big') + s.to_bytes(_COORD, 'big'))}"


def parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, payload, signing input, signature) of a compact JWS; nothing verified yet.

    Refuses anything but three base64url parts with JSON objects and ``alg`` ES256.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise JoseError("malformed", "not a compact JWS")
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("malformed", "a compact JWS has three parts")
    header = b64_json(parts[0], MAX_JSON_PART)
    payload = b64_json(parts[1])
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JoseError("malformed", "header and payload must be JSON objects")
    if header.get("alg") != ALG:
        raise JoseError("bad_algorithm", f"alg must be {ALG}")
    if "crit" in header:
        raise JoseError("bad_algorithm", "critical header parameters are not understood")
    signature = b64d(parts[2])
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def verify_signature(
    signing_input: bytes, signature: bytes, key: ec.EllipticCurvePublicKey
) -> bool:
    if len(signature) != 2 * _COORD:
        return False
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:_COORD], "big"), int.from_bytes(signature[_COORD:], "big")
    )
    try:
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sha256_b64(text: str) -> str:
    """base64url(SHA-256(ASCII text)): SD-JWT digests and ``sd_hash``."""
    return b64e(hashlib.sha256(text.encode("ascii")).digest())

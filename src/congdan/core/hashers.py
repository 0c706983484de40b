"""Argon2id with parameters at or above OWASP's minimum (m=19 MiB, t=2, p=1).

We use m=19456 KiB, t=2, p=1 — OWASP Password Storage Cheat Sheet, first option.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import Argon2PasswordHasher, BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare, get_random_string
from django.utils.translation import gettext_noop as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456
    parallelism = 1


class ClientSecretHasher(BasePasswordHasher):
    """Salted SHA-256 for OAuth client secrets (never for passwords).

    A client secret is 256+ bits of randomness made by the server, so a slow hash adds
    nothing against guessing, while every client-credentials grant pays for it. Argon2id
    here would cap a member system at ~40 tokens/s per core. Only django-oauth-toolkit's
    ``CLIENT_SECRET_HASHER`` names this hasher; it is last in ``PASSWORD_HASHERS`` so that
    no password is ever hashed with it.
    """

    algorithm = "secret_sha256"

    def salt(self) -> str:
        return get_random_string(16)

    def encode(self, password: str, salt: str) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("a client secret and a salt without '$' are required")
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("not a client-secret hash")
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[str | _StrPromise, Any]:
        decoded = self.decode(encoded)
        return {_("algorithm"): decoded["algorithm"], _("salt"): mask_hash(decoded["salt"], show=2)}

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None

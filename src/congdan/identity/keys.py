"""ID-token signing keys (decision 0005): RSA keys kept in ``SigningKey`` rows.

The newest key without ``retired_at`` signs. A rotated key is retired but stays published
in the JWKS until ``retire_after`` (its last ID tokens have expired and relying parties'
JWKS caches have refreshed); after that it drops out. The first key is made on first use,
so a fresh installation needs no setup step.
"""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from congdan.identity.models import SigningKey

KEY_SIZE = 2048
ALGORITHM = "RS256"


@functools.lru_cache(maxsize=32)
def _jwk_from_pem(pem: str) -> jwk.JWK:
    # Parsing an RSA PEM costs about a millisecond: keep the parsed keys per process.
    return jwk.JWK.from_pem(pem.encode("ascii"))


def jwk_of(key: SigningKey) -> jwk.JWK:
    return _jwk_from_pem(key.private_pem)


def new_key_material() -> tuple[str, str]:
    """A fresh RSA key: (kid, private PEM). The kid is the RFC 7638 thumbprint."""
    key = jwk.JWK.generate(kty="RSA", size=KEY_SIZE)
    pem = key.export_to_pem(private_key=True, password=None).decode("ascii")
    return key.thumbprint(), pem


def retirement_grace() -> timedelta:
    """How long a retired key stays published: its ID tokens' lifetime plus the time a
    relying party may cache the JWKS, plus a minute of clock skew."""
    return timedelta(
        seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS
        + oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS
        + 60
    )


def published_keys() -> QuerySet[SigningKey]:
    """Keys in the JWKS: the active ones and retired ones whose grace has not ended."""
    now = timezone.now()
    return SigningKey.objects.filter(Q(retired_at__isnull=True) | Q(retire_after__gt=now)).order_by(
        "-created_at", "-id"
    )


def current_key() -> SigningKey:
    """The key that signs now; made on first use."""
    key = SigningKey.objects.filter(retired_at__isnull=True).order_by("-created_at", "-id").first()
    if key is not None:
        return key
    kid, pem = new_key_material()
    try:
        with transaction.atomic():
            # Two workers starting together: the loser's key is simply one more active
            # key; the newest signs and both are published.
            return SigningKey.objects.create(kid=kid, private_pem=pem)
    except IntegrityError:  # pragma: no cover -- a kid collision of two random keys
        return SigningKey.objects.filter(retired_at__isnull=True).latest("created_at")


def key_for_kid(kid: str | None) -> jwk.JWK | None:
    """The published key with this kid (or, without a kid, the current key)."""
    if not kid:
        return jwk_of(current_key())
    key = published_keys().filter(kid=kid).first()
    return jwk_of(key) if key is not None else None


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """The JWKS document: public parts only, never the private key."""
    if not SigningKey.objects.filter(retired_at__isnull=True).exists():
        current_key()
    keys = []
    for key in published_keys():
        public = json.loads(jwk_of(key).export_public())
        keys.append({**public, "kid": key.kid, "alg": ALGORITHM, "use": "sig"})
    return {"keys": keys}

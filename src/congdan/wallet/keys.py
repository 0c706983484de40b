"""Issuer keys (one set per agency) and holder keys (one per citizen, derived).

Issuer keys: ES256 (P-256) rows in ``IssuerKey``. The newest unretired key of an agency
signs; rotation retires it and makes a new one. Every key stays in the agency's JWKS for
good, so a document keeps verifying after any number of rotations (decision 0009). The
private key is in the database like the OIDC keys (decision 0005); an HSM would replace
``_private`` and ``rotate``.

Holder keys: the web wallet is custodial — it holds each citizen's key and signs the
key-binding JWT of a presentation when the citizen shares. The key is derived, never
stored: HMAC-SHA256(``WALLET_HOLDER_KEY_SECRET``, id number, counter) taken as a P-256
scalar, so issuing documents to a whole population needs no key table.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from congdan.wallet import jose
from congdan.wallet.models import IssuerKey

if TYPE_CHECKING:
    from congdan.core.models import Agency

# The order of P-256: a derived scalar must lie in [1, n-1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@functools.lru_cache(maxsize=256)
def _private(pem: str) -> ec.EllipticCurvePrivateKey:
    return jose.private_key_from_pem(pem)


def private_key(key: IssuerKey) -> ec.EllipticCurvePrivateKey:
    return _private(key.private_pem)


def private_key_of_pem(pem: str) -> ec.EllipticCurvePrivateKey:
    """A parsed private key, cached per process (parsing costs more than signing)."""
    return _private(pem)


def _new_key(agency: Agency) -> IssuerKey:
    private = jose.generate_private_key()
    public = jose.public_jwk(private)
    return IssuerKey.objects.create(
        agency=agency,
        kid=jose.thumbprint(public),
        private_pem=jose.private_key_to_pem(private),
        public_jwk=public,
    )


def current_key(agency: Agency) -> IssuerKey:
    """The agency's signing key; made on first use (under a lock on the agency row, so
    two workers do not both make one)."""
    key = (
        IssuerKey.objects.filter(agency=agency, retired_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if key is not None:
        return key
    with transaction.atomic():
        type(agency).objects.select_for_update().filter(pk=agency.pk).first()
        key = IssuerKey.objects.filter(agency=agency, retired_at__isnull=True).first()
        return key if key is not None else _new_key(agency)


def rotate(agency: Agency, *, compromised: bool = False) -> IssuerKey:
    """Retire the agency's signing key and make a new one; both stay published — unless
    ``compromised``: then the old keys leave the JWKS at once and every document they
    signed stops verifying (``unknown_key``) until issued again."""
    with transaction.atomic():
        type(agency).objects.select_for_update().filter(pk=agency.pk).first()
        now = timezone.now()
        active = IssuerKey.objects.filter(agency=agency, retired_at__isnull=True)
        if compromised:
            IssuerKey.objects.filter(agency=agency, compromised_at__isnull=True).update(
                compromised_at=now
            )
        active.update(retired_at=now)
        return _new_key(agency)


def jwks(agency: Agency) -> dict[str, list[dict[str, Any]]]:
    """The agency's JWKS: the public part of every key it has had, newest first, except
    compromised ones."""
    keys = IssuerKey.objects.filter(agency=agency, compromised_at__isnull=True).order_by(
        "-created_at", "-id"
    )
    return {"keys": [{**k.public_jwk, "kid": k.kid, "alg": jose.ALG, "use": "sig"} for k in keys]}


# --- identifiers --------------------------------------------------------------------


def _public(path: str) -> str:
    return f"{settings.CONGDAN_PUBLIC_URL}{path}"


def issuer_id(agency: Agency) -> str:
    """The ``iss`` of the agency's credentials (an HTTPS URL in production)."""
    return _public(reverse("wallet:issuer", args=[agency.code]))


def jwks_uri(agency: Agency) -> str:
    return _public(reverse("wallet:issuer_jwks", args=[agency.code]))


def status_list_uri(agency: Agency, number: int) -> str:
    return _public(reverse("wallet:status_list", args=[agency.code, number]))


def issuer_metadata(agency: Agency) -> dict[str, Any]:
    """JWT VC Issuer Metadata (SD-JWT VC §5), served at
    ``/.well-known/jwt-vc-issuer/wallet/issuers/<code>``."""
    return {"issuer": issuer_id(agency), "jwks_uri": jwks_uri(agency)}


# --- holder keys --------------------------------------------------------------------


def _holder_secret() -> bytes:
    configured = getattr(settings, "WALLET_HOLDER_KEY_SECRET", "")
    if configured:
        return str(configured).encode()
    # Derived from SECRET_KEY when not set (the demo); production sets its own (a
    # rotation of SECRET_KEY must not change every citizen's holder key).
    return hmac.new(settings.SECRET_KEY.encode(), b"congdan-wallet-holder", "sha256").digest()


@functools.lru_cache(maxsize=4096)
def _holder_key(secret: bytes, id_number: str) -> ec.EllipticCurvePrivateKey:
    counter = 0
    while True:
        digest = hmac.new(secret, f"holder|{id_number}|{counter}".encode(), hashlib.sha256).digest()
        scalar = int.from_bytes(digest, "big")
        if 0 < scalar < _P256_ORDER:
            return ec.derive_private_key(scalar, ec.SECP256R1())
        counter += 1  # pragma: no cover -- probability about 2**-32


def holder_key(id_number: str) -> ec.EllipticCurvePrivateKey:
    """The citizen's custodial holder key (the same every time for the same person)."""
    return _holder_key(_holder_secret(), id_number)


def holder_jwk(id_number: str) -> dict[str, str]:
    return jose.public_jwk(holder_key(id_number))

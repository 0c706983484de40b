"""Where the verifier gets issuers' keys and status lists.

``LocalKeys`` / ``LocalStatuses`` answer for this installation's own agencies straight
from the database (we are the issuer). Other installations' issuers must be trusted
(an active ``TrustedIssuer`` row); their JWKS and status lists are fetched over HTTP and
cached, and the cache is used when the issuer cannot be reached (offline verification):

- keys: the JWT VC Issuer Metadata at ``<scheme://host>/.well-known/jwt-vc-issuer<path of
  iss>`` names the ``jwks_uri`` (or carries ``jwks`` inline); the JWKS is stored on the
  row with ``jwks_fetched_at`` and fetched again after ``JWKS_MAX_AGE``. When a fetch
  fails the stored JWKS is used and the verdict says "keys from cache, fetched at …".
- status lists: the signed token is kept in ``StatusListCache`` and fetched again after
  its ``ttl``; when the fetch fails the cached token is used while it has not expired,
  else the status is "not checked".

Fetches use HTTPS (plain HTTP only with DEBUG or CONGDAN_DEMO, or to a loopback host),
a 3-second timeout and a size cap; redirects are followed only to allowed URLs.

``default_sources()`` gives the pair the verification service uses: our agencies first,
then the trusted foreign issuers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from congdan.core.models import Agency
from congdan.wallet import keys, statuslist
from congdan.wallet.jose import JoseError
from congdan.wallet.models import StatusList, StatusListCache, TrustedIssuer
from congdan.wallet.verifier import verify_status_token

ISSUER_PATH = "/wallet/issuers/"
FETCH_TIMEOUT = 3  # seconds
MAX_FETCH_BYTES = 512 * 1024  # a JWKS is a few kB; a status list token some tens of kB
JWKS_MAX_AGE = dt.timedelta(hours=1)
DEFAULT_STATUS_TTL = 300  # seconds, for a status list token without ``ttl``
USER_AGENT = "congdan-verifier/1"


def local_agency(iss: str) -> Agency | None:
    """The agency of one of our issuer identifiers, or None."""
    prefix = settings.CONGDAN_PUBLIC_URL + ISSUER_PATH
    if not isinstance(iss, str) or not iss.startswith(prefix):
        return None
    code = iss[len(prefix) :]
    if not code or "/" in code:
        return None
    return Agency.objects.filter(code=code).first()


class LocalKeys:
    """Our own agencies' JWKS."""

    def jwks(self, iss: str) -> dict[str, Any] | None:
        agency = local_agency(iss)
        return keys.jwks(agency) if agency is not None else None


class LocalStatuses:
    """Our own status lists, built now (so a revocation shows at once)."""

    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None:
        agency = local_agency(iss)
        if agency is None:
            return None
        prefix = keys.issuer_id(agency) + "/status/"
        if not uri.startswith(prefix) or not uri[len(prefix) :].isdigit():
            return None
        status_list = StatusList.objects.filter(
            agency=agency, number=int(uri[len(prefix) :])
        ).first()
        if status_list is None:
            return None
        now = int(time.time())
        try:
            return verify_status_token(
                statuslist.token(status_list, now), uri, keys.jwks(agency), now
            )
        except JoseError:  # pragma: no cover -- we signed it a moment ago
            return None


# --- fetching over HTTP -------------------------------------------------------------


class FetchError(Exception):
    """The URL is not allowed, did not answer in time, or answered something unusable."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_url(url: str) -> bool:
    """HTTPS, or HTTP with DEBUG / CONGDAN_DEMO or to a loopback host; never userinfo."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname or "@" in parts.netloc:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    relaxed = bool(settings.DEBUG or getattr(settings, "CONGDAN_DEMO", False))
    return relaxed or _is_loopback(parts.hostname)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 -- urllib's signature, overridden
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if not allowed_url(newurl):
            raise FetchError("redirect to a URL that is not allowed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_CheckedRedirects())


def fetch(url: str, *, accept: str = "application/json") -> bytes:
    """GET ``url`` (allowed URLs only), at most ``MAX_FETCH_BYTES``; FetchError otherwise."""
    if not allowed_url(url):
        raise FetchError("URL not allowed")
    request = urllib.request.Request(  # noqa: S310 -- scheme checked by allowed_url
        url, headers={"Accept": accept, "User-Agent": USER_AGENT}
    )
    try:
        with _opener.open(request, timeout=FETCH_TIMEOUT) as response:
            if response.status != 200:
                raise FetchError(f"HTTP {response.status}")
            body: bytes = response.read(MAX_FETCH_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(type(exc).__name__) from exc
    if len(body) > MAX_FETCH_BYTES:
        raise FetchError("response too large")
    return body


Fetcher = Callable[..., bytes]


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FetchError("not JSON") from exc
    if not isinstance(value, dict):
        raise FetchError("not a JSON object")
    return value


def metadata_url(iss: str) -> str:
    """``<scheme://host>/.well-known/jwt-vc-issuer<path of iss>`` (SD-JWT VC §5)."""
    parts = urlsplit(iss)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwt-vc-issuer{parts.path.rstrip('/')}"


def _valid_jwks(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        raise FetchError("not a JWKS")
    usable = [k for k in value["keys"] if isinstance(k, dict) and k.get("kid")]
    return {"keys": usable}


def fetch_jwks(iss: str, fetcher: Fetcher = fetch) -> dict[str, Any]:
    """The issuer's JWKS through its metadata; FetchError when anything is off."""
    metadata = _json(fetcher(metadata_url(iss)))
    if metadata.get("issuer") != iss:
        raise FetchError("metadata for another issuer")
    if "jwks" in metadata:
        return _valid_jwks(metadata["jwks"])
    uri = metadata.get("jwks_uri")
    if not isinstance(uri, str):
        raise FetchError("no jwks_uri")
    return _valid_jwks(_json(fetcher(uri, accept="application/jwk-set+json, application/json")))


# --- trusted foreign issuers --------------------------------------------------------


@dataclass
class CacheNotes:
    """What a verification took from a cache because the issuer could not be reached:
    iss → when its JWKS was fetched; status list URI → when its token was fetched."""

    keys: dict[str, dt.datetime] = field(default_factory=dict)
    statuses: dict[str, dt.datetime] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)


class TrustedKeys:
    """JWKS of active ``TrustedIssuer`` rows: fetched, stored, refreshed after an hour,
    and taken from the row when the issuer cannot be reached."""

    def __init__(self, *, fetcher: Fetcher = fetch, notes: CacheNotes | None = None) -> None:
        self.fetcher = fetcher
        self.notes = notes if notes is not None else CacheNotes()
        self._seen: dict[str, dict[str, Any] | None] = {}

    def jwks(self, iss: str) -> dict[str, Any] | None:
        if iss not in self._seen:
            self._seen[iss] = self._resolve(iss)
        return self._seen[iss]

    def _resolve(self, iss: str) -> dict[str, Any] | None:
        row = TrustedIssuer.objects.filter(issuer=iss, active=True).first()
        if row is None:
            return None
        now = timezone.now()
        cached = row.jwks if isinstance(row.jwks, dict) and row.jwks.get("keys") else None
        if (
            cached is not None
            and row.jwks_fetched_at is not None
            and now - row.jwks_fetched_at < JWKS_MAX_AGE
        ):
            return cached
        try:
            fresh = fetch_jwks(iss, self.fetcher)
        except FetchError:
            if cached is not None and row.jwks_fetched_at is not None:
                self.notes.keys[iss] = row.jwks_fetched_at
                return cached
            self.notes.unreachable.add(iss)
            return {"keys": []}  # trusted but never reached: every kid is unknown
        TrustedIssuer.objects.filter(pk=row.pk).update(jwks=fresh, jwks_fetched_at=now)
        return fresh


class TrustedStatuses:
    """Status lists of trusted foreign issuers, through ``StatusListCache``."""

    def __init__(self, keys: TrustedKeys, *, fetcher: Fetcher | None = None) -> None:
        self.keys = keys
        self.fetcher = fetcher or keys.fetcher
        self.notes = keys.notes

    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None:
        jwks = self.keys.jwks(iss)
        if not jwks or not jwks.get("keys"):
            return None
        now = timezone.now()
        epoch = int(now.timestamp())
        row = StatusListCache.objects.filter(uri=uri).first()
        cached: dict[str, Any] | None = None
        if row is not None:
            try:
                cached = verify_status_token(row.token, uri, jwks, epoch)
            except JoseError:
                cached = None
        if cached is not None and row is not None:
            ttl = cached.get("ttl")
            ttl = ttl if isinstance(ttl, int) and ttl > 0 else DEFAULT_STATUS_TTL
            if now - row.fetched_at < dt.timedelta(seconds=ttl):
                return cached
        try:
            token = self.fetcher(uri, accept="application/statuslist+jwt").decode("ascii")
            payload = verify_status_token(token.strip(), uri, jwks, epoch)
        except (FetchError, JoseError, UnicodeDecodeError):
            if cached is not None and row is not None:
                self.notes.statuses[uri] = row.fetched_at
                return cached
            return None
        StatusListCache.objects.update_or_create(
            uri=uri, defaults={"token": token.strip(), "fetched_at": now}
        )
        return payload


# --- ours, then trusted -------------------------------------------------------------


class Keys:
    """Our agencies' JWKS, else a trusted foreign issuer's."""

    def __init__(self, trusted: TrustedKeys) -> None:
        self.local = LocalKeys()
        self.trusted = trusted

    def jwks(self, iss: str) -> dict[str, Any] | None:
        if local_agency(iss) is not None:
            return self.local.jwks(iss)
        return self.trusted.jwks(iss)


class Statuses:
    """Our status lists built now, else a trusted foreign issuer's (cached)."""

    def __init__(self, trusted: TrustedStatuses) -> None:
        self.local = LocalStatuses()
        self.trusted = trusted

    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None:
        if local_agency(iss) is not None:
            return self.local.status_list(uri, iss)
        return self.trusted.status_list(uri, iss)


@dataclass
class Sources:
    keys: Keys
    statuses: Statuses
    notes: CacheNotes


def default_sources(*, fetcher: Fetcher = fetch) -> Sources:
    """The key and status sources of a verification, with the notes of what came from a
    cache (read them after ``verifier.verify``)."""
    notes = CacheNotes()
    trusted = TrustedKeys(fetcher=fetcher, notes=notes)
    return Sources(keys=Keys(trusted), statuses=Statuses(TrustedStatuses(trusted)), notes=notes)

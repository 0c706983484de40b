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

Fetches are guarded against server-side request forgery and slow servers:

- HTTPS only (plain HTTP, also in redirects, only with DEBUG or CONGDAN_DEMO);
- the ``jwks_uri`` of the metadata and every status list URI must have the origin
  (scheme, host, port) of the issuer identifier ``iss``;
- the host is resolved when connecting and every address it resolves to must be a public
  one: loopback, private, link-local, multicast, reserved, unspecified and shared
  addresses (IPv4 and IPv6, IPv4 embedded in IPv6 too) are refused, IP literals as well
  (not with DEBUG or CONGDAN_DEMO: the tests and the demo run issuers on 127.0.0.1); the
  connection goes to the address that was checked, so DNS rebinding cannot slip past;
- environment proxies are ignored;
- a total deadline of ``FETCH_DEADLINE`` seconds per fetch (connection, TLS, headers,
  body and redirects together: a server dripping a byte at a time is cut off), and a
  size cap; JSON nested too deeply is a fetch error.

``default_sources()`` gives the pair the verification service uses: our agencies first,
then the trusted foreign issuers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import ipaddress
import json
import socket
import threading
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
from congdan.wallet import doctypes, keys, statuslist
from congdan.wallet.jose import JoseError
from congdan.wallet.models import StatusList, StatusListCache, TrustedIssuer
from congdan.wallet.verifier import verify_status_token

ISSUER_PATH = "/wallet/issuers/"
FETCH_TIMEOUT = 3  # seconds, for one socket operation
FETCH_DEADLINE = 5.0  # seconds, for a whole fetch (wall clock)
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


class _Agencies:
    """``local_agency`` remembered for the life of one source object (one verification
    asks for the same issuer three times: keys, competence, status)."""

    def __init__(self) -> None:
        self._seen: dict[str, Agency | None] = {}

    def agency(self, iss: str) -> Agency | None:
        if iss not in self._seen:
            self._seen[iss] = local_agency(iss)
        return self._seen[iss]


class LocalKeys(_Agencies):
    """Our own agencies' JWKS."""

    def jwks(self, iss: str) -> dict[str, Any] | None:
        agency = self.agency(iss)
        return keys.jwks(agency) if agency is not None else None

    def competent(self, iss: str, vct: str) -> bool:
        """Whether our agency ``iss`` may issue the type ``vct`` (doctypes)."""
        agency = self.agency(iss)
        if agency is None or not vct.startswith(doctypes.VCT_PREFIX):
            return agency is not None
        return doctypes.competent(vct.removeprefix(doctypes.VCT_PREFIX), agency.kind)


class LocalStatuses(_Agencies):
    """Our own status lists, read from the documents now (so a revocation shows at once).

    The payload is built from the database directly: signing a token only to verify it
    again a moment later would prove nothing (we are the issuer) and cost two signature
    operations and a JWKS read per verification.
    """

    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None:
        agency = self.agency(iss)
        if agency is None:
            return None
        prefix = keys.issuer_id(agency) + "/status/"
        number = uri[len(prefix) :] if uri.startswith(prefix) else ""
        if not number.isascii() or not number.isdigit() or len(number) > 9:
            return None
        status_list = StatusList.objects.filter(agency=agency, number=int(number)).first()
        if status_list is None:
            return None
        return statuslist.payload(status_list, int(time.time()))


# --- fetching over HTTP -------------------------------------------------------------


class FetchError(Exception):
    """The URL is not allowed, did not answer in time, or answered something unusable."""


def _relaxed() -> bool:
    """DEBUG or the demo: plain HTTP and local addresses are allowed (a test or demo
    issuer on 127.0.0.1)."""
    return bool(settings.DEBUG or getattr(settings, "CONGDAN_DEMO", False))


def public_address(address: str) -> bool:
    """True for an address on the public Internet; False for loopback, private,
    link-local, multicast, reserved, unspecified, shared (100.64/10) and documentation
    addresses, and for IPv6 addresses carrying such an IPv4 address (mapped, 6to4,
    Teredo)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    embedded: list[ipaddress.IPv4Address] = []
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
    for candidate in (ip, *embedded):
        if (
            not candidate.is_global
            or candidate.is_loopback
            or candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        ):
            return False
    return True


def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` for a TCP connection to ``host``; FetchError when the host does not
    resolve or (outside DEBUG / CONGDAN_DEMO) any of its addresses is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError("host does not resolve") from exc
    if not infos:
        raise FetchError("host does not resolve")
    if not _relaxed():
        for info in infos:
            if not public_address(str(info[4][0])):
                raise FetchError("address not allowed")
    return infos


def check_host(host: str) -> None:
    """FetchError unless ``host`` (a name or an IP literal) may be fetched from: every
    address it resolves to is public, or DEBUG / CONGDAN_DEMO is on."""
    resolve(host.strip("[]"), 443)


def allowed_url(url: str) -> bool:
    """HTTPS (HTTP only with DEBUG / CONGDAN_DEMO); a host; never userinfo."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return False
    if not parts.hostname or "@" in parts.netloc:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _relaxed()


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, default ports filled in; None when unreadable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return (parts.scheme, parts.hostname.lower(), port if port is not None else default)


def same_origin(url: str, iss: str) -> bool:
    """True when ``url`` is on the issuer's own origin (scheme, host and port)."""
    mine = origin(url)
    return mine is not None and mine == origin(iss)


class _Deadline:
    """A fetch's wall-clock limit: every socket it opens is shut down when the time is up,
    whatever the fetch is doing (TLS handshake, headers, body)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchError("deadline exceeded")
        return left

    def watch(self, sock: socket.socket) -> None:
        # A duplicate descriptor of the same connection: shutting it down ends reads on
        # the socket urllib uses, even once it is wrapped in TLS.
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                self._shutdown()

    def _shutdown(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):  # not connected (yet): nothing to end
                sock.shutdown(socket.SHUT_RDWR)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _guarded_connection(deadline: _Deadline) -> Callable[..., socket.socket]:
    """``socket.create_connection`` for http.client: to a checked address, under the
    deadline."""

    def connect(
        address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        host, port = address
        error: OSError | None = None
        for family, kind, proto, _name, sockaddr in resolve(host, port):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(min(FETCH_TIMEOUT, deadline.remaining()))
                deadline.watch(sock)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            except FetchError:
                sock.close()
                raise
            return sock
        raise FetchError("could not connect") from error

    return connect


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    connect = _guarded_connection(deadline)

    class Http(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class Https(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class HttpHandler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(Http, req)

    class HttpsHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(Https, req)

    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), HttpHandler(), HttpsHandler(), _CheckedRedirects()
    )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 -- urllib's signature, overridden
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if not allowed_url(newurl):
            raise FetchError("redirect to a URL that is not allowed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, accept: str = "application/json") -> bytes:
    """GET ``url`` (allowed URLs and addresses only), at most ``MAX_FETCH_BYTES``, within
    ``FETCH_DEADLINE`` seconds in all; FetchError otherwise."""
    if not allowed_url(url):
        raise FetchError("URL not allowed")
    request = urllib.request.Request(  # noqa: S310 -- scheme checked by allowed_url
        url, headers={"Accept": accept, "User-Agent": USER_AGENT}
    )
    deadline = _Deadline(FETCH_DEADLINE)
    try:
        with _opener(deadline).open(request, timeout=FETCH_TIMEOUT) as response:
            if response.status != 200:
                raise FetchError(f"HTTP {response.status}")
            body: bytes = response.read(MAX_FETCH_BYTES + 1)
        if deadline.expired:
            raise FetchError("deadline exceeded")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        if deadline.expired:
            raise FetchError("deadline exceeded") from exc
        raise FetchError(type(exc).__name__) from exc
    finally:
        deadline.close()
    if len(body) > MAX_FETCH_BYTES:
        raise FetchError("response too large")
    return body


Fetcher = Callable[..., bytes]


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
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
    if not same_origin(uri, iss):
        raise FetchError("jwks_uri not on the issuer's origin")
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
        if not same_origin(uri, iss):
            return None  # never fetched: not checked
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

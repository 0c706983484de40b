"""Foreign issuers: another installation serves its issuer metadata, JWKS and status list
from a real local HTTP server (``http.server`` in a thread). Our verifier accepts it only
when it is an active ``TrustedIssuer``; it fetches and caches the JWKS and the status list,
and keeps verifying from the cache, saying so, once the server is gone."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from congdan.wallet import jose, sdjwt, sources, statuslist, verification
from congdan.wallet.models import StatusListCache, TrustedIssuer

HOLDER = jose.generate_private_key()
ISSUER_KEY = jose.generate_private_key()
KID = jose.thumbprint(jose.public_jwk(ISSUER_KEY))


@dataclass
class Foreign:
    """A foreign installation's issuer on http://127.0.0.1:<port>/wallet/issuers/F01."""

    base: str
    routes: dict[str, tuple[str, bytes]]
    hits: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def iss(self) -> str:
        return f"{self.base}/wallet/issuers/F01"

    @property
    def status_uri(self) -> str:
        return f"{self.iss}/status/1"

    def publish(self, statuses: dict[int, int] | None = None, *, exp_in: int = 86400) -> None:
        now = int(time.time())
        jwks = {"keys": [{**jose.public_jwk(ISSUER_KEY), "kid": KID, "alg": "ES256"}]}
        token = jose.sign(
            {"typ": statuslist.TYP, "kid": KID},
            {
                "sub": self.status_uri,
                "iss": self.iss,
                "iat": now,
                "exp": now + exp_in,
                "ttl": 30,
                "status_list": {"bits": 2, "lst": statuslist.encode(1024, statuses or {})},
            },
            ISSUER_KEY,
        )
        self.routes.clear()
        self.routes.update(
            {
                "/.well-known/jwt-vc-issuer/wallet/issuers/F01": (
                    "application/json",
                    json.dumps({"issuer": self.iss, "jwks_uri": f"{self.iss}/jwks.json"}).encode(),
                ),
                "/wallet/issuers/F01/jwks.json": (
                    "application/jwk-set+json",
                    json.dumps(jwks).encode(),
                ),
                "/wallet/issuers/F01/status/1": ("application/statuslist+jwt", token.encode()),
            }
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def presentation(
        self, *, idx: int = 7, claims: list[str] | None = None, status_uri: str = ""
    ) -> str:
        credential = sdjwt.issue(
            header={"typ": sdjwt.TYP_SD_JWT_VC, "kid": KID},
            claims={
                "iss": self.iss,
                "iat": int(time.time()) - 60,
                "vct": "urn:vn:congdan:doc:id_card",
                "cnf": {"jwk": jose.public_jwk(HOLDER)},
                "status": {"status_list": {"idx": idx, "uri": status_uri or self.status_uri}},
                "document_number": "F01-id_card-0000000000AB",
                "issuer_name": "Công an tỉnh bạn",
            },
            disclosable={"full_name": "Lê Thị Bình", "birth_date": "1990-05-06"},
            key=ISSUER_KEY,
        )
        return sdjwt.present(
            credential,
            claims=claims or ["full_name"],
            holder_key=HOLDER,
            aud="https://hotel.example/",
            nonce="n-1",
            iat=int(time.time()),
        )


def _drip_body(handler: BaseHTTPRequestHandler) -> None:
    """Headers at once, then the body one byte every 0.2 s (never a 3 s silence)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    _drip(handler, b" " * 1000)


def _drip_headers(handler: BaseHTTPRequestHandler) -> None:
    """The status line and headers one byte every 0.2 s."""
    _drip(handler, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 500 + b"\r\n\r\n{}")


def _drip(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    handler.close_connection = True
    for i in range(len(data)):
        try:
            handler.wfile.write(data[i : i + 1])
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(0.2)


def _garbage(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    handler.wfile.write(b"not http at all\r\n\r\n")


SLOW = {"/drip-body": _drip_body, "/drip-headers": _drip_headers, "/garbage": _garbage}


@pytest.fixture(autouse=True)
def _demo(settings: Any) -> None:
    """The foreign issuer runs on 127.0.0.1 over plain HTTP: allowed only in the demo
    (or with DEBUG); tests of the production rules turn it off."""
    settings.CONGDAN_DEMO = True


@pytest.fixture
def foreign() -> Iterator[Foreign]:
    routes: dict[str, tuple[str, bytes]] = {}
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            if self.path in SLOW:
                SLOW[self.path](self)
                return
            found = routes.get(self.path)
            if found is None:
                self.send_response(404)
                self.end_headers()
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site = Foreign(base=f"http://127.0.0.1:{server.server_address[1]}", routes=routes, hits=hits)
    site.server = server
    site.publish()
    try:
        yield site
    finally:
        site.stop()


def _check(verdict: Any, name: str) -> Any:
    return next((c for c in verdict.checks if c.name == name), None)


def test_a_trusted_foreign_issuer_is_fetched_cached_and_used_offline(
    db: None, foreign: Foreign
) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    text = foreign.presentation()

    verdict = verification.verify_presentation(text, channel_label="test")
    assert verdict.valid, verdict
    assert verdict.claims == {"full_name": "Lê Thị Bình"}
    assert verdict.status == "valid"
    assert _check(verdict, "keys") is None  # fresh keys: nothing to say
    row = TrustedIssuer.objects.get()
    assert row.jwks["keys"][0]["kid"] == KID
    assert row.jwks_fetched_at is not None
    assert StatusListCache.objects.get().uri == foreign.status_uri
    assert "/.well-known/jwt-vc-issuer/wallet/issuers/F01" in foreign.hits
    assert "/wallet/issuers/F01/jwks.json" in foreign.hits

    # Within the hour the stored JWKS is used without asking; within the ttl, the list.
    foreign.hits.clear()
    assert verification.verify_presentation(text, channel_label="test").valid
    assert foreign.hits == []

    # The issuer's server is gone; the keys are over an hour old and the list past its ttl.
    foreign.stop()
    fetched = timezone.now() - dt.timedelta(hours=2)
    TrustedIssuer.objects.update(jwks_fetched_at=fetched)
    StatusListCache.objects.update(fetched_at=timezone.now() - dt.timedelta(minutes=5))
    verdict = verification.verify_presentation(text, channel_label="test")
    assert verdict.valid, verdict
    keys_check = _check(verdict, "keys")
    assert keys_check is not None and keys_check.ok is True
    assert keys_check.detail.startswith("keys from cache, fetched at ")
    assert fetched.isoformat(timespec="seconds") in keys_check.detail
    assert "from cache" in _check(verdict, "status").detail
    assert verdict.status == "valid"


def test_an_expired_cached_status_list_offline_is_not_checked(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    foreign.publish(exp_in=-3600)  # the list the issuer serves has already expired
    text = foreign.presentation()
    verdict = verification.verify_presentation(text, channel_label="test")
    assert (verdict.valid, verdict.code) == (False, "status_unknown")
    assert verdict.status == "unknown"
    assert not StatusListCache.objects.exists()


def test_a_foreign_revocation_is_seen(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    foreign.publish({7: statuslist.INVALID, 9: statuslist.SUSPENDED})
    assert verification.verify_presentation(
        foreign.presentation(idx=7), channel_label="t"
    ).code == ("revoked")
    assert verification.verify_presentation(
        foreign.presentation(idx=9), channel_label="t"
    ).code == ("suspended")
    assert verification.verify_presentation(foreign.presentation(idx=8), channel_label="t").valid


def test_an_untrusted_or_deactivated_issuer_is_unknown(db: None, foreign: Foreign) -> None:
    text = foreign.presentation()
    verdict = verification.verify_presentation(text, channel_label="test")
    assert (verdict.valid, verdict.code) == (False, "unknown_issuer")
    assert foreign.hits == []  # an untrusted issuer is never contacted
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn", active=False)
    assert verification.verify_presentation(text, channel_label="test").code == "unknown_issuer"
    assert foreign.hits == []


def test_a_trusted_issuer_never_reached_has_no_keys(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    foreign.stop()
    verdict = verification.verify_presentation(foreign.presentation(), channel_label="test")
    assert (verdict.valid, verdict.code) == (False, "unknown_key")
    assert _check(verdict, "keys").ok is False


def test_metadata_for_another_issuer_is_refused(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    path = "/.well-known/jwt-vc-issuer/wallet/issuers/F01"
    foreign.routes[path] = (
        "application/json",
        json.dumps(
            {"issuer": "https://evil.example/x", "jwks_uri": f"{foreign.iss}/jwks.json"}
        ).encode(),
    )
    assert verification.verify_presentation(foreign.presentation(), channel_label="t").code == (
        "unknown_key"
    )
    assert TrustedIssuer.objects.get().jwks_fetched_at is None


def test_a_tampered_foreign_presentation_fails(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    parts = foreign.presentation().split("~")
    parts[1] = sdjwt.disclosure("full_name", "Người Khác")
    assert verification.verify_presentation("~".join(parts), channel_label="t").code == "tampered"


def test_only_https_urls_are_fetched_in_production(settings: Any) -> None:
    settings.DEBUG = False
    settings.CONGDAN_DEMO = False
    assert sources.allowed_url("https://issuer.example/jwks.json")
    # No loopback exception for plain HTTP any more.
    assert not sources.allowed_url("http://127.0.0.1:8000/x")
    assert not sources.allowed_url("http://localhost/x")
    assert not sources.allowed_url("http://[::1]:81/x")
    assert not sources.allowed_url("http://issuer.example/jwks.json")
    assert not sources.allowed_url("ftp://issuer.example/x")
    assert not sources.allowed_url("file:///etc/passwd")
    assert not sources.allowed_url("https://user:pw@issuer.example/x")
    assert not sources.allowed_url("https://issuer.example:99999/x")
    with pytest.raises(sources.FetchError):
        sources.fetch("http://issuer.example/jwks.json")
    settings.CONGDAN_DEMO = True
    assert sources.allowed_url("http://issuer.example/jwks.json")
    settings.CONGDAN_DEMO = False
    settings.DEBUG = True
    assert sources.allowed_url("http://127.0.0.1:8000/x")


REFUSED = [
    "127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "fe80::1", "fc00::1", "fd12:3456::1", "224.0.0.1", "239.1.2.3",
    "ff02::1", "ff0e::1", "0.0.0.0", "::", "240.0.0.1", "255.255.255.255", "100.64.0.1",  # noqa: S104 -- addresses to refuse, not to bind
    "192.0.2.1", "198.18.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
    "2001:db8::1", "64:ff9b::7f00:1",
]  # fmt: skip


def test_non_public_addresses_are_refused(settings: Any) -> None:
    settings.DEBUG = False
    settings.CONGDAN_DEMO = False
    for address in REFUSED:
        assert not sources.public_address(address), address
        with pytest.raises(sources.FetchError):
            sources.check_host(address)
    with pytest.raises(sources.FetchError):
        sources.check_host("[::1]")
    with pytest.raises(sources.FetchError):
        sources.check_host("localhost")
    with pytest.raises(sources.FetchError):
        sources.check_host("2130706433")  # 127.0.0.1 spelt as a number
    for address in ("8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2606:4700::1111"):
        assert sources.public_address(address), address
        sources.check_host(address)
    # DEBUG or the demo: local issuers are fine.
    settings.CONGDAN_DEMO = True
    sources.check_host("127.0.0.1")
    sources.check_host("localhost")
    settings.CONGDAN_DEMO = False
    settings.DEBUG = True
    sources.check_host("10.1.2.3")


def _resolving_to(monkeypatch: Any, names: dict[str, list[str]]) -> None:
    """Names resolve to the given addresses (a hostile DNS answer)."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, int(port or 0), 0, 0) if ":" in a else (a, int(port or 0)),
                )
                for a in names[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_a_name_resolving_to_a_private_address_is_refused(
    settings: Any, monkeypatch: Any, foreign: Foreign
) -> None:
    settings.DEBUG = False
    settings.CONGDAN_DEMO = False
    _resolving_to(
        monkeypatch,
        {
            "metadata.internal.example": ["10.0.0.5"],
            "mixed.example": ["8.8.8.8", "127.0.0.1"],
            "public.example": ["8.8.8.8"],
        },
    )
    with pytest.raises(sources.FetchError, match="address not allowed"):
        sources.check_host("metadata.internal.example")
    with pytest.raises(sources.FetchError, match="address not allowed"):
        sources.check_host("mixed.example")  # any private address is enough
    sources.check_host("public.example")
    # The fetch checks the address it connects to: the loopback server is never reached.
    port = foreign.base.rsplit(":", 1)[1]
    _resolving_to(monkeypatch, {"rebind.example": ["127.0.0.1"]})
    with pytest.raises(sources.FetchError, match="address not allowed"):
        sources.fetch(f"https://rebind.example:{port}/wallet/issuers/F01/jwks.json")
    with pytest.raises(sources.FetchError, match="address not allowed"):
        sources.fetch(f"https://127.0.0.1:{port}/wallet/issuers/F01/jwks.json")
    assert foreign.hits == []


def test_jwks_uri_on_another_origin_is_refused(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    port = foreign.base.rsplit(":", 1)[1]
    path = "/.well-known/jwt-vc-issuer/wallet/issuers/F01"
    for elsewhere in (
        f"http://localhost:{port}/wallet/issuers/F01/jwks.json",  # another host, same server
        f"https://127.0.0.1:{port}/wallet/issuers/F01/jwks.json",  # another scheme
        "http://127.0.0.1:1/wallet/issuers/F01/jwks.json",  # another port
        "http://169.254.169.254/latest/meta-data/",
    ):
        foreign.routes[path] = (
            "application/json",
            json.dumps({"issuer": foreign.iss, "jwks_uri": elsewhere}).encode(),
        )
        foreign.hits.clear()
        with pytest.raises(sources.FetchError, match="origin"):
            sources.fetch_jwks(foreign.iss)
        assert foreign.hits == [path]
    verdict = verification.verify_presentation(foreign.presentation(), channel_label="t")
    assert verdict.code == "unknown_key"
    assert TrustedIssuer.objects.get().jwks_fetched_at is None


def test_the_origin_comparison() -> None:
    iss = "https://a.example/wallet/issuers/C06"
    assert sources.same_origin("https://a.example/wallet/issuers/C06/jwks.json", iss)
    assert sources.same_origin("https://A.EXAMPLE:443/x", iss)
    assert not sources.same_origin("https://a.example:8443/x", iss)
    assert not sources.same_origin("http://a.example/x", iss)
    assert not sources.same_origin("https://b.example/x", iss)
    assert not sources.same_origin("https://a.example.evil/x", iss)
    assert not sources.same_origin("https://a.example:bad/x", iss)
    assert not sources.same_origin("file:///x", iss)


def test_a_status_list_on_another_origin_is_not_fetched(db: None, foreign: Foreign) -> None:
    TrustedIssuer.objects.create(issuer=foreign.iss, name="Tỉnh bạn")
    port = foreign.base.rsplit(":", 1)[1]
    elsewhere = f"http://localhost:{port}/wallet/issuers/F01/status/1"
    verdict = verification.verify_presentation(
        foreign.presentation(status_uri=elsewhere), channel_label="t"
    )
    # Signed by the trusted issuer, but its status cannot be checked: not accepted.
    assert (verdict.valid, verdict.code) == (False, "status_unknown")
    assert verdict.status == "unknown"
    assert "/wallet/issuers/F01/status/1" not in foreign.hits
    assert not StatusListCache.objects.exists()


def test_a_slow_server_is_cut_off_by_the_total_deadline(monkeypatch: Any, foreign: Foreign) -> None:
    monkeypatch.setattr(sources, "FETCH_DEADLINE", 1.0)
    for path in ("/drip-body", "/drip-headers"):
        started = time.monotonic()
        with pytest.raises(sources.FetchError):
            sources.fetch(f"{foreign.base}{path}")
        assert time.monotonic() - started < 2.5, path


def test_a_broken_http_answer_is_a_fetch_error(foreign: Foreign) -> None:
    with pytest.raises(sources.FetchError):
        sources.fetch(f"{foreign.base}/garbage")


def test_deeply_nested_json_is_a_fetch_error() -> None:
    with pytest.raises(sources.FetchError):
        sources._json(b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}")


def test_a_huge_response_is_refused(foreign: Foreign) -> None:
    foreign.routes["/big"] = ("application/json", b"{" + b" " * (sources.MAX_FETCH_BYTES + 10))
    with pytest.raises(sources.FetchError):
        sources.fetch(f"{foreign.base}/big")
    with pytest.raises(sources.FetchError):
        sources.fetch(f"{foreign.base}/missing")


def test_the_metadata_url() -> None:
    assert sources.metadata_url("https://a.example/wallet/issuers/C06") == (
        "https://a.example/.well-known/jwt-vc-issuer/wallet/issuers/C06"
    )
    assert sources.metadata_url("https://a.example") == (
        "https://a.example/.well-known/jwt-vc-issuer"
    )


def test_the_admin_pages(client: Any, world: Any) -> None:
    """Admins add and deactivate trusted issuers; stewards only read keys and documents;
    no page shows a private key."""
    from django.urls import reverse

    from congdan.audit.models import ChangeRecord
    from congdan.wallet import keys
    from tests.wallet.test_verifier import id_card

    document = id_card(world.person)
    key = keys.current_key(document.issuer)
    client.force_login(world.admin)
    for name in ("trustedissuer", "issuerkey", "document", "share"):
        response = client.get(reverse(f"admin:wallet_{name}_changelist"))
        assert response.status_code == 200, name
    response = client.get(reverse("admin:wallet_issuerkey_change", args=[key.pk]))
    assert response.status_code == 200
    assert "PRIVATE KEY" not in response.content.decode()
    assert key.kid in response.content.decode()
    response = client.post(
        reverse("admin:wallet_trustedissuer_add"),
        {"issuer": "https://cong.example/wallet/issuers/C06", "name": "Tỉnh bạn", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    issuer = TrustedIssuer.objects.get()
    assert ChangeRecord.objects.filter(action="add_trusted_issuer", object_id=issuer.pk).exists()
    response = client.post(
        reverse("admin:wallet_trustedissuer_changelist"),
        {"action": "deactivate", "_selected_action": [issuer.pk]},
    )
    assert response.status_code == 302
    issuer.refresh_from_db()
    assert issuer.active is False

    client.force_login(world.steward)
    assert client.get(reverse("admin:wallet_issuerkey_changelist")).status_code == 200
    assert client.get(reverse("admin:wallet_trustedissuer_add")).status_code == 403
    assert client.get(reverse("admin:wallet_trustedissuer_changelist")).status_code == 403
    client.force_login(world.commune_officer)
    assert client.get(reverse("admin:wallet_document_changelist")).status_code == 302

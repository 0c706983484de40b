"""A sample relying party: "log in with congdan" through standard OpenID Connect.

It uses only a standard client library (Authlib's requests client for the authorization
code + PKCE flow, joserfc to verify the ID token against the provider's published JWKS)
and the standard library's HTTP server. Run against `make demo`:

    .venv/bin/python examples/relying_party.py --preset bank      # http://127.0.0.1:8765
    .venv/bin/python examples/relying_party.py --preset portal    # http://127.0.0.1:8766 (level 2)

The presets match the demo clients that `congdan oidc_client ensure-demo` registers
(`make demo` runs it). Any other client: --client-id, --client-secret, --scope, --port,
--acr-values. See docs/oidc.md.
"""

from __future__ import annotations

import argparse
import html
import http.server
import json
import secrets
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

PRESETS: dict[str, dict[str, Any]] = {
    "bank": {
        "name": "Ngân hàng Demo",
        "client_id": "demo-bank",
        "client_secret": "demo-bank-secret-not-for-production",
        "scope": "openid profile id_number phone",
        "port": 8765,
        "acr_values": "",
    },
    "portal": {
        "name": "Dịch vụ công Demo",
        "client_id": "demo-dichvucong",
        "client_secret": "demo-dichvucong-secret-not-for-production",
        "scope": "openid profile id_number address household card",
        "port": 8766,
        "acr_values": "level2",
    },
}


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    client_secret: str
    scope: str
    redirect_uri: str
    name: str
    acr_values: str = ""
    pending: dict[str, dict[str, str]] = field(default_factory=dict)  # state -> nonce, verifier
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # cookie -> result
    _metadata: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            self._metadata = requests.get(url, timeout=10).json()
        return self._metadata

    def client(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret or None,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=("client_secret_basic" if self.client_secret else "none"),
        )

    def start(self) -> str:
        """The authorization URL (with PKCE S256, state and nonce) to send the browser to."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)
        self.pending[state] = {"nonce": nonce, "verifier": verifier}
        extra = {"nonce": nonce, "code_challenge": create_s256_code_challenge(verifier)}
        extra["code_challenge_method"] = "S256"
        if self.acr_values:
            extra["acr_values"] = self.acr_values
        url, _state = self.client().create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, **extra
        )
        return str(url)

    def finish(self, query: dict[str, str]) -> dict[str, Any]:
        """Exchange the code, verify the ID token, fetch userinfo."""
        state = query.get("state", "")
        pending = self.pending.pop(state, None)
        if pending is None:
            raise ValueError("unknown or reused state")
        if "error" in query:
            return {"error": query["error"], "error_description": query.get("error_description")}
        meta = self.metadata()
        client = self.client()
        token = client.fetch_token(
            meta["token_endpoint"],
            code=query.get("code", ""),
            code_verifier=pending["verifier"],
        )
        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
        decoded = jwt.decode(token["id_token"], keys)
        claims = decoded.claims
        now = time.time()
        checks = {
            "iss": claims.get("iss") == self.issuer,
            "aud": self.client_id
            in (claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]),
            "nonce": claims.get("nonce") == pending["nonce"],
            "exp": float(claims.get("exp", 0)) > now,
        }
        if not all(checks.values()):
            raise ValueError(f"ID token failed checks: {checks}")
        userinfo = client.get(meta["userinfo_endpoint"], timeout=10).json()
        return {
            "kid": decoded.header.get("kid"),
            "id_token_claims": claims,
            "userinfo": userinfo,
            "scope": token.get("scope"),
            "id_token": token["id_token"],
        }


def page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang='vi'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.3rem .6rem;text-align:left}.button{display:inline-block;padding:.6rem 1rem;"
        "background:#a50e0e;color:#fff;text-decoration:none;border-radius:4px}</style>"
        f"<h1>{html.escape(title)}</h1>{body}</html>"
    ).encode()


def make_handler(rp: RelyingParty) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _session(self) -> tuple[str, dict[str, Any] | None]:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            sid = cookie["rp_session"].value if "rp_session" in cookie else ""
            return sid, rp.sessions.get(sid)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/login":
                self._send(302, b"", {"Location": rp.start()})
            elif parts.path == "/callback":
                try:
                    result = rp.finish(query)
                except (ValueError, KeyError, JoseError, requests.RequestException) as exc:
                    self._send(400, page(rp.name, f"<p>Lỗi: {html.escape(str(exc))}</p>"))
                    return
                sid = secrets.token_urlsafe(16)
                rp.sessions[sid] = result
                self._send(
                    302, b"", {"Location": "/", "Set-Cookie": f"rp_session={sid}; HttpOnly; Path=/"}
                )
            elif parts.path == "/logout":
                sid, result = self._session()
                rp.sessions.pop(sid, None)
                target = "/"
                if result and "id_token" in result:
                    target = (
                        rp.metadata()["end_session_endpoint"]
                        + "?"
                        + urlencode(
                            {"id_token_hint": result["id_token"], "client_id": rp.client_id}
                        )
                    )
                self._send(302, b"", {"Location": target})
            elif parts.path == "/":
                _sid, result = self._session()
                self._send(200, page(rp.name, render(rp, result)))
            else:
                self._send(404, page(rp.name, "<p>Không tìm thấy.</p>"))

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def render(rp: RelyingParty, result: dict[str, Any] | None) -> str:
    if result is None:
        return (
            "<p>Đăng nhập bằng tài khoản định danh điện tử (OpenID Connect).</p>"
            "<p><a class='button' href='/login'>Đăng nhập bằng Cổng dân cư</a></p>"
        )
    if "error" in result:
        return (
            f"<p role='alert'>Nhà cung cấp từ chối: <code>{html.escape(str(result['error']))}"
            f"</code> — {html.escape(str(result.get('error_description') or ''))}</p>"
            "<p><a class='button' href='/login'>Thử lại</a></p>"
        )
    claims = result["id_token_claims"]
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
        for k, v in result["userinfo"].items()
    )
    return (
        f"<p>Đã đăng nhập. Mức độ tài khoản (acr): <strong>{html.escape(str(claims.get('acr')))}</strong>"
        f" · chữ ký ID token hợp lệ (kid {html.escape(str(result['kid']))})</p>"
        f"<h2>Thông tin được chia sẻ (userinfo)</h2><table>{rows}</table>"
        f"<p>Phạm vi: <code>{html.escape(str(result['scope']))}</code></p>"
        "<p><a href='/logout'>Đăng xuất</a></p>"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", default="http://127.0.0.1:8000")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="bank")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--scope")
    parser.add_argument("--port", type=int)
    parser.add_argument("--acr-values")
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset]
    port = args.port or preset["port"]
    rp = RelyingParty(
        issuer=args.issuer.rstrip("/"),
        client_id=args.client_id or preset["client_id"],
        client_secret=args.client_secret
        if args.client_secret is not None
        else preset["client_secret"],
        scope=args.scope or preset["scope"],
        redirect_uri=f"http://127.0.0.1:{port}/callback",
        name=preset["name"],
        acr_values=args.acr_values if args.acr_values is not None else preset["acr_values"],
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(rp))
    sys.stdout.write(f"{rp.name}: http://127.0.0.1:{port}/ (issuer {rp.issuer})\n")
    server.serve_forever()


if __name__ == "__main__":
    main()

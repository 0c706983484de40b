"""Password logins and client-credentials tokens per second, against `congdan serve`.

* **Password login**: POST to the real login endpoint (`/id/login/`: CSRF, django-axes
  lockout check, Argon2id verify, account status, second-factor start) with the accounts'
  real Argon2id hashes (OWASP parameters, core.hashers). A login counts when the server
  answers 302 to the second-factor step. Compared, in the same run, with the raw
  `argon2-cffi` verify rate of the same hash on all cores (one process per core): the
  ceiling a login endpoint can reach. Target ≥ 90 % of it.
* **Client credentials**: POST `/o/token/` with `grant_type=client_credentials` and
  HTTP Basic client authentication (a member-organisation system). Target ≥ 600/s.

Load comes from wrk on the same machine (it takes some CPU from the server). Keycloak's
published sizing, for comparison: 15 password logins and 120 client-credentials grants
per vCPU per second.

    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/congdan_bench \
        .venv/bin/python bench/bench_login.py
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from common import served, write_result

PASSWORD = "Bench-login-2026!"  # noqa: S105 -- synthetic bench accounts
CLIENT_ID = "bench-member-system"
CLIENT_SECRET = "bench-member-system-secret-0123456789abcdef"  # noqa: S105 -- bench client

LUA = """
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local n = #bodies
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
%(headers)s
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "%(path)s", nil, bodies[(i %% n) + 1])
end
response = function(status, headers, body)
  if status ~= %(expect)d then wrk.thread:set("bad", (wrk.thread:get("bad") or 0) + 1) end
end
done = function(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  io.write(string.format("unexpected_status %%d\\n", bad))
end
"""


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
    os.environ["CONGDAN_DEBUG"] = "1"
    import django

    django.setup()


def prepare(accounts: int) -> tuple[list[str], str]:
    """Make `accounts` active e-ID accounts with real Argon2id hashes and one
    confidential member-organisation client; returns the ID numbers and one hash."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from congdan.core.models import User
    from congdan.identity.models import AccountStatus, EidAccount
    from congdan.identity.services.clients import create_client
    from congdan.registry.models import Person, VitalStatus

    if Person.objects.count() < accounts * 2:
        from congdan.registry.seed import seed_population

        seed_population(province_code="48", people=accounts * 4, seed=11, progress=False)
    hashed = make_password(PASSWORD)  # the configured Argon2id hasher
    if not hashed.startswith("argon2$argon2id$"):
        sys.exit(f"the configured hasher is not Argon2id: {hashed[:20]}")
    persons = list(
        Person.objects.filter(vital_status=VitalStatus.ALIVE, eid_account__isnull=True)
        .order_by("id")[:accounts]
        .values_list("id", "id_number", "full_name")
    )
    existing = list(
        EidAccount.objects.filter(user__username__startswith="")
        .filter(status_reason="bench")
        .values_list("person__id_number", flat=True)
    )
    now = timezone.now()
    with transaction.atomic():
        for pk, number, name in persons[: max(0, accounts - len(existing))]:
            user = User.objects.create(username=number, first_name=name, password=hashed)
            EidAccount.objects.create(
                user=user,
                person_id=pk,
                status=AccountStatus.ACTIVE,
                status_reason="bench",
                phone="0900000000",
                phone_verified_at=now,
                activated_at=now,
            )
        User.objects.filter(eid__status_reason="bench").update(password=hashed)
    numbers = list(
        EidAccount.objects.filter(status_reason="bench").values_list(
            "person__id_number", flat=True
        )[:accounts]
    )
    from oauth2_provider.models import get_application_model

    get_application_model().objects.filter(client_id=CLIENT_ID).delete()
    create_client(
        None,
        name="Bench member system",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_credentials=True,
        scopes=["registry:read"],
        organisation="BENCH",
    )
    return numbers, hashed


def _verify_loop(args: tuple[str, float]) -> int:
    from argon2 import PasswordHasher

    encoded, seconds = args
    encoded = encoded.removeprefix("argon2")  # Django stores "argon2" + the PHC string
    hasher = PasswordHasher()
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hasher.verify(encoded, PASSWORD)
        count += 1
    return count


def raw_argon2_rate(encoded: str, seconds: float) -> float:
    cores = os.cpu_count() or 1
    with multiprocessing.Pool(cores) as pool:
        start = time.perf_counter()
        counts = pool.map(_verify_loop, [(encoded, seconds)] * cores)
        elapsed = time.perf_counter() - start
    return sum(counts) / elapsed


def csrf(base: str) -> tuple[str, str]:
    """A CSRF cookie and the matching form token from the login page."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/id/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, token


def run_wrk(
    base: str,
    path: str,
    bodies: list[str],
    headers: dict[str, str],
    *,
    expect: int,
    seconds: int,
    connections: int,
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "bodies.txt"
        body_file.write_text("\n".join(bodies) + "\n")
        script = Path(tmp) / "load.lua"
        lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
        script.write_text(
            LUA % {"bodies": body_file, "headers": lines, "path": path, "expect": expect}
        )
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "1",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    bad = int(re.search(r"unexpected_status (\d+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "requests_per_s": rps,
        "p50_ms": _ms(lat["50"]),
        "p99_ms": _ms(lat["99"]),
        "requests": total,
        "unexpected_status": bad,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--login-connections", type=int, default=8)
    parser.add_argument("--token-connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    setup_django()
    from django.db import connection

    numbers, hashed = prepare(args.accounts)
    vendor = connection.vendor
    connection.close()
    print(f"{len(numbers)} accounts on {vendor}", flush=True)
    raw = raw_argon2_rate(hashed, args.seconds)
    print(f"raw argon2id verify: {raw:.1f}/s on {os.cpu_count()} cores", flush=True)
    env = {
        "CONGDAN_DATABASE_URL": os.environ.get("CONGDAN_DATABASE_URL", ""),
        # Each login is an attempt from the same address: the IP throttle counts only
        # failures, and there are none, but keep it out of the way explicitly.
        "CONGDAN_LOGIN_IP_FAILURE_LIMIT": "1000000000",
    }
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    with served(env, port=args.port, workers=args.workers, threads=args.threads) as base:
        cookie, token = csrf(base)
        login_bodies = [
            urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "username": n, "password": PASSWORD}
            )
            for n in numbers
        ]
        login_headers = {"Cookie": f"csrftoken={cookie}", "Referer": f"{base}/id/login/"}
        token_bodies = ["grant_type=client_credentials&scope=registry%3Aread"]
        token_headers = {"Authorization": f"Basic {basic}"}
        warm = {"seconds": 3}
        run_wrk(
            base,
            "/id/login/",
            login_bodies,
            login_headers,
            expect=302,
            connections=args.login_connections,
            **warm,
        )
        run_wrk(
            base,
            "/o/token/",
            token_bodies,
            token_headers,
            expect=200,
            connections=args.token_connections,
            **warm,
        )
        login = run_wrk(
            base,
            "/id/login/",
            login_bodies,
            login_headers,
            expect=302,
            seconds=args.seconds,
            connections=args.login_connections,
        )
        print("password login", login, flush=True)
        tokens = run_wrk(
            base,
            "/o/token/",
            token_bodies,
            token_headers,
            expect=200,
            seconds=args.seconds,
            connections=args.token_connections,
        )
        print("client credentials", tokens, flush=True)
    cores = os.cpu_count() or 1
    ratio = login["requests_per_s"] / raw
    write_result(
        f"login-{vendor}",
        {
            "server": f"congdan serve: granian WSGI, {args.workers} workers x {args.threads} threads",
            "load": f"wrk 1 thread; logins {args.login_connections} connections, tokens "
            f"{args.token_connections} connections; {args.seconds}s each",
            "argon2id": "m=19456 KiB, t=2, p=1 (OWASP minimum), core.hashers.Argon2idHasher",
            "raw_argon2_verify_per_s": round(raw, 1),
            "password_login": login,
            "password_login_ratio_to_raw": round(ratio, 3),
            "client_credentials": tokens,
            "per_core": {
                "password_logins_per_s": round(login["requests_per_s"] / cores, 1),
                "client_credentials_per_s": round(tokens["requests_per_s"] / cores, 1),
            },
            "keycloak_published_per_vcpu": {
                "password_logins_per_s": 15,
                "client_credentials_per_s": 120,
            },
            "targets": {"password_login_ratio_to_raw": 0.9, "client_credentials_per_s": 600},
        },
    )
    print(f"login/raw = {ratio:.2f}; client credentials {tokens['requests_per_s']:.0f}/s")


if __name__ == "__main__":
    main()

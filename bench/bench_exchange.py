"""Member-organisation lookups and verifications under load, and a 100,000-row batch
verification, against `congdan serve` on PostgreSQL with ≥ 1,000,000 persons.

The lookup path: client-credentials bearer token, grant check (service × purpose ×
fields), rate limit, person read, field filtering, access-log insert. Baseline in the same
run: a bare Django view reading the same person by primary key (`/bench/person/<pk>`,
enabled only with CONGDAN_BENCH_ENDPOINTS=1). Load from wrk on the same machine.

    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/congdan_bench \
        .venv/bin/python bench/bench_exchange.py --min-persons 1000000

``--cache-url redis://127.0.0.1:6379/3`` keeps the rate-limit counters in Redis (the
deployment setting); without it they are in the database (the embedded default).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import time
import urllib.request

from bench_lookup import setup_django
from common import served, write_result, wrk

CLIENT_ID = "bench-exchange"
SECRET = "bench-exchange-secret-0123456789abcdef"  # noqa: S105 -- a scratch database's credential

LUA_GET = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = #ids
%(headers)s
request = function()
  return wrk.format("GET", "%(prefix)s" .. ids[math.random(n)] .. "%(suffix)s")
end
"""
LUA_VERIFY = """
local rows = {}
for line in io.lines("%(ids)s") do rows[#rows + 1] = line end
local n = #rows
%(headers)s
wrk.headers["Content-Type"] = "application/json"
request = function()
  local id, born = rows[math.random(n)]:match("([^,]+),([^,]+)")
  local body = '{"id_number":"' .. id .. '","attributes":{"birth_date":"' .. born .. '"}}'
  return wrk.format("POST", "/api/v1/exchange/verify", nil, body)
end
"""


def prepare(min_persons: int, sample: int) -> tuple[list[tuple[int, str, str]], int]:
    """Persons to read, and the bench member with its grants (made once)."""
    from django.db import connection

    from congdan.exchange.catalogue import ensure_catalogue
    from congdan.exchange.models import DataService, Member, RateLimit, ServicePurpose
    from congdan.exchange.services import grants, members

    if connection.vendor != "postgresql":
        sys.exit("bench_exchange needs PostgreSQL: set CONGDAN_DATABASE_URL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'registry_person'")
        count = int(cursor.fetchone()[0])
    if count < min_persons:
        sys.exit(f"{count} persons: seed first (`congdan seed --people {min_persons}`)")
    ensure_catalogue()
    member = Member.objects.filter(code="BENCHBANK").first()
    if member is None:
        member = members.register_member(
            None, code="BENCHBANK", name="Bench bank", kind="bank", member_class="COM"
        )
        members.add_subsystem(
            None,
            member=member,
            code="main",
            name="bench",
            client_id=CLIENT_ID,
            client_secret=SECRET,
        )
        for service, purpose, fields in (
            ("person-basic", "public_service", ["id_number", "full_name", "birth_date", "sex"]),
            ("verify-identity", "kyc_account_opening", ["full_name", "birth_date"]),
        ):
            data_service = DataService.objects.get(code=service)
            grants.grant_access(
                None,
                member=member,
                service=data_service,
                purpose=ServicePurpose.objects.get(service=data_service, code=purpose),
                fields=fields,
            )
        for service in DataService.objects.all():
            RateLimit.objects.create(member=member, service=service, per_minute=10_000_000)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, id_number, birth_date FROM registry_person TABLESAMPLE SYSTEM (1) LIMIT %s",
            [sample],
        )
        rows = [(r[0], r[1], r[2].isoformat()) for r in cursor.fetchall()]
    print(f"{count} persons; sampled {len(rows)} for the load", flush=True)
    return rows, count


def token(base: str) -> str:
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    request = urllib.request.Request(
        base + "/o/token/",
        data=b"grant_type=client_credentials&scope=exchange:query",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def _script(
    template: str, *, prefix: str = "", suffix: str = "", headers: dict | None = None
) -> str:
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    return (
        template.replace("%(headers)s", lines)
        .replace("%(prefix)s", prefix)
        .replace("%(suffix)s", suffix)
    )


def batch(rows: list[tuple[int, str, str]], size: int) -> dict:
    """A batch verification of ``size`` rows, start to finish, in-process (the worker's
    poller), on the same database."""
    from congdan.exchange import batch as batch_jobs
    from congdan.exchange import policy
    from congdan.exchange.models import BatchJob, JobStatus, Subsystem

    subsystem = Subsystem.objects.select_related("member").get(member__code="BENCHBANK")
    caller = policy.Caller(member=subsystem.member, subsystem=subsystem)
    lines = ["id_number,birth_date"]
    for i in range(size):
        _pk, number, born = rows[i % len(rows)]
        lines.append(f"{number},{born if i % 10 else '1900-01-01'}")
    content = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    job = batch_jobs.submit(
        caller, purpose="kyc_account_opening", data=content, filename="bench.csv"
    )
    while batch_jobs.run_next_job():
        pass
    elapsed = time.perf_counter() - started
    job = BatchJob.objects.get(pk=job.pk)
    if job.status != JobStatus.DONE:
        sys.exit(f"batch job ended {job.status}: {job.error}")
    return {
        "rows": size,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(size / elapsed),
        "matched": job.matched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min-persons", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--cache-url", default="")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    setup_django()
    rows, count = prepare(args.min_persons, 20_000)
    env = {"CONGDAN_DATABASE_URL": os.environ["CONGDAN_DATABASE_URL"]}
    if args.cache_url:
        env["CONGDAN_CACHE_URL"] = args.cache_url
    results: dict[str, list[dict]] = {"lookup": [], "verify": [], "baseline_pk_view": []}
    with served(env, port=args.port, workers=args.workers, threads=args.threads) as base:
        bearer = {"Authorization": f"Bearer {token(base)}"}
        scripts = {
            "baseline_pk_view": (
                _script(LUA_GET, prefix="/bench/person/"),
                [str(r[0]) for r in rows],
            ),
            "lookup": (
                _script(
                    LUA_GET,
                    prefix="/api/v1/exchange/persons/",
                    suffix="?service=person-basic",
                    headers={**bearer, "X-Purpose": "public_service"},
                ),
                [r[1] for r in rows],
            ),
            "verify": (
                _script(LUA_VERIFY, headers={**bearer, "X-Purpose": "kyc_account_opening"}),
                [f"{r[1]},{r[2]}" for r in rows],
            ),
        }
        for script, lines in scripts.values():
            wrk(base, script, lines, seconds=3, connections=args.connections)
        for _ in range(args.rounds):
            for name, (script, lines) in scripts.items():
                result = wrk(
                    base, script, lines, seconds=args.seconds, connections=args.connections
                )
                print(name, result, flush=True)
                results[name].append(result)
    best = {name: max(runs, key=lambda r: r["requests_per_s"]) for name, runs in results.items()}
    ratio = best["lookup"]["requests_per_s"] / best["baseline_pk_view"]["requests_per_s"]
    verify_ratio = best["verify"]["requests_per_s"] / best["lookup"]["requests_per_s"]
    batch_result = batch(rows, args.batch_rows) if args.batch_rows else {}
    print("batch", batch_result, flush=True)
    write_result(
        f"exchange-postgresql{'-redis' if args.cache_url else ''}",
        {
            "persons": count,
            "server": f"congdan serve: granian WSGI, {args.workers} workers x {args.threads} threads",
            "load": f"wrk 1 thread, {args.connections} connections, {args.seconds}s x {args.rounds}",
            "rate_limit_store": "redis" if args.cache_url else "database",
            "runs": results,
            "best": best,
            "ratio_lookup_to_baseline": round(ratio, 3),
            "ratio_verify_to_lookup": round(verify_ratio, 3),
            "batch_verify": batch_result,
            "targets": {
                "requests_per_s": 2500,
                "p99_ms": 50,
                "ratio": 0.6,
                "verify": "same or better than lookup",
                "batch_seconds": 60,
            },
        },
    )
    print(f"lookup/baseline = {ratio:.2f}; verify/lookup = {verify_ratio:.2f}")


if __name__ == "__main__":
    main()

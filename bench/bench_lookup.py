"""Person lookup by ID number under concurrent load, against `congdan serve` on PostgreSQL.

Measures the API path (token auth, permission and jurisdiction check, access-log insert)
and, in the same run, the baseline: a bare Django view reading the same person by
primary key (`/bench/person/<pk>`, enabled only with CONGDAN_BENCH_ENDPOINTS=1).
Load comes from wrk (Debian package) on the same machine, which takes CPU from the
server: both paths pay that equally.

    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/bench_lookup.py --min-persons 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from common import served, write_result, wrk

LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = #ids
local prefix = "%(prefix)s"
%(header)s
request = function()
  return wrk.format("GET", prefix .. ids[math.random(n)])
end
"""


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
    os.environ["CONGDAN_DEBUG"] = "1"
    import django

    django.setup()


def prepare(min_persons: int, province: str, sample: int) -> tuple[str, list[str], list[int], int]:
    from django.db import connection

    from congdan.core.models import Agency, ApiToken, User
    from congdan.core.permissions import Role
    from congdan.geo.models import AdministrativeUnit
    from congdan.registry.models import Person

    if connection.vendor != "postgresql":
        sys.exit("bench_lookup needs PostgreSQL: set CONGDAN_DATABASE_URL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'registry_person'")
        estimate = cursor.fetchone()[0]
    count = Person.objects.count() if estimate < min_persons else estimate
    if count < min_persons:
        from congdan.registry.seed import seed_population

        print(f"seeding {min_persons - count} persons (have {count})", flush=True)
        seed_population(province_code=province, people=min_persons - count, seed=7, progress=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        count = Person.objects.count()
    unit = AdministrativeUnit.objects.get(scheme="2025", level="province", code=province)
    agency, _ = Agency.objects.update_or_create(
        code=f"BENCH-{province}", defaults={"name": "Bench", "kind": "police", "jurisdiction": unit}
    )
    user, _ = User.objects.update_or_create(
        username="bench.lookup", defaults={"role": Role.OFFICER, "agency": agency}
    )
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=user, name="bench", prefix=key[:8], key_hash=ApiToken.hash_key(key)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, id_number FROM registry_person TABLESAMPLE SYSTEM (1) "
            "WHERE residence_province_id = %s LIMIT %s",
            [unit.pk, sample],
        )
        rows = cursor.fetchall()
    print(f"{count} persons; sampled {len(rows)} for the load", flush=True)
    return key, [r[1] for r in rows], [r[0] for r in rows], count


def run_wrk(
    base: str,
    path_prefix: str,
    ids: list,
    header: str,
    *,
    seconds: int,
    connections: int,
) -> dict[str, float]:
    hdr = f'wrk.headers["Authorization"] = "{header}"' if header else ""
    lua = LUA.replace("%(prefix)s", path_prefix).replace("%(header)s", hdr)
    return wrk(base, lua, [str(i) for i in ids], seconds=seconds, connections=connections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min-persons", type=int, default=1_000_000)
    parser.add_argument("--province", default="48")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    setup_django()
    key, id_numbers, pks, count = prepare(args.min_persons, args.province, 20_000)
    env = {"CONGDAN_DATABASE_URL": os.environ["CONGDAN_DATABASE_URL"]}
    results: dict[str, list[dict[str, float]]] = {"api_lookup": [], "baseline_pk_view": []}
    with served(env, port=args.port, workers=args.workers, threads=args.threads) as base:
        warm = {"seconds": 3, "connections": args.connections}
        run_wrk(base, "/bench/person/", pks, "", **warm)
        run_wrk(base, "/api/v1/registry/persons/", id_numbers, f"Bearer {key}", **warm)
        for _ in range(args.rounds):
            for name, prefix, ids, header in (
                ("baseline_pk_view", "/bench/person/", pks, ""),
                ("api_lookup", "/api/v1/registry/persons/", id_numbers, f"Bearer {key}"),
            ):
                r = run_wrk(
                    base,
                    prefix,
                    ids,
                    header,
                    seconds=args.seconds,
                    connections=args.connections,
                )
                print(name, r, flush=True)
                results[name].append(r)
    best = {name: max(runs, key=lambda r: r["requests_per_s"]) for name, runs in results.items()}
    ratio = best["api_lookup"]["requests_per_s"] / best["baseline_pk_view"]["requests_per_s"]
    write_result(
        f"lookup-postgresql-{count}",
        {
            "persons": count,
            "server": f"congdan serve: granian WSGI, {args.workers} workers x {args.threads} threads",
            "load": f"wrk 1 thread, {args.connections} connections, {args.seconds}s x {args.rounds}",
            "actor": "provincial officer (API token, jurisdiction check, access-log insert)",
            "runs": results,
            "best": best,
            "ratio_api_to_baseline": round(ratio, 3),
            "targets": {"requests_per_s": 2500, "p99_ms": 50, "ratio": 0.6},
        },
    )
    print(f"api/baseline = {ratio:.2f}")


if __name__ == "__main__":
    main()

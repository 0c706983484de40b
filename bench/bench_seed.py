"""Synthetic population load (`congdan seed`) against a bare COPY of the same person rows.

Seeds --people persons (all tables: persons, households, addresses, memberships,
residences, identity cards, civil events) into the database of CONGDAN_DATABASE_URL and
times it. Baseline in the same run: the same person rows (regenerated with the same seed;
generation not timed) loaded into a temporary copy of registry_person with its indexes
and checks: PostgreSQL `COPY` (`CREATE TEMP TABLE ... (LIKE registry_person INCLUDING
ALL)`), or on SQLite `executemany` into a temporary table with the same indexes.
Result: bench/results/seed-<vendor>-<people>.json.

    # into a throwaway database created next to the one in the URL, dropped afterwards
    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/bench_seed.py --people 1000000 --scratch
    # into the (empty, migrated) database of the URL; SQLite: leave the URL unset
    CONGDAN_VAR_DIR=/tmp/seedbench-sqlite .venv/bin/python bench/bench_seed.py --people 100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import write_result

TARGET_SECONDS = {"postgresql": (1_000_000, 120.0), "sqlite": (100_000, 60.0)}


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
    os.environ.setdefault("CONGDAN_DEBUG", "1")
    import django

    django.setup()


def load_average() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def person_rows(people: int, province: str, seed: int, today: Any, timestamp: Any) -> list:
    """The person rows the seed writes into an empty database (same seed, same date)."""
    from congdan.registry import seed as seeding

    generator = seeding.PopulationGenerator(
        geo=seeding.load_geo_context(province),
        refs=seeding.load_reference_data(),
        seed=seed,
        today=today,
        timestamp=timestamp,
    )
    rows: list = []
    for block in generator.blocks(people):
        rows.extend(block.persons)
    return rows


def baseline_postgresql(rows: list) -> float:
    from django.db import connection, transaction

    from congdan.registry.seed import PERSON_COLUMNS

    with transaction.atomic():
        raw = connection.connection
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE bench_person (LIKE registry_person INCLUDING ALL)")
        started = time.perf_counter()
        with cur.copy(f"COPY bench_person ({', '.join(PERSON_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
        cur.execute("SELECT count(*) FROM bench_person")
        if cur.fetchone()[0] != len(rows):
            sys.exit("baseline COPY lost rows")
        transaction.set_rollback(True)
    return seconds


def baseline_sqlite(rows: list) -> float:
    from django.db import connection, transaction

    from congdan.registry.seed import PERSON_COLUMNS

    with transaction.atomic():
        raw = connection.connection
        raw.execute("CREATE TEMP TABLE bench_person AS SELECT * FROM registry_person WHERE 0")
        for (sql,) in raw.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'registry_person' "
            "AND type = 'index' AND sql IS NOT NULL"
        ).fetchall():
            name = sql.split('"')[1]
            raw.execute(
                sql.replace(f'"{name}"', f'"bench_{name}"', 1).replace(
                    '"registry_person"', "bench_person", 1
                )
            )
        # The unique id_number is a column constraint (an autoindex without SQL).
        raw.execute("CREATE UNIQUE INDEX bench_person_id_number ON bench_person (id_number)")
        insert = (
            f"INSERT INTO bench_person ({', '.join(PERSON_COLUMNS)}) "  # noqa: S608 -- column names from the seed module
            f"VALUES ({', '.join('?' * len(PERSON_COLUMNS))})"
        )
        started = time.perf_counter()
        raw.executemany(insert, rows)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def run(args: argparse.Namespace) -> None:
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from congdan.registry.models import Person
    from congdan.registry.seed import seed_population, timestamp_value

    vendor = connection.vendor
    existing = Person.objects.count()
    if existing and not args.allow_existing:
        sys.exit(
            f"the database already holds {existing} persons: use an empty, migrated database "
            "(or --scratch, or --allow-existing)"
        )
    today = timezone.localdate()
    load_before = load_average()
    stats = seed_population(
        province_code=args.province,
        people=args.people,
        seed=args.seed,
        progress=sys.stdout.isatty(),
        today=today,
    )
    load_after = load_average()
    print(
        f"seed: {stats.persons:,} persons, {stats.rows:,} rows in {stats.seconds:.1f} s "
        f"({stats.persons_per_second:,.0f} persons/s)",
        flush=True,
    )
    rows = person_rows(args.people, args.province, args.seed, today, timestamp_value(vendor))
    baseline = baseline_postgresql(rows) if vendor == "postgresql" else baseline_sqlite(rows)
    print(f"baseline: {len(rows):,} person rows in {baseline:.1f} s", flush=True)
    target_people, target_seconds = TARGET_SECONDS[vendor]
    write_result(
        f"seed-{vendor}-{args.people}",
        {
            "database": vendor,
            "command": " ".join(["bench/bench_seed.py", *sys.argv[1:]]),
            "province": args.province,
            "seed": args.seed,
            "persons": stats.persons,
            "rows": {
                "persons": stats.persons,
                "households": stats.households,
                "addresses": stats.addresses,
                "household_memberships": stats.memberships,
                "residences": stats.residences,
                "identity_cards": stats.identity_cards,
                "civil_events": stats.civil_events,
                "total": stats.rows,
            },
            "existing_persons_before": existing,
            "seconds": round(stats.seconds, 2),
            "persons_per_s": round(stats.persons_per_second),
            "rows_per_s": round(stats.rows / stats.seconds),
            "phases_seconds": {
                "generate_cpu_overlapped": round(stats.generate_seconds, 2),
                "load": round(stats.load_seconds, 2),
                "rebuild_indexes_and_constraints": round(stats.finish_seconds, 2),
            },
            "baseline": (
                "PostgreSQL COPY of the same person rows into "
                "CREATE TEMP TABLE (LIKE registry_person INCLUDING ALL)"
                if vendor == "postgresql"
                else "SQLite executemany of the same person rows into a temporary copy of "
                "registry_person with its indexes"
            ),
            "baseline_seconds": round(baseline, 2),
            "baseline_persons_per_s": round(len(rows) / baseline),
            "ratio_seed_to_baseline_seconds": round(stats.seconds / baseline, 2),
            "target": {"persons": target_people, "seconds": target_seconds},
            # Only judged at the target size.
            "within_target": (
                stats.seconds < target_seconds if stats.persons >= target_people else None
            ),
            "load_average_before_after": [load_before, load_after],
        },
    )


def run_in_scratch(args: argparse.Namespace) -> None:
    """Create a scratch PostgreSQL database, migrate it, run there, drop it."""
    import psycopg

    url = os.environ.get("CONGDAN_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("--scratch needs a PostgreSQL CONGDAN_DATABASE_URL")
    base, _, name = url.rpartition("/")
    name = name.split("?", 1)[0]
    scratch = f"{name}_seed_scratch"
    admin = f"{base}/postgres"
    env = {**os.environ, "CONGDAN_DATABASE_URL": f"{base}/{scratch}", "CONGDAN_DEBUG": "1"}
    congdan = str(Path(sys.executable).parent / "congdan")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run([congdan, "migrate", "--no-input", "-v0"], env=env, check=True)
        argv = [a for a in sys.argv[1:] if a != "--scratch"]
        subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv], env=env, check=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--province", default="48")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--allow-existing", action="store_true", help="seed even if the database holds persons"
    )
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="PostgreSQL: run in a new database next to CONGDAN_DATABASE_URL, dropped afterwards",
    )
    args = parser.parse_args()
    if args.scratch:
        run_in_scratch(args)
    else:
        run(args)


if __name__ == "__main__":
    main()

"""`make bench`: every benchmark, one after the other, results in bench/results/.

Needs PostgreSQL (CONGDAN_BENCH_DATABASE_URL, default a scratch database `congdan_bench`
on 127.0.0.1) and wrk. The scratch database is created if missing and kept between runs
so the million-person seed is paid once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def main() -> None:
    url = os.environ.get(
        "CONGDAN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/congdan_bench"
    )
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "CONGDAN_DATABASE_URL": url, "CONGDAN_DEBUG": "1"}
    congdan = str(Path(PY).parent / "congdan")
    subprocess.run([congdan, "migrate", "--no-input", "-v0"], env=env, check=True)
    steps = [
        [PY, str(HERE / "bench_seed.py"), "--people", "1000000", "--scratch"],
        [PY, str(HERE / "bench_lookup.py"), "--min-persons", "1000000"],
        [PY, str(HERE / "bench_login.py")],
        [PY, str(HERE / "bench_procedures.py")],
        [PY, str(HERE / "bench_wallet.py")],
        [PY, str(HERE / "bench_exchange.py"), "--min-persons", "1000000"],
        [
            PY,
            str(HERE / "bench_exchange.py"),
            "--min-persons",
            "1000000",
            "--cache-url",
            "redis://127.0.0.1:6379/3",
            "--batch-rows",
            "0",
        ],
        [PY, str(HERE / "bench_monitoring.py")],
    ]
    for step in steps:
        print("+", " ".join(step[1:]), flush=True)
        subprocess.run(step, env=env, check=True, cwd=HERE)


if __name__ == "__main__":
    main()

"""Shared benchmark helpers: machine description, result files, a server under test."""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def served(env: dict[str, str], *, port: int, workers: int, threads: int) -> Iterator[str]:
    """Run `congdan serve` (granian, DEBUG off) on 127.0.0.1:port for the duration."""
    full = {**os.environ, **env}
    full.setdefault("CONGDAN_SECRET_KEY", secrets.token_urlsafe(50))
    full["CONGDAN_DEBUG"] = "0"
    full["CONGDAN_BENCH_ENDPOINTS"] = "1"
    full.setdefault("CONGDAN_DEMO", "1")  # the local outbox takes the login codes
    full["CONGDAN_LOG_LEVEL"] = "WARNING"
    proc = subprocess.Popen(
        [
            str(BIN / "congdan"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wrk(base: str, lua: str, lines: list[str], *, seconds: int, connections: int) -> dict:
    """Run wrk (1 thread) against ``base`` with the Lua script ``lua``, in which
    ``%(ids)s`` names a file holding ``lines``; requests/s, p50/p90/p99 in ms, non-2xx."""
    import re
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rows.txt"
        data.write_text("\n".join(lines) + "\n")
        script = Path(tmp) / "load.lua"
        script.write_text(lua.replace("%(ids)s", str(data)))
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
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": wrk_ms(latency["50"]),
        "p90_ms": wrk_ms(latency["90"]),
        "p99_ms": wrk_ms(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def wrk_ms(text: str) -> float:
    """A wrk latency ("1.23ms", "850.00us", "1.2s") in milliseconds."""
    import re

    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

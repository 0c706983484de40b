"""Start-up refuses the sandbox gateway outside DEBUG and demo mode (like the outbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION = {
    "CONGDAN_DEBUG": "0",
    "CONGDAN_SECRET_KEY": "x" * 50,
    "CONGDAN_NOTIFY_BACKEND": "example_gateway.SmsBackend",  # imported on first use
    "CONGDAN_WALLET_HOLDER_KEY_SECRET": "h" * 40,
    "CONGDAN_ACCESS_LOG_SEAL_SECRET": "s" * 40,
}


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CONGDAN_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; import congdan.settings"],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )


def test_sandbox_outside_debug_and_demo_stops_start_up(tmp_path: Path) -> None:
    result = _load_settings({**PRODUCTION, "CONGDAN_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CONGDAN_PAYMENT_GATEWAY" in result.stderr
    assert "sandbox" in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {"CONGDAN_DEMO": "1"},
        {"CONGDAN_DEBUG": "1"},
        {"CONGDAN_PAYMENT_GATEWAY": "example_gateway.PaymentGateway"},  # imported on first use
    ],
)
def test_sandbox_in_demo_or_debug_or_a_real_gateway_starts(
    extra: dict[str, str], tmp_path: Path
) -> None:
    result = _load_settings({**PRODUCTION, "CONGDAN_VAR_DIR": str(tmp_path), **extra})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("ttl", ["abc", "0", "100000"])
def test_bad_ttl_is_refused(ttl: str, tmp_path: Path) -> None:
    result = _load_settings(
        {"CONGDAN_DEBUG": "1", "CONGDAN_VAR_DIR": str(tmp_path), "CONGDAN_PAYMENT_TTL_MINUTES": ttl}
    )
    assert result.returncode != 0
    assert "CONGDAN_PAYMENT_TTL_MINUTES" in result.stderr

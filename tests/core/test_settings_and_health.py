"""Start-up configuration checks and the health endpoint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CONGDAN_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import congdan.settings"],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("secret", ["", "change-me", "short", "secret"])
def test_missing_or_placeholder_secret_stops_start_up(secret: str, tmp_path) -> None:
    result = _load_settings(
        {"CONGDAN_DEBUG": "0", "CONGDAN_SECRET_KEY": secret, "CONGDAN_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "CONGDAN_SECRET_KEY" in result.stderr


def test_real_secret_starts(tmp_path) -> None:
    result = _load_settings(
        {
            "CONGDAN_DEBUG": "0",
            "CONGDAN_SECRET_KEY": "x" * 50,
            "CONGDAN_VAR_DIR": str(tmp_path),
            "CONGDAN_NOTIFY_BACKEND": "example_gateway.SmsBackend",  # imported on first use
            "CONGDAN_PAYMENT_GATEWAY": "example_gateway.PaymentGateway",  # likewise
            "CONGDAN_WALLET_HOLDER_KEY_SECRET": "h" * 40,
            "CONGDAN_ACCESS_LOG_SEAL_SECRET": "s" * 40,
        }
    )
    assert result.returncode == 0, result.stderr


def test_missing_wallet_holder_secret_stops_start_up(tmp_path) -> None:
    result = _load_settings(
        {
            "CONGDAN_DEBUG": "0",
            "CONGDAN_SECRET_KEY": "x" * 50,
            "CONGDAN_VAR_DIR": str(tmp_path),
            "CONGDAN_NOTIFY_BACKEND": "example_gateway.SmsBackend",
            "CONGDAN_PAYMENT_GATEWAY": "example_gateway.PaymentGateway",
            "CONGDAN_WALLET_HOLDER_KEY_SECRET": "too-short",
        }
    )
    assert result.returncode != 0
    assert "CONGDAN_WALLET_HOLDER_KEY_SECRET" in result.stderr


def test_local_outbox_outside_debug_and_demo_stops_start_up(tmp_path) -> None:
    env = {"CONGDAN_DEBUG": "0", "CONGDAN_SECRET_KEY": "x" * 50, "CONGDAN_VAR_DIR": str(tmp_path)}
    result = _load_settings(env)
    assert result.returncode != 0
    assert "CONGDAN_NOTIFY_BACKEND" in result.stderr
    assert _load_settings({**env, "CONGDAN_DEMO": "1"}).returncode == 0


def test_debug_needs_no_secret(tmp_path) -> None:
    assert _load_settings({"CONGDAN_DEBUG": "1", "CONGDAN_VAR_DIR": str(tmp_path)}).returncode == 0


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_boolean_is_refused(value: str, tmp_path) -> None:
    result = _load_settings({"CONGDAN_DEBUG": value, "CONGDAN_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "CONGDAN_DEBUG" in result.stderr


def test_unsupported_database_url_is_refused(tmp_path) -> None:
    result = _load_settings(
        {
            "CONGDAN_DEBUG": "1",
            "CONGDAN_VAR_DIR": str(tmp_path),
            "CONGDAN_DATABASE_URL": "mysql://root@localhost/x",
        }
    )
    assert result.returncode != 0
    assert "Unsupported database engine" in result.stderr


def test_sqlite_runs_in_wal_mode(db) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The test database is in memory (no WAL possible); the file database must be WAL.
    assert mode in ("wal", "memory")


def test_file_database_is_wal(tmp_path) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='congdan.settings';"
        "django.setup();"
        "from django.db import connection; c=connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONGDAN_")}
    env.update({"CONGDAN_DEBUG": "1", "CONGDAN_VAR_DIR": str(tmp_path)})
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "wal"


def test_healthz_ok(db) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["X-Request-ID"]


def test_healthz_reports_unreachable_database(db, monkeypatch) -> None:
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("down")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken)
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_request_id_is_echoed_when_sane(db) -> None:
    assert Client().get("/healthz", HTTP_X_REQUEST_ID="abc12345-xyz")["X-Request-ID"] == (
        "abc12345-xyz"
    )
    assert Client().get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"] != "bad id!"


def test_log_filter_masks_id_numbers_and_tokens() -> None:
    from congdan.core.logging import mask

    assert mask("looked up 048090000123") == "looked up 048******123"
    assert "secretvalue" not in mask("Authorization: Bearer secretvalue123")
    assert mask("Not Found: /v/AbC_12-xyz789/") == "Not Found: /v/***/"


def test_cache_url_must_be_redis(tmp_path) -> None:
    env = {"CONGDAN_DEBUG": "1", "CONGDAN_VAR_DIR": str(tmp_path)}
    result = _load_settings({**env, "CONGDAN_CACHE_URL": "memcached://127.0.0.1:11211"})
    assert result.returncode != 0
    assert "CONGDAN_CACHE_URL" in result.stderr
    assert _load_settings({**env, "CONGDAN_CACHE_URL": "redis://127.0.0.1:6379/3"}).returncode == 0


def test_s3_bucket_switches_the_default_storage(tmp_path) -> None:
    env = {
        "CONGDAN_DEBUG": "1",
        "CONGDAN_VAR_DIR": str(tmp_path),
        "CONGDAN_S3_BUCKET": "congdan-files",
        "CONGDAN_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.STORAGES['default']; "
        "print(d['BACKEND'], d['OPTIONS']['bucket_name'], d['OPTIONS']['default_acl'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "congdan.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["storages.backends.s3.S3Storage", "congdan-files", "private"]

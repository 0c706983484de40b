"""The production password hasher: Argon2id at or above OWASP's minimum."""

from __future__ import annotations

from django.conf import settings

from congdan.core.hashers import Argon2idHasher


def test_argon2id_parameters_meet_owasp_minimum() -> None:
    hasher = Argon2idHasher()
    encoded = hasher.encode("mật khẩu thử", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    params = hasher.decode(encoded)
    assert params["memory_cost"] >= 19456
    assert params["time_cost"] >= 2
    assert params["parallelism"] >= 1
    assert hasher.verify("mật khẩu thử", encoded)
    assert not hasher.verify("sai", encoded)


def test_production_settings_use_it_first() -> None:
    from importlib import import_module

    module = import_module(settings.SETTINGS_MODULE)
    assert module.PASSWORD_HASHERS[0] == "congdan.core.hashers.Argon2idHasher"


def test_client_secret_hasher_is_last_and_named_by_the_oauth_settings() -> None:
    from importlib import import_module

    from congdan.core.hashers import ClientSecretHasher

    module = import_module(settings.SETTINGS_MODULE)
    assert module.PASSWORD_HASHERS[-1] == "congdan.core.hashers.ClientSecretHasher"
    assert module.OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"] == ClientSecretHasher.algorithm


def test_client_secret_hasher_salts_and_verifies() -> None:
    from django.contrib.auth.hashers import check_password, make_password

    first = make_password("s3cret-value", hasher="secret_sha256")
    second = make_password("s3cret-value", hasher="secret_sha256")
    assert first.startswith("secret_sha256$")
    assert first != second  # salted
    assert check_password("s3cret-value", first)
    assert not check_password("s3cret-valuE", first)

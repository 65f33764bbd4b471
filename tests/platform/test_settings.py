"""Settings come from the environment: nothing set gives the embedded defaults, production variables
switch each part to the real service and pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rsa_pem_one_line() -> str:
    """A signing key for ID tokens as an environment variable holds it: PEM with \\n for newlines."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    return pem.replace("\n", "\\n")


PRODUCTION = {
    "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-length-and-variety-9aZ!",
    "ALLOWED_HOSTS": "oa.gd.gov.example",
    "CSRF_TRUSTED_ORIGINS": "https://oa.gd.gov.example",
    "WEBSOCKET_ALLOWED_ORIGINS": "https://oa.gd.gov.example",
    "SECURE_SSL": "true",
    "TRUSTED_PROXIES": "127.0.0.1",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "S3_ENDPOINT": "127.0.0.1:9",
    "S3_ACCESS_KEY": "officeapp",
    "S3_SECRET_KEY": "secret",
    "OIDC_RSA_PRIVATE_KEY": _rsa_pem_one_line(),
}
CLEARED = [
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "ELASTICSEARCH_URL",
    "SECRET_KEY",
    "DEBUG",
    "TESTING",
    "PYTEST_VERSION",  # pytest sets it for its session; settings read it as TESTING (a child is production)
    "WEBSOCKET_ALLOWED_ORIGINS",
]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _setting(name: str, env: dict[str, str]) -> str:
    code = f"from django.conf import settings; import json; print(json.dumps(settings.{name}, default=str))"
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_variables_pass_the_deployment_checks() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deployment_check_refuses_the_embedded_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "officeapp.E002" in result.stdout + result.stderr


def test_websocket_origin_wildcard_is_refused() -> None:
    result = _manage("check", env={"WEBSOCKET_ALLOWED_ORIGINS": "*"})
    assert result.returncode != 0
    assert "officeapp.E001" in result.stdout + result.stderr


def test_s3_endpoint_without_keys_stops_start_up_with_a_clear_message() -> None:
    result = _manage("check", env={"S3_ENDPOINT": "127.0.0.1:9"})
    assert result.returncode != 0
    assert "S3_ACCESS_KEY" in result.stderr


def test_nothing_set_means_the_embedded_defaults() -> None:
    assert "InMemoryChannelLayer" in _setting("CHANNEL_LAYERS", env={})
    database = _setting("DATABASES['default']", env={})
    assert "sqlite3" in database and "journal_mode=WAL" in database
    assert _setting("S3_ENDPOINT", env={}) == '""'


def test_redis_url_switches_the_channel_layer_and_the_worker_broker() -> None:
    env = {"REDIS_URL": "redis://127.0.0.1:6379/15"}
    assert "RedisPubSubChannelLayer" in _setting("CHANNEL_LAYERS", env=env)
    assert "redis://127.0.0.1:6379/15" in _setting("Q_CLUSTER", env=env)


def test_collectstatic_succeeds_with_hashed_names(tmp_path: Path) -> None:
    # make run and every deployment collect static files with the production storage.
    result = _manage("collectstatic", "--noinput", "-v", "0", env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "officeapp/socket.js" in manifest and "officeapp/vendor/htmx-2.0.11.min.js" in manifest

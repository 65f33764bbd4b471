"""The deployment check for the ID-token signing key (integration.E001), run as `manage.py check
--deploy` in a child process with production variables, as tests/platform/test_settings.py does."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.platform.test_settings import PRODUCTION, _manage


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_deployment_check_refuses_the_embedded_oidc_signing_key_in_chinese() -> None:
    result = _manage("check", "--deploy", env={**PRODUCTION, "OIDC_RSA_PRIVATE_KEY": ""})

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "integration.E001" in output and "OIDC_RSA_PRIVATE_KEY" in output and "生产环境须设置" in output


def test_deployment_check_accepts_a_configured_oidc_signing_key() -> None:
    # One line with \n escapes, as an environment file holds it.
    result = _manage(
        "check", "--deploy", env={**PRODUCTION, "OIDC_RSA_PRIVATE_KEY": _pem().replace("\n", "\\n")}
    )

    assert "integration.E001" not in result.stdout + result.stderr

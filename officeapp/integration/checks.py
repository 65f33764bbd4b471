"""System checks of the integration platform, with stable ids integration.E…."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_oidc_signing_key_is_set(app_configs: Any, **kwargs: Any) -> list[Error]:
    # The embedded key is generated per machine (or per test run): ID tokens signed with it are not
    # verifiable after a move, and it was never in the operators' key management.
    if settings.OIDC_KEY_IS_EMBEDDED:
        return [
            Error(
                "生产环境须设置 OIDC_RSA_PRIVATE_KEY 环境变量（签发 ID 令牌的 RSA 私钥，PEM 格式）。",
                hint="可用 `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` 生成，换行可写作 \\n。",
                id="integration.E001",
            )
        ]
    return []

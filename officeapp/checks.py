"""System checks for configuration mistakes, with stable ids officeapp.E…/W…."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def check_websocket_origins(app_configs: Any, **kwargs: Any) -> list[Error]:
    if "*" in settings.WEBSOCKET_ALLOWED_ORIGINS:
        return [Error("WEBSOCKET_ALLOWED_ORIGINS 不得包含 '*'。", id="officeapp.E001")]
    return []


@register(Tags.security, deploy=True)
def check_secret_key_is_set(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.SECRET_KEY.startswith("officeapp-embedded-insecure-key"):
        return [Error("生产环境须设置 SECRET_KEY 环境变量。", id="officeapp.E002")]
    return []

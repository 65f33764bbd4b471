"""Permission-matrix entries for the 统一身份认证 (outside OpenID Connect provider) routes of
officeapp/accounts/urls.py. With no provider configured (the suite's settings) both answer 404 to
everyone; with one, what they do is tested in tests/accounts/test_oidc_relying_party.py."""

from __future__ import annotations

from typing import Any

NOT_CONFIGURED = {"anonymous": 404, "*": 404}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "accounts:oidc_sign_in": ("get", NOT_CONFIGURED),
    "accounts:oidc_callback": ("get", NOT_CONFIGURED),
}


def objects(cast: Any, core: dict[str, Any]) -> dict[str, Any]:
    return {}

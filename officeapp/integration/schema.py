"""How the OpenAPI schema describes our bearer-token authentication (drf-spectacular extension)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AppTokenScheme(OpenApiAuthenticationExtension):
    target_class = "officeapp.integration.rest.AppTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scopes = dict(settings.API_SCOPES)
        return {
            "type": "oauth2",
            "description": "应用以客户端凭证（client credentials）代表自身调用，或以授权码流程（OpenID Connect）代表用户调用。",
            "flows": {
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
                "authorizationCode": {
                    "authorizationUrl": "/o/authorize/",
                    "tokenUrl": "/o/token/",
                    "scopes": {"openid": "确认您的身份", "profile": "姓名、单位、部门", **scopes},
                },
            },
        }

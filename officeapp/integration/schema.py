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

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        # Each operation names the scopes its view checks (rest.HasApiScopes), so a client knows what
        # to ask for; drf-spectacular's default lists none.
        return {self.name: sorted(getattr(auto_schema.view, "required_scopes", ()))}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "错误代码，如 not_found、invalid、throttled"},
                "message": {"type": "string", "description": "中文说明"},
                "fields": {
                    "type": "object",
                    "description": "invalid 时各字段的错误",
                    "additionalProperties": True,
                },
            },
        }
    },
}
ERRORS = {
    "400": "请求参数或内容无效",
    "401": "缺少访问令牌，或令牌无效、已过期、应用已停用",
    "403": "令牌未获所需授权范围，或调用方无权进行此操作",
    "404": "对象不存在或无权访问",
    "429": "调用过于频繁（见 Retry-After）",
}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: the errors every API operation can answer, in our JSON shape (rest.py's
    exception_handler): 401, 403 and 429 everywhere; 400 where there are query parameters or a body;
    404 where there is a path parameter or a cursor. A view's own description of a status is kept."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            codes = ["401", "403", "429"]
            if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
                codes.append("400")
            if any(p.get("in") == "path" or p.get("name") == "cursor" for p in parameters):
                codes.append("404")
            responses = operation["responses"]
            for code in codes:
                described = responses.setdefault(code, {"description": ERRORS[code]})
                described.setdefault("content", body)
    return result

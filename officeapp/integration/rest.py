"""The REST API's shared parts: who is calling, what they may do, how fast, and how errors look.

Every endpoint under /api/v1/ (each app's `api.py`, mounted through `officeapp.registries.api_routers`)
inherits these through settings.REST_FRAMEWORK:

- `AppTokenAuthentication`: a bearer token from our OAuth2 provider. A client-credentials token is the
  app acting as itself (`request.user` is None); an authorization-code (OIDC) token is the app acting
  for a user (`request.user` is that user, and the same `access` rules as the pages apply). The app must
  be registered and active: a suspended app's tokens stop working on the next call.
- `HasApiScopes`: a view names `required_scopes`; the token must carry each, and the app's registration
  must still grant each (a scope withdrawn from the app stops old tokens too).
- `AppRateThrottle`: per app, `App.rate_limit_per_minute` or settings.API_RATE_LIMIT_PER_MINUTE; over
  it, 429 with Retry-After.
- `IdCursorPagination`: cursor pages ordered by id, constant time however deep.
- `exception_handler`: every error is {"error": {"code", "message"}} with the message in Chinese.
- Each call is audited with the app as actor (`officeapp.integration.apiview.ApiView`, the base of every view).

Views use `caller(request)` to learn (app, user, scopes) and call one service or access function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from officeapp.integration.models import App

MSG_NO_TOKEN = "缺少访问令牌（Authorization: Bearer …）。"  # noqa: S105 - a message, not a secret
MSG_BAD_TOKEN = "访问令牌无效或已过期。"  # noqa: S105 - a message, not a secret
MSG_APP_SUSPENDED = "该应用已停用。"
MSG_SCOPE = "访问令牌未获授权：{scopes}。"
MSG_NOT_FOUND = "对象不存在或无权访问。"
MSG_THROTTLED = "调用过于频繁，请 {wait} 秒后再试。"
MSG_INVALID = "请求内容无效。"
MSG_FORBIDDEN = "无权进行此操作。"
MSG_BAD_CURSOR = "翻页游标无效，请从第一页重新获取。"


@dataclass(frozen=True)
class Caller:
    app: App
    user: Any | None  # None: the app acting as itself (client credentials)
    scopes: frozenset[str]

    @property
    def label(self) -> str:
        return f"应用：{self.app.name}"


def caller(request: Request) -> Caller:
    found = getattr(request, "_officeapp_caller", None)
    if found is None:
        raise exceptions.NotAuthenticated(MSG_NO_TOKEN)
    return found


def _app_of(token: Any) -> App | None:
    application_id = getattr(token, "application_id", None)
    if application_id is None:
        return None
    return (
        App.objects.filter(sso_client_id=application_id).first()
        or App.objects.filter(service_client_id=application_id).first()
    )


class AppTokenAuthentication(OAuth2Authentication):
    """DOT's bearer-token check, then ours: the token's client must be a registered, active app, and a
    user token's user must still be active."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            if request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer "):
                raise exceptions.AuthenticationFailed(MSG_BAD_TOKEN)
            return None
        user, token = result
        app = _app_of(token)
        if app is None:
            raise exceptions.AuthenticationFailed(MSG_BAD_TOKEN)
        if not app.is_active:
            raise exceptions.AuthenticationFailed(MSG_APP_SUSPENDED)
        if user is not None and not user.is_active:
            raise exceptions.AuthenticationFailed(MSG_BAD_TOKEN)
        granted = set(app.scopes) | {"openid", "profile", "email", "phone"}
        scopes = frozenset(s for s in (token.scope or "").split() if s in granted)
        request._officeapp_caller = Caller(app=app, user=user, scopes=scopes)  # type: ignore[attr-defined]
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasApiScopes(BasePermission):
    """`required_scopes` on the view: every one must be on the token and still granted to the app."""

    def has_permission(self, request: Request, view: Any) -> bool:
        found = getattr(request, "_officeapp_caller", None)
        if found is None:
            raise exceptions.NotAuthenticated(MSG_NO_TOKEN)
        required = set(getattr(view, "required_scopes", ()))
        missing = sorted(required - found.scopes)
        if missing:
            labels = "、".join(settings.API_SCOPES.get(s, s) for s in missing)
            raise exceptions.PermissionDenied(MSG_SCOPE.format(scopes=labels))
        return True


class AppRateThrottle(SimpleRateThrottle):
    """Per app, per minute (the cache is Redis in production, so every process counts together)."""

    scope = "app"

    def get_rate(self) -> str:  # the rate depends on the app: set in allow_request
        return f"{settings.API_RATE_LIMIT_PER_MINUTE}/min"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        found = getattr(request, "_officeapp_caller", None)
        if found is None:
            return None
        return f"throttle:app:{found.app.pk}"

    def allow_request(self, request: Request, view: Any) -> bool:
        found = getattr(request, "_officeapp_caller", None)
        if found is not None:
            limit = found.app.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE
            self.num_requests, self.duration = limit, 60
        return super().allow_request(request, view)


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Any:
        # A cursor the client mangled is a bad request, not a missing object.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ParseError(MSG_BAD_CURSOR) from exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views reads these settings at import, and settings name this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(MSG_NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(MSG_FORBIDDEN)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        message, code = MSG_THROTTLED.format(wait=wait), "throttled"
    elif isinstance(exc, exceptions.ValidationError):
        message, code = MSG_INVALID, "invalid"
        response.data = {"error": {"code": code, "message": message, "fields": exc.detail}}
        return response
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if isinstance(detail, str) else MSG_INVALID
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        if response.status_code == status.HTTP_404_NOT_FOUND:
            message, code = MSG_NOT_FOUND, "not_found"
    else:  # pragma: no cover - DRF only answers for APIException, Http404 and PermissionDenied
        message, code = MSG_INVALID, "error"
    response.data = {"error": {"code": code, "message": message}}
    return response

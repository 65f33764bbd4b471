"""URLs of the integration platform: the API under /api/v1/ (every app's api.py, through the
api_routers registry), its OpenAPI schema and pages, and the OAuth2/OIDC provider under /o/."""

from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from oauth2_provider import views as oauth

from officeapp.integration.api import MeView
from officeapp.integration.oidc import AuditedLogoutView
from officeapp.registries import api_routers


def api_v1_patterns() -> list[URLPattern | URLResolver]:
    """The platform's endpoints, then each registered app's: `api_routers` maps a prefix to the dotted
    path of a module with `urlpatterns` (registered from the app's AppConfig.ready())."""
    patterns: list[URLPattern | URLResolver] = [path("me", MeView.as_view(), name="me")]
    for prefix, module_path in sorted(api_routers.items()):
        module = import_module(module_path)
        patterns.append(path(f"{prefix}/", include((module.urlpatterns, prefix))))
    return patterns


# The provider's endpoints we serve, under /o/. Not django-oauth-toolkit's own application-management
# pages, dynamic client registration or device flow: apps are registered only through our audited
# 应用管理 pages (officeapp.integration.services).
oauth_patterns = (
    [
        path("authorize/", oauth.AuthorizationView.as_view(), name="authorize"),
        path("token/", oauth.TokenView.as_view(), name="token"),
        path("revoke_token/", oauth.RevokeTokenView.as_view(), name="revoke-token"),
        path("introspect/", oauth.IntrospectTokenView.as_view(), name="introspect"),
        re_path(
            r"^\.well-known/openid-configuration/?$",
            oauth.ConnectDiscoveryInfoView.as_view(),
            name="oidc-connect-discovery-info",
        ),
        path(".well-known/jwks.json", oauth.JwksInfoView.as_view(), name="jwks-info"),
        path("userinfo/", oauth.UserInfoView.as_view(), name="user-info"),
        path("logout/", AuditedLogoutView.as_view(), name="rp-initiated-logout"),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("api/v1/", include((api_v1_patterns(), "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="integration/redoc.html"),
        name="api-redoc",
    ),
    path("o/", include(oauth_patterns)),
    # 应用管理 pages (registry, secrets, suspension, call log) and webhook subscriptions/deliveries.
    path("integration/", include("officeapp.integration.pages_urls")),
    path("integration/webhooks/", include("officeapp.integration.webhook_urls")),
    # OpenID Connect discovery where clients look first: the origin's /.well-known/.
    path(
        ".well-known/openid-configuration",
        oauth.ConnectDiscoveryInfoView.as_view(),
        name="oidc-discovery",
    ),
]

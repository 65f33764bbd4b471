"""Fixtures of the integration platform's tests: registered apps and bearer tokens.

`make_app` registers an app the way officeapp.integration.services does (two OAuth2 clients), and
`token_for` issues an access token directly (the OAuth2 flows themselves are tested end to end in
test_oidc_*.py); both are fast enough to use in every API test."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from officeapp.integration.models import App


def _make_app(
    owner_agency: Any,
    *,
    name: str = "行政审批系统",
    scopes: list[str] | None = None,
    data_agencies: list[Any] | None = None,
    **fields: Any,
) -> App:
    sso = Application.objects.create(
        name=f"{name}（登录）",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example.test/callback",
        algorithm=Application.RS256_ALGORITHM,
    )
    service = Application.objects.create(
        name=f"{name}（接口）",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    app = App.objects.create(
        name=name,
        url="https://app.example.test/",
        owner_agency=owner_agency,
        scopes=scopes if scopes is not None else [],
        sso_client=sso,
        service_client=service,
        **fields,
    )
    if data_agencies:
        app.data_agencies.set(data_agencies)
    return app


@pytest.fixture
def make_app() -> Callable[..., App]:
    return _make_app


def _token_for(app: App, *, user: Any = None, scopes: str | list[str] = "", minutes: int = 60) -> str:
    """A bearer token of the app's service client (user None) or of its sign-in client for a user."""
    scope = scopes if isinstance(scopes, str) else " ".join(scopes)
    value = secrets.token_urlsafe(24)
    AccessToken.objects.create(
        user=user,
        application=app.sso_client if user is not None else app.service_client,
        token=value,
        scope=scope,
        expires=timezone.now() + timedelta(minutes=minutes),
    )
    return value


@pytest.fixture
def token_for() -> Callable[..., str]:
    return _token_for


@pytest.fixture
def api(client: Any) -> Callable[..., Any]:
    """api(method, path, token=…, json=…): a call with a bearer token and a JSON body."""

    def call(method: str, path: str, *, token: str | None = None, json: Any = None, **extra: Any) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        kwargs: dict[str, Any] = {**headers, **extra}
        if json is not None:
            kwargs["data"] = json
            kwargs["content_type"] = "application/json"
        return getattr(client, method.lower())(path, **kwargs)

    return call

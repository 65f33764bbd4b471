"""The app registry's verbs: secrets shown once and hashed, rotation, suspension, validation."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from oauth2_provider.models import AccessToken, Application, RefreshToken

from officeapp.audit.models import AuditEvent
from officeapp.integration import services
from officeapp.integration.models import App, AppStatus
from officeapp.integration.services import RegistryError
from officeapp.outbox.models import OutboxEvent

pytestmark = pytest.mark.django_db


def register(actor: Any, agency: Any, **overrides: Any) -> services.Registered:
    fields: dict[str, Any] = {
        "owner_agency": agency,
        "name": "行政审批系统",
        "url": "https://xzsp.example.test/",
        "redirect_uris": ["https://xzsp.example.test/callback"],
        "scopes": ["directory.read"],
    }
    fields.update(overrides)
    return services.register_app(actor, **fields)


def token_request(client: Any, client_id: str, secret: str) -> Any:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "directory.read"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_register_creates_both_clients_and_returns_the_secrets_only_in_plaintext_once(cast):
    done = register(
        cast.system_admin, cast.gov_office, post_logout_redirect_uris=["https://xzsp.example.test/"]
    )
    app = done.app
    sso, service = app.sso_client, app.service_client
    assert sso.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert sso.client_type == Application.CLIENT_CONFIDENTIAL and sso.algorithm == Application.RS256_ALGORITHM
    assert sso.redirect_uris == "https://xzsp.example.test/callback"
    assert sso.post_logout_redirect_uris == "https://xzsp.example.test/"
    assert service.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    by_kind = {s.which: s for s in done.secrets}
    assert by_kind["sso"].client_id == sso.client_id and by_kind["service"].client_id == service.client_id
    # Stored hashed: the plaintext is nowhere in the database.
    for issued, client in ((by_kind["sso"], sso), (by_kind["service"], service)):
        stored = Application.objects.get(pk=client.pk).client_secret
        assert issued.client_secret and issued.client_secret not in stored
    assert AuditEvent.objects.filter(action="integration.app.register", object_id=str(app.pk)).exists()
    assert OutboxEvent.objects.filter(topic="integration.app.register", object_id=str(app.pk)).exists()


def test_the_issued_service_secret_gets_a_client_credentials_token(cast, client):
    done = register(cast.system_admin, cast.gov_office)
    service = next(s for s in done.secrets if s.which == "service")
    response = token_request(client, service.client_id, service.client_secret)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_rotating_a_secret_stops_the_old_one_at_once_and_the_new_one_works(cast, client):
    done = register(cast.system_admin, cast.gov_office)
    old = next(s for s in done.secrets if s.which == "service")
    earlier_token = token_request(client, old.client_id, old.client_secret).json()["access_token"]

    new = services.rotate_secret(cast.system_admin, done.app, "service")

    assert new.client_id == old.client_id and new.client_secret != old.client_secret
    assert token_request(client, old.client_id, old.client_secret).status_code == 401
    assert token_request(client, new.client_id, new.client_secret).status_code == 200
    # A token obtained with the old secret is revoked with it.
    assert not AccessToken.objects.filter(token=earlier_token).exists()
    assert AuditEvent.objects.filter(
        action="integration.app.rotate_secret", object_id=str(done.app.pk)
    ).exists()


def test_rotating_the_sign_in_secret_leaves_the_service_secret_working(cast, client):
    done = register(cast.system_admin, cast.gov_office)
    service = next(s for s in done.secrets if s.which == "service")
    services.rotate_secret(cast.system_admin, done.app, "sso")
    assert token_request(client, service.client_id, service.client_secret).status_code == 200


def test_rotate_refuses_an_unknown_client_kind(cast):
    done = register(cast.system_admin, cast.gov_office)
    with pytest.raises(RegistryError, match="未知的密钥类型"):
        services.rotate_secret(cast.system_admin, done.app, "admin")


def test_suspending_revokes_every_outstanding_token_and_resume_restores_the_status(cast, token_for):
    app = register(cast.system_admin, cast.gov_office).app
    service_token = token_for(app, scopes="directory.read")
    user_token = token_for(app, user=cast.drafter, scopes="openid")
    RefreshToken.objects.create(
        user=cast.drafter,
        application=app.sso_client,
        token="r-1",
        access_token=AccessToken.objects.get(token=user_token),
    )

    services.suspend_app(cast.system_admin, app)

    app.refresh_from_db()
    assert app.status == AppStatus.SUSPENDED
    assert not AccessToken.objects.filter(token__in=[service_token, user_token]).exists()
    assert RefreshToken.objects.get(token="r-1").revoked is not None
    with pytest.raises(RegistryError, match="已停用"):
        services.suspend_app(cast.system_admin, app)

    services.resume_app(cast.system_admin, app)
    app.refresh_from_db()
    assert app.status == AppStatus.ACTIVE
    assert list(
        AuditEvent.objects.filter(object_type="integration.app", object_id=str(app.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["integration.app.register", "integration.app.suspend", "integration.app.resume"]


def test_a_suspended_apps_token_is_refused_by_the_api(cast, api, token_for):
    app = register(cast.system_admin, cast.gov_office).app
    token = token_for(app)
    assert api("get", "/api/v1/me", token=token).status_code == 200
    services.suspend_app(cast.system_admin, app)
    assert api("get", "/api/v1/me", token=token).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scopes": ["documents.read", "documents.write"]}, "未知的授权范围：documents.write"),
        ({"name": "  "}, "请填写应用名称"),
        ({"redirect_uris": []}, "请至少填写一个登录回调地址"),
        ({"redirect_uris": ["ftp://xzsp.example.test/cb"]}, "回调地址“ftp://xzsp.example.test/cb”无效"),
        ({"redirect_uris": ["https://xzsp.example.test/cb#x"]}, "不含 # 片段"),
        ({"post_logout_redirect_uris": ["javascript:alert(1)"]}, "无效"),
        ({"url": "javascript:alert(1)"}, "访问地址须是完整的网址"),
        ({"visible_roles": ["king"]}, "未知的角色：king"),
        ({"rate_limit_per_minute": 0}, "每分钟调用上限须在 1 到"),
    ],
)
def test_register_refuses_bad_input_in_chinese(cast, overrides, message):
    with pytest.raises(RegistryError, match=message):
        register(cast.system_admin, cast.gov_office, **overrides)
    assert not App.objects.exists() and not Application.objects.exists()


def test_http_redirect_uris_are_refused_when_production_allows_only_https(cast, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ALLOWED_REDIRECT_URI_SCHEMES": ["https"]}
    with pytest.raises(RegistryError, match="须以 https:// 开头"):
        register(cast.system_admin, cast.gov_office, redirect_uris=["http://xzsp.example.test/cb"])


def test_a_name_is_unique_within_its_agency_only(cast):
    register(cast.system_admin, cast.gov_office)
    with pytest.raises(RegistryError, match="本单位已有同名应用"):
        register(cast.system_admin, cast.gov_office)
    assert register(cast.system_admin, cast.finance).app.name == "行政审批系统"


def test_update_changes_fields_validates_scopes_and_mirrors_skip_consent(cast):
    app = register(cast.system_admin, cast.gov_office).app
    services.update_app(
        cast.system_admin,
        app,
        name="行政审批系统（新）",
        scopes=["documents.read", "todos.write"],
        skip_consent=True,
        redirect_uris=["https://new.example.test/cb", "https://new.example.test/cb2"],
        data_agencies=[cast.finance],
        rate_limit_per_minute=120,
    )
    app.refresh_from_db()
    assert app.name == "行政审批系统（新）" and app.scopes == ["documents.read", "todos.write"]
    assert app.skip_consent and app.rate_limit_per_minute == 120
    assert list(app.data_agencies.all()) == [cast.finance]
    sso = Application.objects.get(pk=app.sso_client_id)
    assert sso.skip_authorization is True
    assert sso.redirect_uris == "https://new.example.test/cb https://new.example.test/cb2"
    with pytest.raises(RegistryError, match="未知的授权范围"):
        services.update_app(cast.system_admin, app, scopes=["root"])
    app.refresh_from_db()
    assert app.scopes == ["documents.read", "todos.write"]


def test_an_agency_admin_may_not_trust_an_app_or_widen_its_data_beyond_the_agency(cast):
    from officeapp.org.models import Role, RoleGrant

    RoleGrant.objects.create(user=cast.office_director, role=Role.AGENCY_ADMIN, agency=cast.gov_office)
    with pytest.raises(RegistryError, match="只有系统管理员可以设置免授权确认"):
        register(cast.office_director, cast.gov_office, skip_consent=True)
    with pytest.raises(RegistryError, match="只有系统管理员可以授权读取"):
        register(cast.office_director, cast.gov_office, data_agencies=[cast.finance])
    app = register(cast.office_director, cast.gov_office, data_agencies=[cast.gov_office]).app
    # What the platform granted stays when the agency edits the rest.
    services.update_app(
        cast.system_admin, app, data_agencies=[cast.gov_office, cast.finance], skip_consent=True
    )
    services.update_app(
        cast.office_director,
        app,
        name="审批",
        data_agencies=[cast.gov_office, cast.finance],
        skip_consent=True,
    )
    app.refresh_from_db()
    assert app.name == "审批" and app.skip_consent

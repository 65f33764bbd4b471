"""What every API call goes through: the token, the app's status and scopes, the rate limit, the
error format and the audit row."""

from __future__ import annotations

from typing import Any

import pytest

from officeapp.audit.models import AuditEvent
from officeapp.integration.models import AppStatus

pytestmark = pytest.mark.django_db


def test_an_app_token_calls_as_the_app_and_a_user_token_as_the_user(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office, scopes=["directory.read"])

    as_app = api("GET", "/api/v1/me", token=token_for(app, scopes="directory.read")).json()
    as_user = api(
        "GET", "/api/v1/me", token=token_for(app, user=cast.drafter, scopes="openid directory.read")
    ).json()

    assert as_app == {"app": {"id": app.pk, "name": app.name}, "user": None, "scopes": ["directory.read"]}
    assert as_user["user"] == {"id": cast.drafter.pk, "username": cast.drafter.username}
    assert as_user["scopes"] == ["directory.read", "openid"]


def test_no_token_a_wrong_token_and_an_expired_token_are_401_with_a_chinese_message(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office)

    missing = api("GET", "/api/v1/me")
    wrong = api("GET", "/api/v1/me", token="not-a-token")
    expired = api("GET", "/api/v1/me", token=token_for(app, minutes=-1))

    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("缺少访问令牌")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for response in (wrong, expired):
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "访问令牌无效或已过期。"


def test_a_suspended_apps_tokens_stop_working_at_once(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office)
    token = token_for(app)
    assert api("GET", "/api/v1/me", token=token).status_code == 200

    app.status = AppStatus.SUSPENDED
    app.save()

    response = api("GET", "/api/v1/me", token=token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "该应用已停用。"


def test_a_scope_withdrawn_from_the_app_no_longer_counts_on_old_tokens(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office, scopes=["directory.read", "documents.read"])
    token = token_for(app, scopes="directory.read documents.read")

    app.scopes = ["directory.read"]
    app.save()

    assert api("GET", "/api/v1/me", token=token).json()["scopes"] == ["directory.read"]


def test_a_user_token_of_a_disabled_user_is_refused(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office)
    token = token_for(app, user=cast.outsider, scopes="openid")
    cast.outsider.is_active = False
    cast.outsider.save()

    assert api("GET", "/api/v1/me", token=token).status_code == 401


def test_over_the_apps_rate_limit_it_gets_429_with_retry_after(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office, rate_limit_per_minute=3)
    other = make_app(cast.finance, name="财务系统", rate_limit_per_minute=3)
    token, other_token = token_for(app), token_for(other)

    codes = [api("GET", "/api/v1/me", token=token).status_code for _ in range(4)]
    refused = api("GET", "/api/v1/me", token=token)

    assert codes == [200, 200, 200, 429]
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "throttled"
    assert "请" in refused.json()["error"]["message"]
    # another app has its own budget
    assert api("GET", "/api/v1/me", token=other_token).status_code == 200


def test_each_call_is_audited_with_the_app_as_actor(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office)

    api("GET", "/api/v1/me", token=token_for(app))
    api("GET", "/api/v1/me", token=token_for(app, user=cast.drafter, scopes="openid"))

    events = list(AuditEvent.objects.filter(action="api.call").order_by("id"))
    assert [e.actor_label for e in events] == [f"应用：{app.name}", f"{cast.drafter}（经应用：{app.name}）"]
    assert events[1].actor == cast.drafter
    assert all(e.object_id == str(app.pk) and e.details["status"] == 200 for e in events)
    assert {e.chain for e in events} == {f"app:{app.pk}"}


def test_the_openapi_schema_describes_the_api(client: Any) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/me" in response.json()["paths"]


def test_a_nul_character_in_the_path_is_answered_and_audited_without_it(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office, scopes=["todos.write"])

    response = api("GET", "/api/v1/todos/%00/", token=token_for(app, scopes="todos.write"))

    assert response.status_code == 404
    event = AuditEvent.objects.filter(action="api.call").latest("id")
    assert "\x00" not in event.details["path"]


def test_a_mangled_cursor_is_a_bad_request_and_an_unknown_api_path_is_json(
    cast: Any, make_app: Any, token_for: Any, api: Any
) -> None:
    app = make_app(cast.gov_office, scopes=["documents.read"])
    token = token_for(app, scopes="documents.read")

    mangled = api("GET", "/api/v1/documents/?cursor=not-a-cursor", token=token)
    unknown = api("GET", "/api/v1/no-such-thing/", token=token)

    assert mangled.status_code == 400
    assert mangled.json()["error"]["message"] == "翻页游标无效，请从第一页重新获取。"
    assert unknown.status_code == 404
    assert unknown.json() == {"error": {"code": "not_found", "message": "对象不存在或无权访问。"}}

"""/api/v1/webhooks/: an app manages its own subscriptions with scope webhooks.manage."""

from __future__ import annotations

from typing import Any

import pytest

from officeapp.audit.models import AuditEvent
from officeapp.integration.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

SCOPE = "webhooks.manage"
BASE = "/api/v1/webhooks"


@pytest.fixture
def app(cast: Any, make_app: Any) -> Any:
    return make_app(cast.gov_office, scopes=[SCOPE])


@pytest.fixture
def token(app: Any, token_for: Any) -> str:
    return token_for(app, scopes=SCOPE)


def _delivery(
    sub: WebhookSubscription, status: str = DeliveryStatus.FAILED, event_id: int = 1
) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=sub, event_type="user.created", event_id=event_id, payload={}, status=status, attempts=7
    )


def test_an_app_creates_a_subscription_and_gets_its_secret_once(api, app, token):
    response = api(
        "post",
        f"{BASE}/subscriptions/",
        token=token,
        json={"url": "https://hr.example.test/hook", "events": ["user.created", "user.disabled"]},
    )

    assert response.status_code == 201
    body = response.json()
    sub = WebhookSubscription.objects.get(pk=body["id"])
    assert sub.app == app and body["secret"] == sub.secret and body["secret"].startswith("whsec_")
    assert body["events"] == ["user.created", "user.disabled"]
    listed = api("get", f"{BASE}/subscriptions/", token=token).json()
    assert [s["id"] for s in listed["results"]] == [sub.pk]
    assert "secret" not in listed["results"][0]
    assert AuditEvent.objects.filter(action="integration.webhook.subscribe", object_id=str(sub.pk)).exists()


def test_a_malformed_subscription_is_a_400_naming_the_field(api, token):
    response = api("post", f"{BASE}/subscriptions/", token=token, json={"url": "ftp://x", "events": ["nope"]})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and {"url", "events"} <= set(error["fields"])
    assert not WebhookSubscription.objects.exists()


def test_an_app_deletes_its_own_subscription_but_gets_404_for_anothers(api, cast, make_app, app, token):
    own = WebhookSubscription.objects.create(
        app=app, url="https://a.test/h", secret="s", events=["user.created"]
    )
    other_app = make_app(cast.finance, name="财务系统")
    other = WebhookSubscription.objects.create(
        app=other_app, url="https://b.test/h", secret="s", events=["user.created"]
    )

    assert api("delete", f"{BASE}/subscriptions/{other.pk}/", token=token).status_code == 404
    assert api("get", f"{BASE}/subscriptions/{other.pk}/", token=token).json()["error"]["code"] == "not_found"
    assert api("delete", f"{BASE}/subscriptions/{own.pk}/", token=token).status_code == 204
    assert list(WebhookSubscription.objects.all()) == [other]


def test_an_app_lists_its_deliveries_filtered_by_status_and_replays_a_failed_one(
    api, cast, make_app, app, token
):
    sub = WebhookSubscription.objects.create(
        app=app, url="https://a.test/h", secret="s", events=["user.created"]
    )
    failed = _delivery(sub, DeliveryStatus.FAILED, 1)
    _delivery(sub, DeliveryStatus.SUCCEEDED, 2)
    other_sub = WebhookSubscription.objects.create(
        app=make_app(cast.finance, name="财务系统"),
        url="https://b.test/h",
        secret="s",
        events=["user.created"],
    )
    foreign = _delivery(other_sub, DeliveryStatus.FAILED, 1)

    listed = api("get", f"{BASE}/deliveries/?status=failed", token=token).json()["results"]
    assert [d["id"] for d in listed] == [failed.pk]
    assert api("get", f"{BASE}/deliveries/?status=nope", token=token).status_code == 400

    assert api("post", f"{BASE}/deliveries/{foreign.pk}/replay/", token=token).status_code == 404
    response = api("post", f"{BASE}/deliveries/{failed.pk}/replay/", token=token)
    assert response.status_code == 202 and response.json()["status"] == "pending"
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING and failed.attempts == 0
    again = api("post", f"{BASE}/deliveries/{failed.pk}/replay/", token=token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_without_the_scope_the_app_gets_403_with_its_label(api, app, token_for):
    token = token_for(app, scopes="directory.read")
    response = api("get", f"{BASE}/subscriptions/", token=token)
    assert response.status_code == 403
    assert "管理事件订阅" in response.json()["error"]["message"]


def test_a_user_token_may_not_manage_the_apps_subscriptions(api, cast, app, token_for):
    token = token_for(app, user=cast.system_admin, scopes=SCOPE)
    response = api("get", f"{BASE}/subscriptions/", token=token)
    assert response.status_code == 403
    assert "应用自身" in response.json()["error"]["message"]


def test_no_token_is_401(api):
    assert api("get", f"{BASE}/deliveries/").status_code == 401

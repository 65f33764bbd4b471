"""Permission-matrix entries for the 事件订阅 pages (officeapp/integration/webhook_urls.py).

Only who manages the app reaches them: in the cast that is the province-wide 系统管理员 (no one holds
单位管理员). Everyone else signed in manages no app at all: 403 (the wrong role); a 单位管理员 of
another agency would get the 404 of a missing app (tests/integration/test_webhooks_pages.py).
`app_id` is the 省府办公厅's app (the integration area's, when it names one), `subscription_id` its
subscription and `delivery_id` a failed delivery of it.
"""

from __future__ import annotations

from typing import Any

MANAGER = {"anonymous": 302, "*": 403, "system_admin": 200}
TOKEN_ONLY = {"anonymous": 401, "*": 401}
MANAGER_REDIRECT = {"anonymous": 302, "*": 403, "system_admin": 302}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "webhooks:app": ("get", MANAGER),
    # An empty form: re-rendered with its errors.
    "webhooks:subscribe": ("post", {"anonymous": 302, "*": 403, "system_admin": 400}),
    # The new secret's page.
    "webhooks:rotate": ("post", MANAGER),
    "webhooks:pause": ("post", MANAGER_REDIRECT),
    "webhooks:resume": ("post", MANAGER_REDIRECT),
    "webhooks:delete": ("post", MANAGER_REDIRECT),
    "webhooks:deliveries": ("get", MANAGER),
    "webhooks:delivery": ("get", MANAGER),
    "webhooks:replay": ("post", MANAGER_REDIRECT),
    # The apps' own API answers bearer tokens only (tests/integration/test_webhooks_api.py).
    "api:webhooks:subscriptions": ("get", TOKEN_ONLY),
    "api:webhooks:subscription": ("get", TOKEN_ONLY),
    "api:webhooks:deliveries": ("get", TOKEN_ONLY),
    "api:webhooks:replay": ("post", TOKEN_ONLY),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from officeapp.integration.models import App, DeliveryStatus, WebhookDelivery, WebhookSubscription

    found: dict[str, Any] = {}
    app = App.objects.filter(pk=existing.get("app_id")).first()
    if app is None:
        app = App.objects.create(
            name="行政审批系统", url="https://app.example.test/", owner_agency=cast.gov_office
        )
        found["app_id"] = app.pk
    subscription = WebhookSubscription.objects.create(
        app=app, url="https://app.example.test/hook", secret="whsec_matrix", events=["user.created"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="user.created",
        event_id=1,
        payload={"event": "user.created", "id": 1},
        status=DeliveryStatus.FAILED,
        attempts=7,
    )
    return {**found, "subscription_id": subscription.pk, "delivery_id": delivery.pk}

"""事件订阅 pages: who manages the app adds, pauses, rotates, deletes and replays; others get 403/404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from officeapp.audit.models import AuditEvent
from officeapp.integration.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from officeapp.org import services as org
from officeapp.org.models import Role


@pytest.fixture
def app(cast: Any, make_app: Any) -> Any:
    return make_app(cast.gov_office)


@pytest.fixture
def admin(cast: Any, sign_in_verified: Any) -> Any:
    return sign_in_verified(cast.system_admin)


def _sub(app: Any, **fields: Any) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        app=app, url="https://hr.example.test/hook", secret="whsec_old", events=["user.created"], **fields
    )


def test_the_manager_adds_a_subscription_and_sees_the_secret_once(admin, app):
    url = reverse("webhooks:subscribe", args=[app.pk])
    response = admin.post(
        url, {"url": "https://hr.example.test/hook", "events": ["user.created", "department.changed"]}
    )

    assert response.status_code == 200
    sub = WebhookSubscription.objects.get(app=app)
    assert sub.events == ["user.created", "department.changed"]
    assert sub.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    page = admin.get(reverse("webhooks:app", args=[app.pk])).content.decode()
    assert "https://hr.example.test/hook" in page and sub.secret not in page
    event = AuditEvent.objects.get(action="integration.webhook.subscribe", object_id=str(sub.pk))
    assert event.actor.username == "system_admin" and sub.secret not in str(event.details)


def test_an_invalid_subscription_form_is_shown_again_with_what_was_typed(admin, app):
    response = admin.post(reverse("webhooks:subscribe", args=[app.pk]), {"url": "not a url", "events": []})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="not a url"' in page
    assert "请输入有效的网址" in page and "请至少选择一个事件" in page
    assert not WebhookSubscription.objects.exists()


def test_the_manager_pauses_resumes_rotates_and_deletes(admin, app):
    sub = _sub(app)

    admin.post(reverse("webhooks:pause", args=[app.pk, sub.pk]))
    sub.refresh_from_db()
    assert sub.is_active is False
    admin.post(reverse("webhooks:resume", args=[app.pk, sub.pk]))
    sub.refresh_from_db()
    assert sub.is_active is True

    response = admin.post(reverse("webhooks:rotate", args=[app.pk, sub.pk]))
    sub.refresh_from_db()
    assert sub.secret != "whsec_old" and sub.secret in response.content.decode()

    admin.post(reverse("webhooks:delete", args=[app.pk, sub.pk]))
    assert not WebhookSubscription.objects.filter(pk=sub.pk).exists()
    actions = set(
        AuditEvent.objects.filter(action__startswith="integration.webhook.").values_list("action", flat=True)
    )
    assert {
        "integration.webhook.pause",
        "integration.webhook.resume",
        "integration.webhook.rotate_secret",
        "integration.webhook.unsubscribe",
    } <= actions


def test_deliveries_filter_by_status_and_a_failed_one_is_replayed_with_an_audit_event(admin, cast, app):
    sub = _sub(app)
    failed = WebhookDelivery.objects.create(
        subscription=sub,
        event_type="user.created",
        event_id=11,
        status=DeliveryStatus.FAILED,
        attempts=7,
        last_error="接收方返回 HTTP 500",
    )
    WebhookDelivery.objects.create(
        subscription=sub, event_type="user.created", event_id=12, status=DeliveryStatus.SUCCEEDED
    )

    page = admin.get(reverse("webhooks:deliveries", args=[app.pk]) + "?status=failed").content.decode()
    assert f"#{failed.pk}<" in page and "接收方返回 HTTP 500" in page
    assert f"#{failed.pk + 1}<" not in page
    assert "重新投递" in admin.get(reverse("webhooks:delivery", args=[app.pk, failed.pk])).content.decode()

    response = admin.post(reverse("webhooks:replay", args=[app.pk, failed.pk]))

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING
    event = AuditEvent.objects.get(action="integration.webhook.replay")
    assert event.actor == cast.system_admin and event.object_id == str(failed.pk)


def test_an_agency_admin_manages_their_agencys_app_and_gets_404_for_anothers(cast, make_app, sign_in, app):
    org.grant_role(actor=None, user=cast.other_clerk, role=Role.AGENCY_ADMIN, agency=cast.finance)
    own = make_app(cast.finance, name="财务系统")
    client = sign_in(cast.other_clerk)

    assert client.get(reverse("webhooks:app", args=[own.pk])).status_code == 200
    assert client.get(reverse("webhooks:app", args=[app.pk])).status_code == 404
    sub = _sub(app)
    assert client.post(reverse("webhooks:delete", args=[app.pk, sub.pk])).status_code == 404
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists()
    # Another app's subscription under one's own app's URL: the same 404.
    assert client.post(reverse("webhooks:delete", args=[own.pk, sub.pk])).status_code == 404


def test_someone_who_manages_no_app_gets_403(cast, sign_in, app):
    client = sign_in(cast.drafter)
    assert client.get(reverse("webhooks:app", args=[app.pk])).status_code == 403

"""Webhook verbs: subscribe, unsubscribe, rotate a subscription's secret, pause/resume, replay a delivery.

Each checks who acts (a user who manages the app — officeapp.integration.access.can_manage — or the app
itself through the API with scope webhooks.manage), writes, audits and emits an outbox row, in one
transaction. Audit details hold ids, URLs' hosts and event keys, never the secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from officeapp.audit.models import AuditEvent
from officeapp.audit.services import record
from officeapp.integration.access import can_manage
from officeapp.integration.events import EVENTS
from officeapp.integration.models import App, DeliveryStatus, WebhookDelivery, WebhookSubscription
from officeapp.outbox.services import emit

MAX_SUBSCRIPTIONS_PER_APP = 20
SECRET_BYTES = 32
REPLAY_ACTION = "integration.webhook.replay"


class WebhookError(ValidationError):
    """A refused webhook change, with a message for the user (Chinese)."""


@dataclass(frozen=True)
class Acting:
    """Who acts: a user managing the app (pages), or the app itself (API; user None)."""

    user: Any | None
    app: App | None = None

    @property
    def label(self) -> str:
        return f"应用：{self.app.name}" if self.user is None and self.app is not None else ""


def _check(acting: Acting, app: App) -> None:
    if acting.user is None:
        if acting.app is None or acting.app.pk != app.pk:
            raise PermissionDenied("只能管理本应用的事件订阅。")
    elif not can_manage(acting.user, app):
        raise PermissionDenied("无权管理该应用的事件订阅。")


def _record(action: str, acting: Acting, app: App, obj: Any, details: dict[str, Any]) -> None:
    record(
        action,
        actor=acting.user,
        actor_label=acting.label,
        obj=obj,
        details={"app": app.pk, **details},
        chain=f"app:{app.pk}" if acting.user is None else "",
    )


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(SECRET_BYTES)


def clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookError("接收地址须为以 http:// 或 https:// 开头的有效网址。") from None
    if urlsplit(url).username or urlsplit(url).password:
        raise WebhookError("接收地址中不能包含用户名或密码。")
    return url


def clean_events(events: list[str] | None) -> list[str]:
    chosen = [key for key in EVENTS if key in set(events or [])]
    unknown = sorted(set(events or []) - set(EVENTS))
    if unknown:
        raise WebhookError(f"未知的事件：{'、'.join(unknown)}。")
    if not chosen:
        raise WebhookError("请至少选择一个事件。")
    return chosen


@transaction.atomic
def subscribe(app: App, *, acting: Acting, url: str, events: list[str]) -> tuple[WebhookSubscription, str]:
    """订阅: a new subscription with a fresh secret, returned once (shown to the user only now)."""
    _check(acting, app)
    url = clean_url(url)
    events = clean_events(events)
    if WebhookSubscription.objects.filter(app=app).count() >= MAX_SUBSCRIPTIONS_PER_APP:
        raise WebhookError(f"每个应用最多 {MAX_SUBSCRIPTIONS_PER_APP} 个订阅。")
    secret = new_secret()
    subscription = WebhookSubscription.objects.create(app=app, url=url, secret=secret, events=events)
    details = {"host": urlsplit(url).hostname, "events": events}
    _record("integration.webhook.subscribe", acting, app, subscription, details)
    emit("integration.webhook.subscribed", subscription, payload={"app": app.pk, "events": events})
    return subscription, secret


@transaction.atomic
def unsubscribe(subscription: WebhookSubscription, *, acting: Acting) -> None:
    """取消订阅: the subscription and its delivery records go; nothing more is sent to it."""
    app = subscription.app
    _check(acting, app)
    pk = subscription.pk
    _record("integration.webhook.unsubscribe", acting, app, subscription, {"events": subscription.events})
    emit("integration.webhook.unsubscribed", object_type="integration.webhooksubscription", object_id=pk)
    subscription.delete()


@transaction.atomic
def rotate_webhook_secret(subscription: WebhookSubscription, *, acting: Acting) -> str:
    """更换密钥: later attempts are signed with the new secret at once; returned once."""
    _check(acting, subscription.app)
    secret = new_secret()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret)
    subscription.secret = secret
    _record("integration.webhook.rotate_secret", acting, subscription.app, subscription, {})
    emit("integration.webhook.secret_rotated", subscription, payload={"app": subscription.app_id})
    return secret


@transaction.atomic
def set_subscription_active(subscription: WebhookSubscription, *, acting: Acting, active: bool) -> None:
    """暂停/恢复: a paused subscription keeps recording deliveries; they are sent once it resumes."""
    _check(acting, subscription.app)
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.is_active = active
    if locked.is_active == active:
        return
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=active)
    action = "resume" if active else "pause"
    _record(f"integration.webhook.{action}", acting, subscription.app, subscription, {})
    emit(f"integration.webhook.{action}d", subscription, payload={"app": subscription.app_id})


@transaction.atomic
def replay(delivery: WebhookDelivery, *, acting: Acting) -> WebhookDelivery:
    """重新投递: a succeeded or failed delivery goes back to pending, due now, with a fresh run of
    retries; its earlier attempts stay on record. The same event id is sent (receivers deduplicate)."""
    app = delivery.subscription.app
    _check(acting, app)
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status == DeliveryStatus.PENDING:
        raise WebhookError("该投递正在等待发送，无需重新投递。")
    previous = locked.status
    locked.status = DeliveryStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.delivered_at = None
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    _record(REPLAY_ACTION, acting, app, locked, {"previous": previous, "event_id": locked.event_id})
    emit("integration.webhook.replayed", locked, payload={"app": app.pk, "event_id": locked.event_id})
    return locked


def replayed_by(delivery: WebhookDelivery) -> Any | None:
    """The user whose 重新投递 asked for this (first) attempt, if any (read from the audit log)."""
    event = (
        AuditEvent.objects.filter(
            action=REPLAY_ACTION, object_type=WebhookDelivery._meta.label_lower, object_id=str(delivery.pk)
        )
        .order_by("-id")
        .select_related("actor")
        .first()
    )
    return event.actor if event is not None else None

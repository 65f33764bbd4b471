"""The integration platform's records: registered apps, their webhook subscriptions and deliveries.

An `App` is an agency's business system (行政审批, 财务 …) registered with the platform. It is two OAuth2
clients of our provider (django-oauth-toolkit's `Application`, one row each, created and rotated only by
officeapp.integration.services): `sso_client` signs users in to the app (authorization code + PKCE,
OpenID Connect), `service_client` lets the app call the API as itself (client credentials). The rest —
who sees it in the 工作台 launcher, which scopes and whose data it may read, its status — is ours.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from officeapp.org.models import Agency, Department


class AppStatus(models.TextChoices):
    ACTIVE = "active", "启用"
    # Suspended at once: tokens stop working on the next call, the launcher hides it, no deliveries.
    SUSPENDED = "suspended", "已停用"


class App(models.Model):
    name = models.CharField("名称", max_length=60)
    # A character or emoji shown in the launcher tile (no icon files to fetch), as AppLink had.
    icon = models.CharField("图标文字", max_length=8, blank=True)
    description = models.CharField("简介", max_length=300, blank=True)
    url = models.URLField("访问地址", max_length=500, help_text="工作台中点击应用时打开的地址")
    owner_agency = models.ForeignKey(
        Agency, verbose_name="所属机关", on_delete=models.PROTECT, related_name="apps"
    )
    status = models.CharField("状态", max_length=12, choices=AppStatus.choices, default=AppStatus.ACTIVE)
    # Who sees it in the launcher. All empty: everyone in the owner agency.
    visible_agencies = models.ManyToManyField(Agency, verbose_name="可见机关", blank=True, related_name="+")
    visible_departments = models.ManyToManyField(
        Department, verbose_name="可见部门", blank=True, related_name="+"
    )
    visible_roles = models.JSONField("可见角色", default=list, blank=True)
    # API scopes granted (keys of settings.API_SCOPES); OIDC scopes are always allowed for sign-in.
    scopes = models.JSONField("授权范围", default=list, blank=True)
    # Whose records the app reads with its own token (as a 收发员 of these agencies would). Empty: the owner.
    data_agencies = models.ManyToManyField(Agency, verbose_name="数据范围", blank=True, related_name="+")
    # Users are asked to consent once per scope set unless the app is trusted by the platform.
    skip_consent = models.BooleanField("免授权确认", default=False)
    rate_limit_per_minute = models.PositiveIntegerField("每分钟调用上限", null=True, blank=True)
    sso_client = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sso_app",
    )
    service_client = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_app",
    )
    sort_order = models.PositiveIntegerField("排序", default=0)
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "应用"
        verbose_name_plural = "应用"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == AppStatus.ACTIVE

    def reading_agency_ids(self) -> list[int]:
        """The agencies whose records the app reads with its own token, as their 收发员 would: its
        data agencies (数据范围), or its owner agency when none are set. One rule for every API."""
        return list(self.data_agencies.values_list("pk", flat=True)) or [self.owner_agency_id]


class WebhookSubscription(models.Model):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("接收地址", max_length=500)
    # Signs each delivery (HMAC-SHA256). Kept readable: the platform must sign with it; shown once.
    secret = models.CharField(max_length=128)
    events = models.JSONField("订阅事件", default=list)  # keys of officeapp.integration.events.EVENTS
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "事件订阅"
        verbose_name_plural = "事件订阅"

    def __str__(self) -> str:
        return f"{self.app} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待投递"
    SUCCEEDED = "succeeded", "已送达"
    FAILED = "failed", "投递失败"


class WebhookDelivery(models.Model):
    """One event for one subscription. Created in the transaction that advances the "webhooks" outbox
    cursor (so exactly once per event), sent by the worker with retries and backoff."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    event_id = models.BigIntegerField()  # the outbox row's id: the receiver's idempotency key
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "事件投递"
        verbose_name_plural = "事件投递"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once"),
        ]
        indexes = [
            # The worker's scan: due pending deliveries, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type}#{self.event_id} → {self.subscription_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    # Who asked for this attempt: the schedule, or the app's owner replaying it by hand.
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.started_at:%Y-%m-%d %H:%M:%S}"

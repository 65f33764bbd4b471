"""Persisted notifications: what a user was told, whether they read it, and how an urgent one
reached them when they were not online."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Urgency(models.TextChoices):
    NORMAL = "normal", "普通"
    URGENT = "urgent", "紧急"


class OfflineChannel(models.TextChoices):
    SMS = "sms", "短信"
    EMAIL = "email", "邮件"
    # The user was online when the worker looked: the socket carried it, nothing else was sent.
    SOCKET = "socket", "在线推送"
    # Neither a mobile number nor an email address: nothing could be sent.
    NONE = "none", "无可用渠道"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField("类别", max_length=64)
    title = models.CharField("标题", max_length=200)
    # Short on purpose: a notification points at the object (url); it never carries document text.
    body = models.CharField("摘要", max_length=500, blank=True)
    url = models.CharField("链接", max_length=500, blank=True)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    # Set once by the worker for urgent items (the idempotency marker of the offline delivery task).
    offline_channel = models.CharField("离线渠道", max_length=8, choices=OfflineChannel.choices, blank=True)
    offline_sent_at = models.DateTimeField("离线发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-id"]
        indexes = [
            # The bell and the "未读" list: a user's unread rows, newest first. Partial, so it stays as
            # small as the unread backlog however many read rows a user accumulates.
            models.Index(
                fields=["recipient", "-id"], condition=Q(read_at__isnull=True), name="notify_unread_idx"
            ),
            # The full list (newest first) and the reconnect replay "id > N for this user" (ascending).
            models.Index(fields=["recipient", "id"], name="notify_recipient_id_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def as_frame(self) -> dict[str, object]:
        """What the socket sends for this row (and what the relay and the replay send)."""
        return {
            "type": "notification",
            "id": self.pk,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "urgency": str(self.urgency),
            "created_at": self.created_at.isoformat(),
            "read": self.read_at is not None,
        }

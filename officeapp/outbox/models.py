"""The transactional outbox: rows written in the same transaction as the change they describe."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    topic = models.CharField(max_length=64, db_index=True)  # e.g. "org.user.changed"
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "发件箱事件"
        verbose_name_plural = "发件箱事件"
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="outbox_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic} {self.object_type}:{self.object_id}"


class OutboxCursor(models.Model):
    """A consumer's position. `pending_gaps` holds ids not yet seen (their transactions had not
    committed when later ids became visible) as [[low, high, first_seen_epoch], ...] ranges; they are
    re-checked until they appear or age out, so a slow transaction is never skipped.

    `failures`/`retry_at` give a failing consumer backoff without touching the other consumers."""

    consumer = models.CharField(max_length=64, unique=True)
    last_id = models.BigIntegerField(default=0)
    pending_gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "发件箱游标"
        verbose_name_plural = "发件箱游标"

    def __str__(self) -> str:
        return f"{self.consumer} @ {self.last_id}"

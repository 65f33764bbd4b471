"""Worker bookkeeping: idempotency keys of finished tasks and liveness heartbeats."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TaskRun(models.Model):
    """A task whose effect has been committed under `key`. It is written in the same transaction as
    the effect, so a retried or duplicated task with the same key finds it and does nothing."""

    key = models.CharField(max_length=200, unique=True)
    task = models.CharField(max_length=200)
    finished_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "已完成任务"
        verbose_name_plural = "已完成任务"

    def __str__(self) -> str:
        return self.key


class WorkerHeartbeat(models.Model):
    """Last sign of life of a background process: "ticker" (the sub-minute scheduler) and "queue"
    (a task that went through the django-q queue and a worker). The health check reads these."""

    name = models.CharField(max_length=32, unique=True)
    beat_at = models.DateTimeField()
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "后台心跳"
        verbose_name_plural = "后台心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"

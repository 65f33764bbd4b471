"""External to-dos: the to-dos an agency's registered business system (an integration `App`) pushes
into a user's unified inbox through /api/v1/todos/ (workflows/api_todos.py, services in
workflows/external_todos.py, the inbox source in workflows/inbox_external.py).

The app names its own item (`external_id`, unique per app), so a retried or repeated push updates
the same row instead of adding another. The link opens the app's own page (in a new tab); the row
here only says what to do, for whom, how urgent and by when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from documents.models import Urgency


class ExternalTodoStatus(models.TextChoices):
    OPEN = "open", "待办"
    DONE = "done", "已办"
    CANCELLED = "cancelled", "已撤销"


class ExternalTodo(models.Model):
    app = models.ForeignKey(
        "integration.App", verbose_name="应用", on_delete=models.CASCADE, related_name="todos"
    )
    # The app's own id of the item: its idempotency key.
    external_id = models.CharField("应用内编号", max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办理人",
        on_delete=models.CASCADE,
        related_name="external_todos",
    )
    title = models.CharField("标题", max_length=200)
    url = models.URLField("链接", max_length=500)
    urgency = models.CharField("紧急程度", max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    deadline = models.DateTimeField("办理时限", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=ExternalTodoStatus.choices, default=ExternalTodoStatus.OPEN
    )
    created_at = models.DateTimeField("推送时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "外部待办"
        verbose_name_plural = "外部待办"
        constraints = [
            models.UniqueConstraint(fields=["app", "external_id"], name="external_todo_app_item_unique"),
        ]
        indexes = [
            # 待办: a user's open to-dos, newest first (the inbox's order), and by deadline.
            models.Index(
                fields=["user", "-created_at", "-id"],
                condition=Q(status="open"),
                name="external_todo_open_idx",
            ),
            models.Index(
                fields=["user", "deadline"],
                condition=Q(status="open"),
                name="ext_todo_open_deadline_idx",
            ),
            # 已办: a user's completed to-dos, most recently completed first.
            models.Index(
                fields=["user", "-completed_at", "-id"],
                condition=Q(status="done"),
                name="external_todo_done_idx",
            ),
            # The app's own list (GET /api/v1/todos/?status=), by id.
            models.Index(fields=["app", "status", "id"], name="ext_todo_app_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.app_id}:{self.external_id}"

    @property
    def is_open(self) -> bool:
        return self.status == ExternalTodoStatus.OPEN

"""催办 and deadlines: each open task's 办理时限, manual 催办, and the worker's reminder scan.

A task with a deadline gets a `TaskDue` row when it is created (any flow), so the scan reads one
indexed date range.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflows.models import TaskDue


def set_task_due(task: Any, due_on: date | None) -> None:
    """Record (or move) the task's 办理时限; no deadline, no row."""
    if due_on is None:
        TaskDue.objects.filter(task_id=task.pk).delete()
        return
    TaskDue.objects.update_or_create(task_id=task.pk, defaults={"due_on": due_on})

"""The unified inbox's first source: the viewflow tasks of a user (待办 and 已办).

Registered as "workflows" in `officeapp.registries.inbox_sources` from WorkflowsConfig.ready().

The inbox source protocol (read by the workbench, officeapp/workbench/tiles.py; every source, this
one, later apps' and external to-dos, offers the same):

    class InboxSource:
        key: str                                  # registry key, e.g. "workflows"
        label: str                                # shown to users, e.g. "公文流转"
        def to_do(self, user) -> QuerySet | list  # 待办, newest first
        def to_do_count(self, user) -> int        # number of 待办, capped at COUNT_CAP
        def done(self, user) -> QuerySet | list   # 已办, most recently finished first
        def done_count(self, user) -> int         # number of 已办, capped at COUNT_CAP

Each item of a list has `title` (str), `url` (a path on this site, "" when the task has no page
yet), `created` (datetime, when the task was created), `when` (the datetime the list is ordered by:
created for 待办, finished for 已办), `urgency` ("normal" unless the flow set the 紧急程度 of the
task's data), `meta` (a short line: the flow's name) and `source` (the source's key).

`to_do()` and `done()` return a lazy queryset that yields those items (not Task rows), so a caller
slices it (`[:5]`) and, if it likes, annotates it (a window count, as the workbench's tiles do) and
it costs one query; no item costs a query of its own.

Both lists hold at most the newest COUNT_CAP tasks, and both counts stop at COUNT_CAP: counting (or
window-counting) a user's million old tasks would make the workbench slower the longer someone
works, and "1000+" says all a person needs; a caller shows "1000+" when a count reaches the cap.
The full lists, for a paged 待办/已办 page with filters, are `open_tasks(user)` and
`done_tasks(user)`. The queries run on two partial indexes (workflows/migrations/0001_inbox_indexes.py):
(owner, created) over open tasks and (owner, finished) over done ones, so a list's first page and its
capped count read at most COUNT_CAP index entries at any table size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.urls import NoReverseMatch
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

# Counts stop here; a caller shows "1000+" when a count reaches it.
COUNT_CAP = 1000

CLOSED_STATUSES: tuple[str, ...] = (STATUS.DONE, STATUS.CANCELED)


@dataclass
class InboxItem:
    """One line of the inbox. Not frozen: a caller's annotations (a window count) ride along."""

    title: str
    url: str
    created: datetime
    when: datetime | None
    urgency: str = "normal"
    meta: str = ""
    source: str = "workflows"


def _task_title(task: Task) -> str:
    # A flow puts the subject (e.g. the document's title) on the task's data; else the node's title.
    data = task.data if isinstance(task.data, dict) else {}
    title = data.get("title")
    if title:
        return str(title)
    node = task.flow_task
    if node is not None:
        node_title = getattr(node, "task_title", "") or str(node)
        flow_title = getattr(node.flow_class, "process_title", "")
        return f"{flow_title}·{node_title}" if flow_title else str(node_title)
    return "待办事项"


def _task_url(task: Task) -> str:
    data = task.data if isinstance(task.data, dict) else {}
    if data.get("url"):
        return str(data["url"])
    if task.flow_task is None:
        return ""
    try:
        return task.reverse("index")
    except (NoReverseMatch, AttributeError, ValueError):
        # A flow whose views are not mounted (yet) has no page for the task.
        return ""


def item_for_task(task: Task) -> InboxItem:
    data = task.data if isinstance(task.data, dict) else {}
    node = task.flow_task
    meta = str(getattr(node.flow_class, "process_title", "")) if node is not None else ""
    when = task.finished if task.status == STATUS.DONE else task.created
    return InboxItem(
        title=_task_title(task),
        url=_task_url(task),
        created=task.created,
        when=when,
        urgency=str(data.get("urgency") or "normal"),
        meta=meta,
    )


class InboxItemIterable(ModelIterable):
    """Yields InboxItems instead of Tasks, carrying over the queryset's annotations."""

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        names = list(self.queryset.query.annotation_select)
        for task in super().__iter__():
            item = item_for_task(task)
            for name in names:
                setattr(item, name, getattr(task, name, None))
            yield item


class InboxQuerySet(QuerySet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._iterable_class = InboxItemIterable


# Only the columns an item needs: a task row's other columns (token, permissions …) stay on disk.
_ITEM_FIELDS = ("id", "process", "flow_task", "status", "created", "finished", "data")


def open_tasks(user: Any) -> QuerySet[Task]:
    """The user's open viewflow tasks, newest first (the partial index's order)."""
    return (
        Task.objects.filter(owner_id=user.pk).exclude(status__in=CLOSED_STATUSES).order_by("-created", "-id")
    )


def done_tasks(user: Any) -> QuerySet[Task]:
    return Task.objects.filter(owner_id=user.pk, status=STATUS.DONE).order_by("-finished", "-id")


def _capped_count(queryset: QuerySet[Task]) -> int:
    # COUNT over a LIMIT subquery: stops after COUNT_CAP index entries.
    return queryset.order_by()[:COUNT_CAP].count()


class WorkflowTasksSource:
    """待办 / 已办 from viewflow: tasks owned by the user."""

    key = "workflows"
    label = "公文流转"

    def _items(self, queryset: QuerySet[Task]) -> InboxQuerySet:
        # The newest COUNT_CAP ids (an index range scan), then the items in the same order: whatever
        # a caller adds (a window count) works on at most COUNT_CAP rows.
        newest = queryset.values("pk")[:COUNT_CAP]
        bounded = Task.objects.filter(pk__in=newest).order_by(*queryset.query.order_by)
        return InboxQuerySet(model=Task, query=bounded.only(*_ITEM_FIELDS).query)

    def to_do(self, user: Any) -> InboxQuerySet:
        if not getattr(user, "is_authenticated", False):
            return InboxQuerySet(model=Task).none()
        return self._items(open_tasks(user))

    def to_do_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return _capped_count(open_tasks(user))

    def done(self, user: Any) -> InboxQuerySet:
        if not getattr(user, "is_authenticated", False):
            return InboxQuerySet(model=Task).none()
        return self._items(done_tasks(user))

    def done_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return _capped_count(done_tasks(user))


source = WorkflowTasksSource()

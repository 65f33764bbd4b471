"""The unified inbox's source for external to-dos (workflows/models_external.py): what registered apps
pushed for a user through /api/v1/todos/, listed beside our own tasks.

Registered as "external" in `officeapp.registries.inbox_sources` from WorkflowsConfig.ready(); the
protocol is workflows/inbox.py's. `to_do(user)` is the user's open to-dos, newest first (the order of
our tasks); `done(user)` the completed ones, most recently completed first (cancelled ones are gone).
Each is a lazy queryset that yields `ExternalItem`s (a TileItem, so the workbench and the 待办 page
take it as it is): one query for a page's section or a workbench tile, with its capped count, at any
number of rows, on the partial indexes of open and done rows.

An item's `meta` says which app it comes from, its urgency and its deadline (超期 / 今日到期), so both
the workbench tile and the 待办 page show them without templates of their own; `new_tab` asks the
page to open the app's link in a new tab.

A suspended app's to-dos are hidden from every inbox while it is suspended (they come back when it is
active again): a system that may not call the platform should not send people to its pages either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils import timezone

from officeapp.integration.models import AppStatus
from officeapp.workbench.tiles import TileItem
from workflows.inbox import COUNT_CAP, URGENCY_LABELS
from workflows.models_external import ExternalTodo, ExternalTodoStatus

_ITEM_FIELDS = (
    "id",
    "title",
    "url",
    "urgency",
    "deadline",
    "status",
    "created_at",
    "completed_at",
    "app__name",
)


@dataclass(frozen=True)
class ExternalItem(TileItem):
    """One external to-do as an inbox item: a TileItem (so `as_item` keeps it whole, `new_tab` and
    all) with the rest of workflows.inbox.InboxItem's fields."""

    created: datetime | None = None
    urgency: str = "normal"
    deadline: datetime | None = None
    app_name: str = ""
    source: str = "external"
    new_tab: bool = True


def deadline_mark(deadline: datetime | None, now: datetime | None = None) -> str:
    if deadline is None:
        return ""
    now = now or timezone.now()
    if deadline < now:
        return "超期"
    return "今日到期" if timezone.localdate(deadline) == timezone.localdate(now) else ""


def item_for_todo(todo: ExternalTodo) -> ExternalItem:
    parts = [todo.app.name]
    if todo.urgency != "normal":
        parts.append(URGENCY_LABELS.get(todo.urgency, todo.urgency))
    if todo.deadline is not None:
        parts.append(f"期限 {timezone.localtime(todo.deadline):%Y-%m-%d %H:%M}")
        if todo.status == ExternalTodoStatus.OPEN:
            mark = deadline_mark(todo.deadline)
            if mark:
                parts.append(mark)
    done = todo.status == ExternalTodoStatus.DONE
    return ExternalItem(
        title=todo.title,
        url=todo.url,
        when=todo.completed_at if done else todo.created_at,
        meta=" · ".join(parts),
        created=todo.created_at,
        urgency=todo.urgency,
        deadline=todo.deadline,
        app_name=todo.app.name,
    )


class ExternalItemIterable(ModelIterable):
    """Yields ExternalItems instead of rows, carrying over the queryset's annotations (the
    workbench's window count)."""

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        names = list(self.queryset.query.annotation_select)
        for todo in super().__iter__():
            item = item_for_todo(todo)
            for name in names:
                object.__setattr__(item, name, getattr(todo, name, None))
            yield item


class ExternalItemQuerySet(QuerySet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._iterable_class = ExternalItemIterable


def open_todos(user: Any) -> QuerySet[ExternalTodo]:
    """The user's open to-dos of active apps, newest first (the open index's order)."""
    return ExternalTodo.objects.filter(
        user_id=user.pk, status=ExternalTodoStatus.OPEN, app__status=AppStatus.ACTIVE
    ).order_by("-created_at", "-id")


def done_todos(user: Any) -> QuerySet[ExternalTodo]:
    return ExternalTodo.objects.filter(
        user_id=user.pk, status=ExternalTodoStatus.DONE, app__status=AppStatus.ACTIVE
    ).order_by("-completed_at", "-id")


class ExternalTodosSource:
    key = "external"
    label = "业务系统待办"

    def _items(self, rows: QuerySet[ExternalTodo]) -> ExternalItemQuerySet:
        query = rows.select_related("app").only(*_ITEM_FIELDS).query
        return ExternalItemQuerySet(model=ExternalTodo, query=query)

    def to_do(self, user: Any) -> ExternalItemQuerySet:
        if not getattr(user, "is_authenticated", False):
            return ExternalItemQuerySet(model=ExternalTodo).none()
        return self._items(open_todos(user))

    def to_do_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return open_todos(user)[:COUNT_CAP].count()

    def done(self, user: Any) -> ExternalItemQuerySet:
        if not getattr(user, "is_authenticated", False):
            return ExternalItemQuerySet(model=ExternalTodo).none()
        return self._items(done_todos(user))

    def done_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return done_todos(user)[:COUNT_CAP].count()


source = ExternalTodosSource()

"""External to-dos: what a registered app (an agency's business system) does with its users' to-dos
through /api/v1/todos/ (workflows/api_todos.py) — push (create or update by its own id, one or
thousands at a time), change, complete, cancel, delete — and the live push to each affected inbox.

Rules:
- An app names its item by `external_id` (≤128 characters, unique per app): pushing the same id
  again updates that row (an unchanged body writes nothing), so a retried call is harmless. The same
  id for a different user is a conflict (409): an item does not move between people silently.
- A push never changes a to-do's status: a retry after 办结 does not reopen it.
- Users are named by 用户名 and must belong to the app's data agencies (its owner agency when it has
  none; `officeapp.notify.api.users_for_app`); others are "not found", a disabled user is refused.
- A bulk push validates each item on its own and writes the valid ones (one upsert per 1,000 rows on
  PostgreSQL; SQLite's 999-variable limit makes that ~90 rows a statement), so thousands of items are
  a handful of statements, and answers each item's outcome.
- After commit each affected user's open inbox pages and workbench get one `inbox.changed` frame per
  request (workflows/live.py), however many of their items changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from documents.models import Urgency
from officeapp.integration.models import App
from officeapp.notify.api import (
    MSG_TOO_MANY,
    AppUser,
    clean_link,
    user_error,
    users_for_app,
)
from workflows.live import push_inbox_changed
from workflows.models_external import ExternalTodo, ExternalTodoStatus

MSG_USED_BY_OTHER = "待办编号已用于其他用户。"
MSG_REPEATED = "同一请求中待办编号重复。"
MSG_CANCELLED = "待办已撤销，不能办结。"
MSG_DONE = "待办已办结，不能撤销。"
MSG_REQUIRED = "必填。"
MSG_NUL = "含有不允许的控制字符。"
MSG_DEADLINE = "请填写 ISO 8601 日期或时间，如 2026-12-31 或 2026-12-31T17:00:00+08:00。"
MSG_URGENCY = "紧急程度只能是 normal（平件）、urgent（加急）或 extra_urgent（特急）。"
ID_MAX = ExternalTodo._meta.get_field("external_id").max_length or 128
TITLE_MAX = ExternalTodo._meta.get_field("title").max_length or 200
URL_MAX = ExternalTodo._meta.get_field("url").max_length or 500
EDITABLE = ("title", "url", "urgency", "deadline")
# Rows per INSERT … ON CONFLICT statement (SQLite lowers it to its own variable limit).
UPSERT_BATCH = 1000
LOOKUP_CHUNK = 2000

__all__ = [
    "MSG_TOO_MANY",
    "ItemResult",
    "TodoInput",
    "cancel_todo",
    "clean_todo",
    "complete_todo",
    "delete_todo",
    "push_todos",
    "todo_for_app",
    "todos_for_app",
    "update_todo",
]


@dataclass(frozen=True)
class TodoInput:
    external_id: str
    user: str
    title: str
    url: str
    urgency: str
    deadline: datetime | None


@dataclass
class ItemResult:
    """One item's outcome: `status` is "created", "updated", "unchanged" or "error"; an error has
    its HTTP status (`http`), a code and a Chinese message (and `fields` for an invalid body)."""

    index: int
    external_id: str
    status: str
    http: int = 200
    code: str = ""
    message: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)
    user_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "external_id": self.external_id, "status": self.status}
        if self.status == "error":
            out["error"] = {"code": self.code, "message": self.message}
            if self.fields:
                out["error"]["fields"] = self.fields
        return out


class TodoConflict(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TodoInvalid(Exception):
    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("invalid")
        self.fields = fields


# --- validation -------------------------------------------------------------------------------


def _clean_deadline(value: Any) -> tuple[datetime | None, str | None]:
    """A datetime (naive: Beijing time) or a date (the end of that day); None clears it."""
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, MSG_DEADLINE
    try:
        # A bare date first: parse_datetime would read "2026-12-31" as its midnight.
        day = parse_date(value) if len(value) == 10 else None
        moment = None if day else parse_datetime(value)
    except ValueError:
        return None, MSG_DEADLINE
    if moment is None and day is None:
        return None, MSG_DEADLINE
    if moment is None:
        assert isinstance(day, date)
        moment = datetime.combine(day, time(23, 59, 59))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, None


def _clean_editable(raw: dict[str, Any], errors: dict[str, list[str]], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "title" in raw or not partial:
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            errors["title"] = [MSG_REQUIRED]
        elif len(title.strip()) > TITLE_MAX:
            errors["title"] = [f"标题最多 {TITLE_MAX} 个字。"]
        else:
            values["title"] = title.strip()
    if "url" in raw or not partial:
        url, problem = clean_link(raw.get("url"), max_length=URL_MAX)
        if problem:
            errors["url"] = [problem]
        else:
            values["url"] = url
    if "urgency" in raw or not partial:
        urgency = raw.get("urgency", Urgency.NORMAL)
        if urgency not in Urgency.values:
            errors["urgency"] = [MSG_URGENCY]
        else:
            values["urgency"] = urgency
    if "deadline" in raw or not partial:
        deadline, problem = _clean_deadline(raw.get("deadline"))
        if problem:
            errors["deadline"] = [problem]
        else:
            values["deadline"] = deadline
    return values


def _refuse_nul(raw: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """A NUL character (PostgreSQL refuses it in text) in any text field is the field's error."""
    for name in ("external_id", "user", "title"):
        value = raw.get(name)
        if isinstance(value, str) and "\x00" in value and name not in errors:
            errors[name] = [MSG_NUL]


def clean_todo(raw: Any) -> tuple[TodoInput | None, dict[str, list[str]]]:
    """An item of a push: (the input, {}) or (None, field → Chinese errors)."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["每一项应为 JSON 对象。"]}
    errors: dict[str, list[str]] = {}
    for name in sorted(set(raw) - {"external_id", "user", *EDITABLE}):
        errors[name] = ["未知字段。"]
    external_id = raw.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        errors["external_id"] = [MSG_REQUIRED]
    elif len(external_id) > ID_MAX:
        errors["external_id"] = [f"待办编号最多 {ID_MAX} 个字符。"]
    elif "/" in external_id:
        # The id is a segment of /api/v1/todos/<external_id>/: a "/" would make it unreachable.
        errors["external_id"] = ["待办编号不能含有“/”。"]
    user = raw.get("user")
    if not isinstance(user, str) or not user.strip():
        errors["user"] = ["请填写办理人的用户名。"]
    values = _clean_editable(raw, errors, partial=False)
    _refuse_nul(raw, errors)
    if errors:
        return None, errors
    return TodoInput(external_id=external_id, user=user.strip(), **values), {}


def clean_changes(raw: Any) -> dict[str, Any]:
    """A PATCH body: some of title, url, urgency, deadline. Raises TodoInvalid."""
    if not isinstance(raw, dict) or not raw:
        raise TodoInvalid({"non_field_errors": ["请提交要修改的字段：title、url、urgency、deadline。"]})
    errors: dict[str, list[str]] = {}
    for name in sorted(set(raw) - set(EDITABLE)):
        errors[name] = (
            ["不能修改；如需换人，请撤销后以新的编号推送。"]
            if name in ("user", "external_id")
            else ["未知字段。"]
        )
    values = _clean_editable(raw, errors, partial=True)
    _refuse_nul(raw, errors)
    if errors:
        raise TodoInvalid(errors)
    return values


# --- reading ----------------------------------------------------------------------------------


def todos_for_app(app: App) -> QuerySet[ExternalTodo]:
    """The app's own to-dos (an app never reads another app's)."""
    return ExternalTodo.objects.filter(app=app).select_related("user")


def todo_for_app(app: App, external_id: str) -> ExternalTodo:
    """The app's to-do by its own id; 404 for a missing one (there is nothing else it could be)."""
    if "\x00" in external_id:  # never stored (refused on push); PostgreSQL refuses it in a query
        raise Http404("对象不存在或无权访问。")
    found = todos_for_app(app).filter(external_id=external_id).first()
    if found is None:
        raise Http404("对象不存在或无权访问。")
    return found


def as_json(todo: ExternalTodo) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return timezone.localtime(value).isoformat() if value else None

    return {
        "external_id": todo.external_id,
        "user": todo.user.username,
        "title": todo.title,
        "url": todo.url,
        "urgency": todo.urgency,
        "deadline": moment(todo.deadline),
        "status": todo.status,
        "created_at": moment(todo.created_at),
        "updated_at": moment(todo.updated_at),
        "completed_at": moment(todo.completed_at),
    }


# --- writing ----------------------------------------------------------------------------------


def _existing(app: App, ids: list[str]) -> dict[str, tuple[int, str, str, str, datetime | None]]:
    """external_id → (user id, title, url, urgency, deadline) of the app's rows among `ids`."""
    found: dict[str, tuple[int, str, str, str, datetime | None]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        rows = ExternalTodo.objects.filter(app=app, external_id__in=ids[start : start + LOOKUP_CHUNK])
        for external_id, *rest in rows.values_list(
            "external_id", "user_id", "title", "url", "urgency", "deadline"
        ):
            found[external_id] = tuple(rest)  # type: ignore[assignment]
    return found


def push_todos(app: App, raws: list[Any]) -> list[ItemResult]:
    """Create or update each item by its external_id; every valid item is written even when others
    fail. One transaction; one live push per affected user after commit."""
    results: list[ItemResult | None] = [None] * len(raws)
    cleaned: list[tuple[int, TodoInput]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raws):
        item, errors = clean_todo(raw)
        external_id = raw.get("external_id") if isinstance(raw, dict) else None
        label = external_id if isinstance(external_id, str) else ""
        if item is None:
            results[index] = ItemResult(index, label, "error", 400, "invalid", "内容无效。", errors)
        elif item.external_id in seen:
            results[index] = ItemResult(index, label, "error", 409, "conflict", MSG_REPEATED)
        else:
            seen.add(item.external_id)
            cleaned.append((index, item))
    users = users_for_app(app, [item.user for _, item in cleaned], agency_ids=app.reading_agency_ids())
    existing = _existing(app, [item.external_id for _, item in cleaned])
    now = timezone.now()
    rows: list[ExternalTodo] = []
    changed_users: set[int] = set()
    for index, item in cleaned:
        found: AppUser | None = users.get(item.user)
        problem = user_error(found)
        if problem:
            results[index] = ItemResult(index, item.external_id, "error", problem[0], problem[1], problem[2])
            continue
        assert found is not None
        before = existing.get(item.external_id)
        if before is not None and before[0] != found.pk:
            results[index] = ItemResult(index, item.external_id, "error", 409, "conflict", MSG_USED_BY_OTHER)
            continue
        if before is not None and before[1:] == (item.title, item.url, item.urgency, item.deadline):
            results[index] = ItemResult(index, item.external_id, "unchanged", 200, user_id=found.pk)
            continue
        created = before is None
        results[index] = ItemResult(
            index,
            item.external_id,
            "created" if created else "updated",
            201 if created else 200,
            user_id=found.pk,
        )
        changed_users.add(found.pk)
        rows.append(
            ExternalTodo(
                app=app,
                external_id=item.external_id,
                user_id=found.pk,
                title=item.title,
                url=item.url,
                urgency=item.urgency,
                deadline=item.deadline,
                created_at=now,
                updated_at=now,
            )
        )
    with transaction.atomic():
        if rows:
            ExternalTodo.objects.bulk_create(
                rows,
                batch_size=UPSERT_BATCH,
                update_conflicts=True,
                unique_fields=["app", "external_id"],
                update_fields=["title", "url", "urgency", "deadline", "updated_at"],
            )
        _push(changed_users, app, "changed")
    return [r for r in results if r is not None]


def _push(user_ids: set[int], app: App, action: str) -> None:
    """One `inbox.changed` frame per user, after commit (task_id 0: not one of our tasks)."""
    if user_ids:
        push_inbox_changed(sorted(user_ids), task_id=0, action=action, title=app.name)


def update_todo(app: App, external_id: str, raw: Any) -> ExternalTodo:
    values = clean_changes(raw)
    with transaction.atomic():
        todo = todo_for_app(app, external_id)
        changed = {k: v for k, v in values.items() if getattr(todo, k) != v}
        if changed:
            for name, value in changed.items():
                setattr(todo, name, value)
            todo.updated_at = timezone.now()
            todo.save(update_fields=[*changed, "updated_at"])
            if todo.is_open:
                _push({todo.user_id}, app, "changed")
    return todo


def _finish(app: App, external_id: str, to: str) -> ExternalTodo:
    """Complete (to done) or cancel a to-do. Repeating either is harmless; crossing them is 409."""
    with transaction.atomic():
        todo = todo_for_app(app, external_id)
        if todo.status == to:
            return todo
        if not todo.is_open:
            raise TodoConflict(MSG_CANCELLED if to == ExternalTodoStatus.DONE else MSG_DONE)
        now = timezone.now()
        todo.status = to
        todo.updated_at = now
        todo.completed_at = now
        todo.save(update_fields=["status", "updated_at", "completed_at"])
        _push({todo.user_id}, app, "closed")
    return todo


def complete_todo(app: App, external_id: str) -> ExternalTodo:
    return _finish(app, external_id, ExternalTodoStatus.DONE)


def cancel_todo(app: App, external_id: str) -> ExternalTodo:
    return _finish(app, external_id, ExternalTodoStatus.CANCELLED)


def delete_todo(app: App, external_id: str) -> None:
    with transaction.atomic():
        todo = todo_for_app(app, external_id)
        todo.delete()
        if todo.status != ExternalTodoStatus.CANCELLED:
            _push({todo.user_id}, app, "closed")


def bulk_limit() -> int:
    return int(settings.API_BULK_MAX_ITEMS)

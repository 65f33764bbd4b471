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

Group tasks (或签 / 抢办): an unowned NEW task with `TaskCandidate` rows is in each candidate's 待办 until
someone claims it (`claimable_tasks`). Those few rows come from a third partial index over unclaimed
tasks (workflows/migrations/0004_inbox_candidates.py) joined to the candidates' (task, user) index;
own and claimable ids are read as two bounded lists glued with UNION ALL, never an OR (which would
turn the id lookup into a scan of the whole task table on PostgreSQL).

The 待办/已办/办结 page (workflows/views/inbox.py) reads `inbox_page`: a *window* of the user's newest
SCAN_CAP rows of the tab (within the chosen date range, an index range), then filters, search,
sort and paging inside that window. A search never reads more than the window, whatever the table
holds; narrowing the date range reaches older rows. Counts read index entries only (`_counts`); an
unfiltered newest-first page reads only the ids up to its last row; 办结 is bounded by the finish
time of the window's oldest done task, so PostgreSQL walks the done index and stops at the page's
end. Measured in tests/bench/test_inbox_bench.py (p95 under 50 ms at 10⁶ tasks).

待阅 / 已阅 (传阅, workflows/circulation.py) are the user's `CirculationReader` rows (UNREAD / READ),
tabs of the same page and the source's `to_read(user)` for the workbench's 待阅 tile. Their window is
the newest SCAN_CAP rows by `arrived_at` on the (reader, state, arrived_at) index; 已阅 lists that
window by `read_at`. Their counts ride in the same index-only query as 待办 and 已办's.

Deadlines: a task's 办理时限 is its data's "deadline" or else its `TaskDue` row (joined, never a query
of its own); a row whose deadline is before today is 超期, on the day 今日到期 — in the page's rows
and in the workbench item's `meta`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Count, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.db.models.query import ModelIterable
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from workflows.live import push_inbox_changed
from workflows.models import CirculationReader, ReadingState, TaskCandidate

__all__ = [
    "COUNT_CAP",
    "SCAN_CAP",
    "InboxItem",
    "InboxPage",
    "InboxQuery",
    "InboxRow",
    "claimable_tasks",
    "done_tasks",
    "inbox_page",
    "open_tasks",
    "read_readings",
    "unread_readings",
    "push_inbox_changed",  # lives in workflows/live.py (the flow's services call it from there)
    "source",
]

# Counts stop here; a caller shows "1000+" when a count reaches it.
COUNT_CAP = 1000
# The page's window: the newest rows of a tab a filter or a search looks through.
SCAN_CAP = COUNT_CAP
PAGE_SIZE = 20

CLOSED_STATUSES: tuple[str, ...] = (STATUS.DONE, STATUS.CANCELED)

URGENCY_LABELS = {"normal": "平件", "urgent": "加急", "extra_urgent": "特急"}


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
    # A flow whose tasks are inserted already assigned (OutgoingFlow) stores no URL: its page is
    # formatted from the id.
    page = getattr(task.flow_task.flow_class, "task_page", "")
    if page:
        return str(page).format(task.pk)
    try:
        return task.reverse("index")
    except (NoReverseMatch, AttributeError, ValueError):
        # A flow whose views are not mounted (yet) has no page for the task.
        return ""


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def task_deadline(task: Task) -> date | None:
    """The task's 办理时限: its data's "deadline", else its TaskDue row (select_related("due") by
    every list here, so this reads no row of its own)."""
    data = task.data if isinstance(task.data, dict) else {}
    deadline = _parse_day(data.get("deadline"))
    if deadline is not None:
        return deadline
    try:
        return task.due.due_on  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


def deadline_mark(deadline: date | None, today: date | None = None) -> str:
    """超期 before today, 今日到期 on the day, else nothing (an open item's mark)."""
    if deadline is None:
        return ""
    today = today or timezone.localdate()
    if deadline < today:
        return "超期"
    return "今日到期" if deadline == today else ""


def item_for_task(task: Task) -> InboxItem:
    data = task.data if isinstance(task.data, dict) else {}
    node = task.flow_task
    meta = str(getattr(node.flow_class, "process_title", "")) if node is not None else ""
    if task.status not in CLOSED_STATUSES:
        mark = deadline_mark(task_deadline(task))
        meta = f"{meta} · {mark}" if meta and mark else (mark or meta)
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
_ITEM_FIELDS = ("id", "process", "flow_task", "status", "created", "finished", "owner", "data", "due__due_on")


def open_tasks(user: Any) -> QuerySet[Task]:
    """The user's open viewflow tasks, newest first (the partial index's order)."""
    return (
        Task.objects.filter(owner_id=user.pk).exclude(status__in=CLOSED_STATUSES).order_by("-created", "-id")
    )


def claimable_tasks(user: Any) -> QuerySet[Task]:
    """Group tasks nobody has claimed yet that the user may claim (或签 / 抢办), newest first."""
    return Task.objects.filter(
        owner__isnull=True,
        status=STATUS.NEW,
        pk__in=TaskCandidate.objects.filter(user_id=user.pk).values("task_id"),
    ).order_by("-created", "-id")


def done_tasks(user: Any) -> QuerySet[Task]:
    return Task.objects.filter(owner_id=user.pk, status=STATUS.DONE).order_by("-finished", "-id")


def _union_sql(querysets: tuple[QuerySet[Task], ...], cap: int) -> tuple[str, list[Any]]:
    """`SELECT id` of the newest `cap` rows of each queryset, glued with UNION ALL.

    Each part is wrapped in its own derived table so its LIMIT is legal on SQLite too. Django
    compiles every part with its parameters kept apart: nothing a user typed is pasted in."""
    parts: list[str] = []
    params: list[Any] = []
    for n, queryset in enumerate(querysets):
        sql, part_params = queryset.values("pk")[:cap].query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) inbox_part{n}")  # noqa: S608
        params.extend(part_params)
    return " UNION ALL ".join(parts), params


def _newest_ids(*querysets: QuerySet[Task], cap: int = COUNT_CAP) -> RawSQL:
    sql, params = _union_sql(querysets, cap)
    return RawSQL(sql, params)  # noqa: S611


def _counts(*windows: tuple[QuerySet[Task], ...], cap: int = COUNT_CAP) -> list[int]:
    """The size of each window (each capped), in one query that reads only index entries: the
    COUNT runs over the ids of the partial indexes, never joining back to the task rows."""
    selects: list[str] = []
    params: list[Any] = []
    for n, querysets in enumerate(windows):
        sql, part_params = _union_sql(querysets, cap)
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) inbox_count{n})")  # noqa: S608
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    return [min(int(value), cap) for value in row]


def _capped_count(*querysets: QuerySet[Task]) -> int:
    return _counts(querysets)[0]


def unread_readings(user: Any) -> QuerySet[CirculationReader]:
    """The user's 待阅 (传阅 items that reached them), newest arrival first (the index's order)."""
    return CirculationReader.objects.filter(reader_id=user.pk, state=ReadingState.UNREAD).order_by(
        "-arrived_at", "-id"
    )


def read_readings(user: Any) -> QuerySet[CirculationReader]:
    """The user's 已阅, by arrival on the same index; the page lists its window by read time."""
    return CirculationReader.objects.filter(reader_id=user.pk, state=ReadingState.READ).order_by(
        "-arrived_at", "-id"
    )


def reading_link(reading: CirculationReader) -> str:
    try:
        return reverse("workflows:reading", args=[reading.pk])
    except NoReverseMatch:
        # The 传阅 pages not mounted (yet): the document's page.
        return reverse("documents:detail", args=[reading.circulation.document_id])


def item_for_reading(reading: CirculationReader) -> InboxItem:
    circulation = reading.circulation
    document = circulation.document
    behalf = f"代{reading.on_behalf_of.real_name}阅 · " if reading.on_behalf_of_id else ""
    return InboxItem(
        title=document.title,
        url=reading_link(reading),
        created=reading.arrived_at or circulation.created_at,
        when=reading.read_at if reading.state == ReadingState.READ else reading.arrived_at,
        urgency=document.urgency,
        meta=f"{behalf}{circulation.started_by.real_name}传阅",
    )


class ReadingItemIterable(ModelIterable):
    """Yields InboxItems instead of CirculationReaders, carrying over the annotations."""

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        names = list(self.queryset.query.annotation_select)
        for reading in super().__iter__():
            item = item_for_reading(reading)
            for name in names:
                setattr(item, name, getattr(reading, name, None))
            yield item


class ReadingItemQuerySet(QuerySet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._iterable_class = ReadingItemIterable


class WorkflowTasksSource:
    """待办 / 已办 from viewflow: tasks owned by the user, and group tasks they may claim."""

    key = "workflows"
    label = "公文流转"

    def _items(self, *querysets: QuerySet[Task]) -> InboxQuerySet:
        # The newest COUNT_CAP ids of each part (index range scans), then the items in the same
        # order: whatever a caller adds (a window count) works on a bounded number of rows.
        bounded = Task.objects.filter(pk__in=_newest_ids(*querysets)).order_by(*querysets[0].query.order_by)
        return InboxQuerySet(model=Task, query=bounded.select_related("due").only(*_ITEM_FIELDS).query)

    def to_do(self, user: Any) -> InboxQuerySet:
        if not getattr(user, "is_authenticated", False):
            return InboxQuerySet(model=Task).none()
        return self._items(open_tasks(user), claimable_tasks(user))

    def to_do_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return _capped_count(open_tasks(user), claimable_tasks(user))

    def done(self, user: Any) -> InboxQuerySet:
        if not getattr(user, "is_authenticated", False):
            return InboxQuerySet(model=Task).none()
        return self._items(done_tasks(user))

    def done_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return _capped_count(done_tasks(user))

    def to_read(self, user: Any) -> ReadingItemQuerySet:
        """待阅: the user's 传阅 items not yet read, newest arrival first (the workbench's 待阅 tile)."""
        if not getattr(user, "is_authenticated", False):
            return ReadingItemQuerySet(model=CirculationReader).none()
        bounded = CirculationReader.objects.filter(pk__in=_newest_ids(unread_readings(user)))
        bounded = bounded.select_related("circulation__document", "circulation__started_by", "on_behalf_of")
        return ReadingItemQuerySet(
            model=CirculationReader, query=bounded.order_by("-arrived_at", "-id").query
        )

    def to_read_count(self, user: Any) -> int:
        if not getattr(user, "is_authenticated", False):
            return 0
        return _capped_count(unread_readings(user))


source = WorkflowTasksSource()


# ---------------------------------------------------------------------------------------------
# The 待办 / 已办 / 办结 page.

TABS: dict[str, str] = {"todo": "待办", "done": "已办", "closed": "办结", "unread": "待阅", "read": "已阅"}
# The 传阅 tabs: CirculationReader rows, not tasks (no 环节 or 超期 filter there).
READING_TABS = ("unread", "read")
SORTS: dict[str, str] = {"newest": "最新在前", "oldest": "最早在前", "deadline": "办理期限"}


@dataclass(frozen=True)
class InboxQuery:
    """What the page asks for; the view parses and validates it (workflows/views/inbox.py)."""

    tab: str = "todo"
    q: str = ""
    urgency: str = ""
    step: str = ""
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "newest"
    page: int = 1

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.urgency or self.step or self.overdue)


@dataclass
class InboxRow:
    task_id: int
    title: str
    url: str
    doc_number: str
    step_label: str
    agency: str
    drafter: str
    urgency: str
    deadline: date | None
    created: datetime
    finished: datetime | None
    overdue: bool
    claimable: bool
    process_finished: datetime | None = None
    due_today: bool = False
    # 传阅 rows: who the reader reads for (代) and their comment.
    on_behalf_of: str = ""
    comment: str = ""

    @property
    def urgency_label(self) -> str:
        return URGENCY_LABELS.get(self.urgency, "")


@dataclass
class InboxPage:
    query: InboxQuery
    rows: list[InboxRow]
    total: int | None  # rows matching inside the window; None for 办结 (paged by "is there more")
    page: int
    pages: int | None
    window_full: bool  # the window reached SCAN_CAP: older rows exist beyond it
    tab_counts: dict[str, int] = field(default_factory=dict)
    more: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.more if self.pages is None else self.page < self.pages


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _in_range(queryset: QuerySet[Task], column: str, query: InboxQuery) -> QuerySet[Task]:
    # Bounds on the indexed column narrow the index range itself (dates are Asia/Shanghai days).
    if query.date_from:
        queryset = queryset.filter(**{f"{column}__gte": _day_start(query.date_from)})
    if query.date_to:
        queryset = queryset.filter(**{f"{column}__lt": _day_start(query.date_to + timedelta(days=1))})
    return queryset


def _closed_only(queryset: QuerySet[Task], user: Any) -> QuerySet[Task]:
    """办结: the process is finished, and one line per process (the user's last task in it)."""
    later = Task.objects.filter(
        process_id=OuterRef("process_id"),
        owner_id=user.pk,
        status=STATUS.DONE,
        finished__gt=OuterRef("finished"),
    )
    return queryset.filter(process__status=PROCESS.DONE).exclude(Exists(later))


def _window_parts(user: Any, query: InboxQuery) -> tuple[tuple[QuerySet[Task], ...], str]:
    """The querysets whose newest SCAN_CAP rows (in the date range) make the tab's window, and the
    column the window is ordered by."""
    if query.tab == "todo":
        own = _in_range(open_tasks(user), "created", query)
        return (own, _in_range(claimable_tasks(user), "created", query)), "created"
    return (_in_range(done_tasks(user), "finished", query),), "finished"


def _closed_window(user: Any, query: InboxQuery) -> QuerySet[Task]:
    """办结 inside the newest SCAN_CAP done tasks, bounded by the finish time of the last of them
    (a scalar subquery) rather than a list of ids: PostgreSQL then walks the (owner, finished)
    index newest first and stops at the page's last row instead of reading the whole window."""
    done = _in_range(done_tasks(user), "finished", query)
    oldest = done.values("finished")[SCAN_CAP - 1 : SCAN_CAP]
    floor = Coalesce(Subquery(oldest), Value(datetime(1970, 1, 1, tzinfo=UTC)))
    return _closed_only(done.filter(finished__gte=floor), user)


def _conditions(query: InboxQuery) -> tuple[dict[str, Any], Q]:
    """The filters as (annotations, condition), so one aggregate can count the window and the matches."""
    annotations: dict[str, Any] = {}
    condition = Q()
    if query.q:
        # Inside the window only (at most SCAN_CAP rows): a plain match is cheap there.
        condition &= Q(data__title__icontains=query.q) | Q(data__doc_number__icontains=query.q)
    if query.urgency:
        condition &= Q(data__urgency=query.urgency)
    if query.step:
        condition &= Q(data__step=query.step)
    if query.overdue:
        # deadline is "YYYY-MM-DD"; open: past it today; done: finished on a later day (Shanghai).
        # The task data's deadline, else its TaskDue row (a LEFT JOIN inside the window).
        annotations["deadline_on"] = Coalesce(Cast(KT("data__deadline"), DateField()), F("due__due_on"))
        if query.tab == "todo":
            condition &= Q(deadline_on__lt=timezone.localdate())
        else:
            annotations["finished_on"] = TruncDate("finished")
            condition &= Q(deadline_on__lt=F("finished_on"))
    return annotations, condition


def _ordered(rows: QuerySet[Task], column: str, sort: str) -> QuerySet[Task]:
    if sort == "oldest":
        return rows.order_by(column, "id")
    if sort == "deadline":
        deadline = Coalesce(Cast(KT("data__deadline"), DateField()), F("due__due_on"))
        return rows.order_by(deadline.asc(nulls_last=True), f"-{column}", "-id")
    return rows.order_by(f"-{column}", "-id")


def row_for_task(task: Task, *, closed: bool = False) -> InboxRow:
    data = task.data if isinstance(task.data, dict) else {}
    deadline = task_deadline(task)
    due_today = False
    if deadline is None:
        overdue = False
    elif task.status == STATUS.DONE and task.finished:
        overdue = timezone.localdate(task.finished) > deadline
    else:
        mark = deadline_mark(deadline)
        overdue, due_today = mark == "超期", mark == "今日到期"
    return InboxRow(
        task_id=task.pk,
        title=_task_title(task),
        url=_task_url(task),
        doc_number=str(data.get("doc_number") or ""),
        step_label=str(data.get("step_label") or ""),
        agency=str(data.get("agency") or ""),
        drafter=str(data.get("drafter") or ""),
        urgency=str(data.get("urgency") or "normal"),
        deadline=deadline,
        created=task.created,
        finished=task.finished,
        overdue=overdue,
        claimable=task.owner_id is None and task.status == STATUS.NEW,
        process_finished=task.process.finished if closed else None,
        due_today=due_today,
    )


def tab_counts(user: Any) -> dict[str, int]:
    """待办, 已办, 待阅 and 已阅, each capped at COUNT_CAP, in one index-only query. 办结 has no number: it is
    the record of finished work, and counting it means visiting every process behind the window."""
    todo, done, unread, read = _counts(
        _window_parts(user, InboxQuery(tab="todo"))[0],
        _window_parts(user, InboxQuery(tab="done"))[0],
        (unread_readings(user),),
        (read_readings(user),),
    )
    return {"todo": todo, "done": done, "unread": unread, "read": read}


def inbox_page(user: Any, query: InboxQuery) -> InboxPage:
    """One page of a tab in a fixed number of queries at any size: 待办 and 已办 three (the tab
    counts, the window's size and matches, the rows), 办结 two (the tab counts, the rows)."""
    counts = tab_counts(user)
    if query.tab == "closed":
        return _closed_page(user, query, counts)
    if query.tab in READING_TABS:
        return _reading_page(user, query, counts)
    parts, column = _window_parts(user, query)
    annotations, condition = _conditions(query)
    if query.filtered:
        window = Task.objects.filter(pk__in=_newest_ids(*parts, cap=SCAN_CAP)).annotate(**annotations)
        sizes = window.aggregate(window=Count("pk"), matched=Count("pk", filter=condition))
        window_size, matched = int(sizes["window"]), int(sizes["matched"])
    else:
        # No filter: the window's size is the count, read from the index alone.
        window_size = matched = _counts(parts, cap=SCAN_CAP)[0]
    pages = max(1, math.ceil(matched / PAGE_SIZE))
    page = min(max(query.page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    # Newest first without a filter: the page's rows are among the newest start + PAGE_SIZE of
    # each part, so only those ids are read; any other order or a filter needs the whole window.
    cap = start + PAGE_SIZE if not query.filtered and query.sort == "newest" else SCAN_CAP
    rows = Task.objects.filter(pk__in=_newest_ids(*parts, cap=min(cap, SCAN_CAP))).annotate(**annotations)
    listed = _ordered(rows.filter(condition), column, query.sort).select_related("due").only(*_ITEM_FIELDS)
    tasks = list(listed[start : start + PAGE_SIZE]) if matched else []
    return InboxPage(
        query=query,
        rows=[row_for_task(t) for t in tasks],
        total=matched,
        page=page,
        pages=pages,
        window_full=window_size >= SCAN_CAP,
        tab_counts=counts,
    )


def _closed_page(user: Any, query: InboxQuery, counts: dict[str, int]) -> InboxPage:
    annotations, condition = _conditions(query)
    rows = _closed_window(user, query).annotate(**annotations).filter(condition)
    listed = _ordered(rows, "finished", query.sort).select_related("process", "due")
    listed = listed.only(*_ITEM_FIELDS, "process__finished")
    page = min(max(query.page, 1), math.ceil(SCAN_CAP / PAGE_SIZE))
    start = (page - 1) * PAGE_SIZE
    # One row more than the page says whether there is a next page, without counting.
    tasks = list(listed[start : start + PAGE_SIZE + 1])
    return InboxPage(
        query=query,
        rows=[row_for_task(t, closed=True) for t in tasks[:PAGE_SIZE]],
        total=None,
        page=page,
        pages=None,
        window_full=counts["done"] >= SCAN_CAP and not (query.date_from or query.date_to),
        tab_counts=counts,
        more=len(tasks) > PAGE_SIZE,
    )


# ---------------------------------------------------------------------------------------------
# 待阅 / 已阅: the user's 传阅 items.


def _reading_window(user: Any, query: InboxQuery) -> tuple[QuerySet[CirculationReader], str]:
    """The tab's rows (in the date range: arrival for 待阅, reading for 已阅) and the column the list
    is ordered by."""
    if query.tab == "unread":
        return _in_range(unread_readings(user), "arrived_at", query), "arrived_at"
    return _in_range(read_readings(user), "read_at", query), "read_at"


def _reading_condition(query: InboxQuery) -> Q:
    condition = Q()
    if query.q:
        condition &= Q(circulation__document__title__icontains=query.q) | Q(
            circulation__document__doc_number__icontains=query.q
        )
    if query.urgency:
        condition &= Q(circulation__document__urgency=query.urgency)
    return condition


def row_for_reading(reading: CirculationReader) -> InboxRow:
    circulation = reading.circulation
    document = circulation.document
    return InboxRow(
        task_id=reading.pk,
        title=document.title,
        url=reading_link(reading),
        doc_number=document.doc_number,
        step_label="依次传阅" if circulation.in_order else "传阅",
        agency=document.agency.short_name or document.agency.name,
        drafter=f"{circulation.started_by.real_name}发起",
        urgency=document.urgency,
        deadline=None,
        created=reading.arrived_at or circulation.created_at,
        finished=reading.read_at,
        overdue=False,
        claimable=False,
        on_behalf_of=reading.on_behalf_of.real_name if reading.on_behalf_of_id else "",
        comment=reading.comment,
    )


def _reading_page(user: Any, query: InboxQuery, counts: dict[str, int]) -> InboxPage:
    """待阅 / 已阅 in three queries at any size, like 待办: the tab counts, the window's size and
    matches, the rows (with their document, starter and 代 in the same query)."""
    part, column = _reading_window(user, query)
    condition = _reading_condition(query)
    filtered = bool(query.q or query.urgency)
    if filtered:
        window = CirculationReader.objects.filter(pk__in=_newest_ids(part, cap=SCAN_CAP))
        sizes = window.aggregate(window=Count("pk"), matched=Count("pk", filter=condition))
        window_size, matched = int(sizes["window"]), int(sizes["matched"])
    else:
        window_size = matched = _counts((part,), cap=SCAN_CAP)[0]
    pages = max(1, math.ceil(matched / PAGE_SIZE))
    page = min(max(query.page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    rows = CirculationReader.objects.filter(pk__in=_newest_ids(part, cap=SCAN_CAP)).filter(condition)
    order = (column, "id") if query.sort == "oldest" else (f"-{column}", "-id")
    listed = rows.select_related(
        "circulation__document__agency", "circulation__started_by", "on_behalf_of"
    ).order_by(*order)
    readings = list(listed[start : start + PAGE_SIZE]) if matched else []
    return InboxPage(
        query=query,
        rows=[row_for_reading(r) for r in readings],
        total=matched,
        page=page,
        pages=pages,
        window_full=window_size >= SCAN_CAP,
        tab_counts=counts,
    )

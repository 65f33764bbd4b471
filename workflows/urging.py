"""催办 and deadlines: each open task's 办理时限, manual 催办, and the worker's reminder scan.

A task with a deadline gets a `TaskDue` row when it is created (any flow), so the scan asks the
database for date ranges: the rule and the working calendar give, once per scan, the deadlines
that make each kind due today (`DueWindows`), and a task is read only when it lacks one of those
reminders (a lookup on the unique index). A repeat scan the same day reads no task.

The rule (`REMINDER_RULE` in settings, text like "before=1,due,overdue=1,head=2,leader=5"), in
工作日 of the maintained calendar:
- BEFORE: `before` working days before the deadline;
- DUE: on the deadline — or, when the deadline is a rest day, on the last working day before it;
- OVERDUE: every `overdue` working days while the task stays open after the deadline;
- TO_HEAD: once, after `head` overdue working days, to the holder's department head(s);
- TO_LEADER: once, after `leader` overdue working days, to the leader(s) whose 分管 covers the
  holder's department or agency.
Nothing is sent on a rest day (holidays, weekends not marked 调休上班).

Exactly once: every automatic reminder is a `Reminder` row unique per (task, kind, day), inserted
in the same transaction as its notifications, one small batch of tasks at a time. A worker killed
mid-run has committed whole batches only; the next run finds their rows and sends the rest. Two
scans at once insert the same keys: the second waits on the first's uncommitted rows, gets the
unique-constraint error, and redoes its batch, now reading what the first sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from viewflow.workflow.models import Task

from documents import access as documents_access
from documents.models import OfficialDocument
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record
from officeapp.calendar.workdays import WorkingCalendar
from officeapp.notify.models import Notification, Urgency
from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group
from officeapp.notify.services import notify
from officeapp.org.models import Delegation, DelegationScope, Department, Portfolio, Role, User
from officeapp.outbox.services import emit
from workflows.access import can_urge, scope_of
from workflows.acting import OPEN_STATUSES, FlowError, step_label, write_opinion
from workflows.models import Decision, Reminder, ReminderKind, TaskCandidate, TaskDue

NOTIFY_KIND = "workflows.reminder"
MANUAL_NOTIFY_KIND = "workflows.urge"
NOTE_MAX = Reminder._meta.get_field("note").max_length or 200
# Tasks per transaction in the scan: small enough that a failure loses little work and a lock
# wait is short, large enough that the queries per task stay far below one.
SCAN_BATCH = 500
ESCALATIONS = (ReminderKind.TO_HEAD, ReminderKind.TO_LEADER)
# A concurrent scan inserting the same keys: retry the batch (it then sees the other's rows).
BATCH_ATTEMPTS = 3

CLOSED_MESSAGE = "该任务已办结，无需催办。"
FORBIDDEN_MESSAGE = "您无权催办该任务。"
NOBODY_MESSAGE = "该任务当前没有办理人，无法催办。"


# --- the rule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderRule:
    """When automatic reminders go out, in working days; 0 switches a part off."""

    before: int = 1
    on_due: bool = True
    overdue_every: int = 1
    to_head_after: int = 2
    to_leader_after: int = 5

    @classmethod
    def parse(cls, text: str) -> ReminderRule:
        """ "before=1,due,overdue=1,head=2,leader=5"; a part left out is off ("due=0" too)."""
        names = {"before": "before", "overdue": "overdue_every", "head": "to_head_after"}
        names["leader"] = "to_leader_after"
        values: dict[str, Any] = {"before": 0, "on_due": False, "overdue_every": 0}
        values.update(to_head_after=0, to_leader_after=0)
        for raw in text.split(","):
            part = raw.strip()
            if not part:
                continue
            key, _, number = part.partition("=")
            key = key.strip()
            try:
                amount = int(number) if number.strip() else 1
            except ValueError:
                amount = -1
            if amount < 0 or amount > 60 or (key not in names and key != "due"):
                raise ImproperlyConfigured(
                    f"REMINDER_RULE: cannot read {part!r}; expected e.g. "
                    '"before=1,due,overdue=1,head=2,leader=5" (working days, 0 = off)'
                )
            if key == "due":
                values["on_due"] = amount > 0
            else:
                values[names[key]] = amount
        return cls(**values)

    def as_text(self) -> str:
        parts = [f"before={self.before}", f"due={int(self.on_due)}", f"overdue={self.overdue_every}"]
        return ",".join([*parts, f"head={self.to_head_after}", f"leader={self.to_leader_after}"])


# The default rule: one working day before, on the day, daily while overdue, the department head
# after 2 overdue working days, the 分管 leader after 5.
REMINDER_RULE = ReminderRule()


def current_rule() -> ReminderRule:
    """The deployment's rule: settings.REMINDER_RULE (text or a ReminderRule), else the default."""
    configured = getattr(settings, "REMINDER_RULE", None)
    if configured is None or configured == "":
        return REMINDER_RULE
    if isinstance(configured, ReminderRule):
        return configured
    return ReminderRule.parse(str(configured))


def reminders_due(due_on: date, today: date, *, rule: ReminderRule, calendar: WorkingCalendar) -> list[str]:
    """Which automatic reminders the rule sends today for a task due on `due_on` (escalations
    included whenever their threshold has passed: the caller drops those already sent)."""
    if not calendar.is_working_day(today):
        return []
    if due_on >= today:
        left = calendar.working_days_between(today, due_on)
        if left == 0:
            return [ReminderKind.DUE] if rule.on_due else []
        return [ReminderKind.BEFORE] if rule.before and left == rule.before else []
    late = calendar.working_days_between(due_on, today)  # >= 1: today is a working day after it
    kinds: list[str] = []
    if rule.overdue_every and (late - 1) % rule.overdue_every == 0:
        kinds.append(ReminderKind.OVERDUE)
    if rule.to_head_after and late >= rule.to_head_after:
        kinds.append(ReminderKind.TO_HEAD)
    if rule.to_leader_after and late >= rule.to_leader_after:
        kinds.append(ReminderKind.TO_LEADER)
    return kinds


def horizon(today: date, rule: ReminderRule, calendar: WorkingCalendar) -> date:
    """The latest deadline that can get a reminder today: the day before the (before+1)-th working
    day ahead (a deadline on a rest day counts from the last working day before it)."""
    return calendar.add_working_days(today, rule.before + 1).due_on - timedelta(days=1)


# --- labels for every list --------------------------------------------------------------------


def is_overdue(due_on: date | None, today: date | None = None) -> bool:
    """Past its 办理时限 (the deadline day itself is still in time)."""
    return due_on is not None and due_on < (today or timezone.localdate())


def due_label(
    due_on: date | None, today: date | None = None, *, calendar: WorkingCalendar | None = None
) -> str:
    """ "超期3个工作日" / "今日到期" / "剩2个工作日" ("" without a deadline). Pass one `calendar` for a
    whole list so the holiday table is read once."""
    if due_on is None:
        return ""
    today = today or timezone.localdate()
    calendar = calendar or WorkingCalendar()
    if due_on < today:
        late = calendar.working_days_between(due_on, today)
        return f"超期{late}个工作日" if late > 0 else "已超期"
    left = calendar.working_days_between(today, due_on)
    return f"剩{left}个工作日" if left > 0 and due_on > today else "今日到期"


# --- deadlines --------------------------------------------------------------------------------


def set_task_due(task: Any, due_on: date | None) -> None:
    """Record (or move) the task's 办理时限; no deadline, no row."""
    if due_on is None:
        TaskDue.objects.filter(task_id=task.pk).delete()
        return
    TaskDue.objects.update_or_create(task_id=task.pk, defaults={"due_on": due_on})


def document_of(task: Task) -> OfficialDocument | None:
    """The document whose 发文 or 收文 process the task belongs to."""
    return (
        OfficialDocument.objects.filter(
            Q(outgoing_process__pk=task.process_id) | Q(incoming_process__pk=task.process_id)
        )
        .select_related("agency")
        .first()
    )


def open_deadlines(agency_id: int) -> QuerySet[TaskDue]:
    """The agency's open 发文 and 收文 tasks with a deadline, the latest first (the 催办 page)."""
    return (
        TaskDue.objects.filter(task__status__in=OPEN_STATUSES)
        .filter(
            Q(task__process__outgoingprocess__document__agency_id=agency_id)
            | Q(task__process__incomingprocess__document__agency_id=agency_id)
        )
        .order_by("due_on", "task_id")
    )


# --- who is reminded --------------------------------------------------------------------------


@dataclass
class Holding:
    """Who holds a task now: its owner or the candidates of an unclaimed group task, plus the
    active delegates of those (委托 in the task's flow)."""

    holders: list[User] = field(default_factory=list)
    delegates: list[User] = field(default_factory=list)

    @property
    def everyone(self) -> list[User]:
        seen: dict[int, User] = {}
        for user in [*self.holders, *self.delegates]:
            if user.is_active:
                seen.setdefault(user.pk, user)
        return list(seen.values())

    @property
    def department_ids(self) -> list[int]:
        return sorted({u.department_id for u in self.holders if u.department_id})


def holdings_of(tasks: Sequence[Task]) -> dict[int, Holding]:
    """Holders and delegates of many tasks in three queries (tasks loaded with their owner)."""
    result = {t.pk: Holding() for t in tasks}
    unowned = [t.pk for t in tasks if t.owner_id is None]
    for t in tasks:
        if t.owner_id is not None:
            result[t.pk].holders.append(t.owner)
    if unowned:
        for candidate in TaskCandidate.objects.filter(task_id__in=unowned).select_related("user"):
            result[candidate.task_id].holders.append(candidate.user)
    holder_ids = {u.pk for h in result.values() for u in h.holders}
    if not holder_ids:
        return result
    now = timezone.now()
    delegations: dict[int, dict[str, User]] = defaultdict(dict)
    for d in (
        Delegation.objects.filter(
            from_user_id__in=holder_ids,
            starts_at__lte=now,
            ends_at__gt=now,
            revoked_at__isnull=True,
            to_user__is_active=True,
        )
        .select_related("to_user")
        .order_by("starts_at")  # the latest wins, as in officeapp.access.active_delegate
    ):
        delegations[d.from_user_id][d.scope] = d.to_user
    for t in tasks:
        scope = scope_of(t)
        holding = result[t.pk]
        for holder in holding.holders:
            given = delegations.get(holder.pk, {})
            delegate = given.get(scope) or given.get(DelegationScope.ALL)
            if delegate is not None and delegate.pk not in {u.pk for u in holding.delegates}:
                holding.delegates.append(delegate)
    return result


def _escalation_targets(
    department_ids: Iterable[int],
) -> tuple[dict[int, list[User]], dict[int, list[User]]]:
    """Department heads and 分管 leaders per department, in three queries."""
    ids = sorted(set(department_ids))
    heads: dict[int, list[User]] = defaultdict(list)
    leaders: dict[int, list[User]] = defaultdict(list)
    if not ids:
        return heads, leaders
    for user in _heads_query(ids):
        heads[user.head_of].append(user)
    agency_of = dict(Department.objects.filter(pk__in=ids).values_list("pk", "agency_id"))
    portfolios = Portfolio.objects.filter(
        Q(department_id__in=ids) | Q(agency_id__in=set(agency_of.values())), leader__is_active=True
    ).select_related("leader")
    for p in portfolios:
        for dept_id in ids:
            # As officeapp.access.leaders_over: 分管 of the department, or of its whole agency.
            covers = p.department_id == dept_id or p.agency_id == agency_of[dept_id]
            if covers and p.leader not in leaders[dept_id]:
                leaders[dept_id].append(p.leader)
    return heads, leaders


def _heads_query(ids: list[int]) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True, role_grants__role=Role.DEPT_HEAD, role_grants__department_id__in=ids
        )
        .annotate(head_of=F("role_grants__department_id"))
        .order_by("pk")
    )


# --- manual 催办 -------------------------------------------------------------------------------


def urge(task: Task, *, actor: User, note: str = "") -> Reminder:
    """人工催办: tell whoever holds the open task (and their delegate) live, with a link to it;
    recorded as a Reminder, a 催办 opinion on the 处理单, an audit event and an outbox row."""
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise FlowError(f"催办说明不能超过{NOTE_MAX}字。")
    document = document_of(task)
    if document is None or not can_urge(actor, document):
        raise FlowError(FORBIDDEN_MESSAGE)
    with transaction.atomic():
        locked = (
            Task.objects.select_for_update(of=("self",)).select_related("owner", "process").get(pk=task.pk)
        )
        if locked.status not in OPEN_STATUSES:
            raise FlowError(CLOSED_MESSAGE)
        holding = holdings_of([locked])[locked.pk]
        recipients = holding.everyone
        if not recipients:
            raise FlowError(NOBODY_MESSAGE)
        reminder = Reminder.objects.create(
            task=locked,
            kind=ReminderKind.MANUAL,
            for_date=timezone.localdate(),
            recipients=[u.pk for u in recipients],
            by=actor,
            note=note,
        )
        write_opinion(
            locked, locked.process, document=document, actor=actor, decision=Decision.URGE, text=note
        )
        due = TaskDue.objects.filter(task_id=locked.pk).values_list("due_on", flat=True).first()
        when = f"（办理时限 {due:%Y-%m-%d}，{due_label(due)}）" if due else ""
        notify(
            recipients,
            kind=MANUAL_NOTIFY_KIND,
            title=f"催办：{document.title}",
            body=f"{actor.real_name}催办「{step_label(locked)}」{when}。{note}".strip(),
            url=_task_url(locked),
            urgency=Urgency.URGENT,
            actor=actor,
        )
        record(
            "workflows.urge",
            actor=actor,
            obj=reminder,
            details={"task": locked.pk, "document": document.pk, "recipients": len(recipients)},
        )
        emit(
            "workflows.reminder_sent",
            reminder,
            payload={"task": locked.pk, "document": document.pk, "kind": ReminderKind.MANUAL},
        )
    return reminder


def _task_url(task: Task) -> str:
    data = task.data if isinstance(task.data, dict) else {}
    url = str(data.get("url") or "")
    if not url and task.flow_task is not None:
        # OutgoingFlow's tasks store no URL (inserted before their id is known): its page by id.
        page = getattr(task.flow_task.flow_class, "task_page", "")
        url = str(page).format(task.pk) if page else ""
    return url if url.startswith("/") and not url.startswith("//") else "/workflows/inbox/"


# --- the scan ---------------------------------------------------------------------------------


@dataclass
class ScanReport:
    today: date
    rest_day: bool = False
    scanned: int = 0  # open tasks read: each owes a reminder today that was not sent when read
    batches: int = 0
    retried: int = 0  # batches redone after another scan inserted the same reminders
    sent: dict[str, int] = field(default_factory=dict)  # kind -> reminders sent by this run
    already_sent: int = 0  # due today, found sent (before this run began, or by a concurrent run)
    nobody: int = 0  # due, but nobody to tell (e.g. the holder is the only head)

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    def count(self, kind: str) -> None:
        self.sent[kind] = self.sent.get(kind, 0) + 1


@dataclass(frozen=True)
class DueWindows:
    """For one scan day: the deadlines (as half-open date ranges [from, to), None = unbounded)
    that make each kind of reminder due today under the rule — `reminders_due` turned inside out,
    so the database picks the tasks instead of Python reading every open one.

    With W(k) the k-th working day from today (W(0) = today, negative = before): a deadline d has
    `left` working days when W(left) <= d < W(left + 1), and is `late` working days late when
    W(-late) <= d < W(-late + 1) (a rest day counts with the working day after it)."""

    ranges: dict[str, tuple[tuple[date | None, date | None], ...]]

    @classmethod
    def of(
        cls, today: date, rule: ReminderRule, calendar: WorkingCalendar, earliest: date | None = None
    ) -> DueWindows:
        """`earliest`: the earliest deadline of any task; bounds the walk back for a rule with
        overdue reminders every n > 1 working days (not needed otherwise)."""

        def ahead(n: int) -> date:
            return calendar.add_working_days(today, n).due_on

        ranges: dict[str, tuple[tuple[date | None, date | None], ...]] = {}
        if rule.on_due:
            ranges[ReminderKind.DUE] = ((today, ahead(1)),)
        if rule.before:
            ranges[ReminderKind.BEFORE] = ((ahead(rule.before), ahead(rule.before + 1)),)
        back = _working_days_back(today, calendar)
        if rule.overdue_every == 1:
            ranges[ReminderKind.OVERDUE] = ((None, today),)
        elif rule.overdue_every > 1 and earliest is not None and earliest < today:
            # late = 1, 1 + n, 1 + 2n, ...: one range per reminder day, back to the earliest deadline.
            spans: list[tuple[date | None, date | None]] = []
            late = 1
            while True:
                low, high = back(late), back(late - 1)
                spans.append((low, high))
                if low <= earliest:
                    break
                late += rule.overdue_every
            ranges[ReminderKind.OVERDUE] = tuple(spans)
        if rule.to_head_after:
            ranges[ReminderKind.TO_HEAD] = ((None, back(rule.to_head_after - 1)),)
        if rule.to_leader_after:
            ranges[ReminderKind.TO_LEADER] = ((None, back(rule.to_leader_after - 1)),)
        return cls(ranges)

    def kinds(self, due_on: date) -> list[str]:
        """The kinds due today for this deadline (as `reminders_due`, which the tests compare)."""
        return [
            kind
            for kind in ReminderKind
            if any(
                (low is None or low <= due_on) and (high is None or due_on < high)
                for low, high in self.ranges.get(kind, ())
            )
        ]

    def q(self, kind: str) -> Q:
        """The deadlines of `kind` as a filter on TaskDue.due_on."""
        result = Q(pk__in=[])
        for low, high in self.ranges.get(kind, ()):
            part = Q()
            if low is not None:
                part &= Q(due_on__gte=low)
            if high is not None:
                part &= Q(due_on__lt=high)
            result |= part
        return result


def _working_days_back(today: date, calendar: WorkingCalendar) -> Any:
    """back(k): the k-th working day before `today` (back(0) = today), memoised for one scan."""
    found = [today]

    def back(k: int) -> date:
        while len(found) <= k:
            d = found[-1] - timedelta(days=1)
            while not calendar.is_working_day(d):
                d -= timedelta(days=1)
            found.append(d)
        return found[k]

    return back


def _sent_flags(kinds: Iterable[str], today: date) -> dict[str, Exists]:
    """Per kind: "already sent" on the unique (task, kind, for_date) index — today's, or for an
    escalation any day's (it goes out once per task)."""
    flags: dict[str, Exists] = {}
    for kind in kinds:
        sent = Reminder.objects.filter(task_id=OuterRef("task_id"), kind=kind, by__isnull=True)
        if kind not in ESCALATIONS:
            sent = sent.filter(for_date=today)
        flags[f"sent_{kind}"] = Exists(sent)
    return flags


def scan_reminders(today: date | None = None, *, batch_size: int = SCAN_BATCH) -> ScanReport:
    """The worker's job: send today's automatic reminders, each exactly once. Safe to run again
    at any time, after a crash, or twice at once.

    The database picks the work: only open tasks whose deadline makes a reminder due today and
    that lack it (no row on the unique index), so a repeat run the same day reads no task. Exactly once still rests on the unique index: a batch commits its Reminder rows with
    its notifications, and a batch that meets another scan's rows is redone."""
    today = today or timezone.localdate()
    report = ScanReport(today=today)
    calendar = WorkingCalendar()
    if not calendar.is_working_day(today):
        report.rest_day = True
        return report
    rule = current_rule()
    earliest = None
    if rule.overdue_every > 1:
        earliest = (
            TaskDue.objects.filter(task__status__in=OPEN_STATUSES)
            .order_by("due_on")
            .values_list("due_on", flat=True)
            .first()
        )
    windows = DueWindows.of(today, rule, calendar, earliest)
    if not windows.ranges:
        return report
    flags = _sent_flags(windows.ranges, today)
    in_scope = TaskDue.objects.filter(
        due_on__lte=horizon(today, rule, calendar), task__status__in=OPEN_STATUSES
    ).alias(**flags)
    owed = Q(pk__in=[])
    for kind in windows.ranges:
        owed |= windows.q(kind) & Q(**{f"sent_{kind}": False})
    # For the report only: what earlier runs sent, in one pass over the same index entries.
    counts = in_scope.aggregate(
        **{
            f"n_{kind}": Count("pk", filter=windows.q(kind) & Q(**{f"sent_{kind}": True}))
            for kind in windows.ranges
        }
    )
    report.already_sent = sum(n or 0 for n in counts.values())
    directory = _Directory()
    # One read per scan (a read per batch would run the sent-checks again each time): the owed
    # tasks' ids, deadlines and which kinds they have; the batches then load their tasks by id.
    owed_rows = list(
        in_scope.filter(owed)
        .annotate(**{name: F(name) for name in flags})
        .order_by("task_id")
        .values_list("task_id", "due_on", *flags)
    )
    for start in range(0, len(owed_rows), batch_size):
        chunk = owed_rows[start : start + batch_size]
        report.scanned += len(chunk)
        plan: dict[int, tuple[date, list[str]]] = {}
        for task_id, due_on, *sent in chunk:
            done = {kind for kind, yes in zip(windows.ranges, sent, strict=True) if yes}
            kinds = [k for k in windows.kinds(due_on) if k not in done]
            if kinds:
                plan[task_id] = (due_on, kinds)
        if plan:
            _send_batch(plan, today, report, calendar, directory)
    return report


def _send_batch(
    plan: dict[int, tuple[date, list[str]]],
    today: date,
    report: ScanReport,
    calendar: WorkingCalendar,
    directory: _Directory,
) -> None:
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        partial_report = ScanReport(today=today)
        try:
            with transaction.atomic():
                # The first attempt trusts the read that chose the batch; a redo (another scan
                # inserted some of these keys meanwhile) first reads what that scan sent.
                _send_batch_once(plan, today, partial_report, calendar, directory, recheck=attempt > 1)
        except IntegrityError:
            if attempt == BATCH_ATTEMPTS:
                raise
            report.retried += 1
            continue
        report.batches += 1
        report.already_sent += partial_report.already_sent
        report.nobody += partial_report.nobody
        for kind, n in partial_report.sent.items():
            report.sent[kind] = report.sent.get(kind, 0) + n
        return


@dataclass
class _Outgoing:
    reminder: Reminder
    recipients: list[User]
    title: str
    body: str
    url: str


@dataclass
class _Directory:
    """Department heads and 分管 leaders per department, read once per scan (the org chart does not
    change in the seconds a scan takes), so a batch of escalations costs no query after the first."""

    heads: dict[int, list[User]] = field(default_factory=dict)
    leaders: dict[int, list[User]] = field(default_factory=dict)

    def load(self, department_ids: Iterable[int]) -> None:
        missing = sorted(set(department_ids) - set(self.heads))
        if not missing:
            return
        heads, leaders = _escalation_targets(missing)
        for dept_id in missing:
            self.heads[dept_id] = heads.get(dept_id, [])
            self.leaders[dept_id] = leaders.get(dept_id, [])


def _send_batch_once(
    plan: dict[int, tuple[date, list[str]]],
    today: date,
    report: ScanReport,
    calendar: WorkingCalendar,
    directory: _Directory,
    *,
    recheck: bool,
) -> None:
    todo = {task_id: kinds for task_id, (_, kinds) in plan.items()}
    tasks = list(
        Task.objects.filter(pk__in=plan, status__in=OPEN_STATUSES)
        .select_related("owner")
        .only("pk", "flow_task", "status", "owner", "data", "process_id")
        .order_by("pk")
    )
    if recheck:
        # Drop what is sent now: today's reminders, and escalations of any day (once per task).
        sent = set(
            Reminder.objects.filter(task_id__in=plan, by__isnull=True)
            .filter(Q(for_date=today) | Q(kind__in=ESCALATIONS))
            .values_list("task_id", "kind")
        )
        for task_id, kinds in list(todo.items()):
            left = [k for k in kinds if (task_id, k) not in sent]
            report.already_sent += len(kinds) - len(left)
            todo[task_id] = left
        tasks = [t for t in tasks if todo[t.pk]]
        if not tasks:
            return
    # Who: holders, delegates, and for escalations heads and 分管 leaders.
    holdings = holdings_of(tasks)
    directory.load(
        d for t in tasks if any(k in ESCALATIONS for k in todo[t.pk]) for d in holdings[t.pk].department_ids
    )
    # The rows, in (task, kind) order so concurrent scans lock the same keys in the same order.
    outgoing: list[_Outgoing] = []
    for task in tasks:
        holding = holdings[task.pk]
        due_on = plan[task.pk][0]
        data = task.data if isinstance(task.data, dict) else {}
        title = str(data.get("title") or "")
        step = str(data.get("step_label") or step_label(task))
        label = due_label(due_on, today, calendar=calendar)
        names = "、".join(u.real_name for u in holding.holders) or "（无）"
        for kind in sorted(todo[task.pk]):
            if kind in ESCALATIONS:
                mine = {u.pk for u in holding.holders}
                above = directory.heads if kind == ReminderKind.TO_HEAD else directory.leaders
                people = _unique(
                    u for d in holding.department_ids for u in above.get(d, []) if u.pk not in mine
                )
            else:
                people = holding.everyone
            if not people:
                report.nobody += 1
                continue
            outgoing.append(
                _Outgoing(
                    reminder=Reminder(
                        task_id=task.pk, kind=kind, for_date=today, recipients=[u.pk for u in people]
                    ),
                    recipients=people,
                    title=_title(kind, title, due_on, label),
                    body=f"环节：{step}；办理人：{names}；办理时限：{due_on:%Y-%m-%d}（{label}）",
                    url=_task_url(task),
                )
            )
    if not outgoing:
        return
    # Reminders and notifications commit together; a unique conflict rolls the batch back.
    Reminder.objects.bulk_create([o.reminder for o in outgoing])
    _notify_batch(outgoing)
    counts: dict[str, int] = defaultdict(int)
    for o in outgoing:
        report.count(o.reminder.kind)
        counts[o.reminder.kind] += 1
    record(
        "workflows.reminders_sent",
        actor=None,
        object_type="workflows.reminder",
        details={
            "for_date": today.isoformat(),
            "tasks": len({o.reminder.task_id for o in outgoing}),
            **counts,
        },
    )
    emit(
        "workflows.reminders_sent",
        object_type="workflows.reminder",
        payload={
            "for_date": today.isoformat(),
            "reminders": [[o.reminder.task_id, o.reminder.kind] for o in outgoing],
        },
    )


def _unique(users: Iterable[User]) -> list[User]:
    seen: dict[int, User] = {}
    for u in users:
        seen.setdefault(u.pk, u)
    return list(seen.values())


def _title(kind: str, title: str, due_on: date, label: str) -> str:
    if kind == ReminderKind.BEFORE:
        return f"待办将于{due_on.month}月{due_on.day}日到期：{title}"
    if kind == ReminderKind.DUE:
        return f"待办今日到期：{title}"
    if kind == ReminderKind.OVERDUE:
        return f"待办{label}：{title}"
    if kind == ReminderKind.TO_HEAD:
        return f"本处室待办{label}：{title}"
    return f"分管处室待办{label}：{title}"


def _notify_batch(outgoing: Sequence[_Outgoing]) -> None:
    """The notifications of one batch in one insert, pushed after commit.

    officeapp.notify.services.notify() writes one insert and one audit event per call, which is
    one round trip per task here; this writes the same rows (and the batch's audit event is
    written by the caller). To be replaced by a batch function in officeapp.notify."""
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=user.pk,
            kind=NOTIFY_KIND,
            title=o.title[:200],
            body=o.body[:500],
            url=o.url,
            urgency=Urgency.NORMAL,
            created_at=now,
        )
        for o in outgoing
        for user in o.recipients
    ]
    created = Notification.objects.bulk_create(rows)
    frames = [(user_group(row.recipient_id), row.as_frame()) for row in created]
    transaction.on_commit(partial(send_to_groups, frames), robust=True)


# --- the 催办 page -------------------------------------------------------------------------------

# 催办记录 shown per task on the page: the latest few (a long-overdue task has one a day).
HISTORY_SHOWN = 10


@dataclass
class UrgingRow:
    """One open task with a deadline on the office's 催办 page."""

    task: Task
    document_id: int | None
    title: str
    step: str
    holder: str
    since: Any
    due_on: date
    label: str
    overdue: bool
    reminder_count: int
    last_reminder: Any
    history: list[Reminder]


def urging_list(agency_id: int, user: Any) -> QuerySet[TaskDue]:
    """The page's rows, most overdue first, with their document and 催办 counts in the same query:
    only tasks of documents the user may see (a 收发员 or 督查员 does not see other units' drafts),
    so every row's 催办 button is one `task_for_urging` accepts."""
    per_task = Reminder.objects.filter(task_id=OuterRef("task_id")).order_by()
    visible = documents_access.visible_documents(user).values("pk")
    return (
        open_deadlines(agency_id)
        .filter(
            Q(task__process__outgoingprocess__document__in=visible)
            | Q(task__process__incomingprocess__document__in=visible)
        )
        .select_related("task__owner")
        .annotate(
            document_title=Coalesce(
                F("task__process__outgoingprocess__document__title"),
                F("task__process__incomingprocess__document__title"),
            ),
            document_pk=Coalesce(
                F("task__process__outgoingprocess__document_id"),
                F("task__process__incomingprocess__document_id"),
            ),
            reminder_count=Coalesce(
                Subquery(per_task.values("task_id").annotate(n=Count("pk")).values("n")[:1]),
                0,
                output_field=IntegerField(),
            ),
            last_reminder=Subquery(per_task.order_by("-sent_at", "-pk").values("sent_at")[:1]),
        )
    )


def urging_rows(dues: Sequence[TaskDue], today: date | None = None) -> list[UrgingRow]:
    """Rows of one page of `urging_list`: two more queries (candidates, 催办记录) whatever its size."""
    today = today or timezone.localdate()
    calendar = WorkingCalendar()
    task_ids = [d.task_id for d in dues]
    candidates: dict[int, list[str]] = defaultdict(list)
    unowned = [d.task_id for d in dues if d.task.owner_id is None]
    if unowned:
        for c in TaskCandidate.objects.filter(task_id__in=unowned).select_related("user").order_by("pk"):
            candidates[c.task_id].append(c.user.real_name)
    history: dict[int, list[Reminder]] = defaultdict(list)
    if task_ids:
        for r in (
            Reminder.objects.filter(task_id__in=task_ids).select_related("by").order_by("-sent_at", "-pk")
        ):
            if len(history[r.task_id]) < HISTORY_SHOWN:
                history[r.task_id].append(r)
    rows = []
    for d in dues:
        task = d.task
        data = task.data if isinstance(task.data, dict) else {}
        if task.owner_id is not None:
            holder = task.owner.real_name
        else:
            holder = "待签收：" + "、".join(candidates[task.pk]) if candidates[task.pk] else "待签收"
        rows.append(
            UrgingRow(
                task=task,
                document_id=getattr(d, "document_pk", None),
                title=str(getattr(d, "document_title", "") or data.get("title") or ""),
                step=str(data.get("step_label") or step_label(task)),
                holder=holder,
                since=task.assigned or task.created,
                due_on=d.due_on,
                label=due_label(d.due_on, today, calendar=calendar),
                overdue=is_overdue(d.due_on, today),
                reminder_count=getattr(d, "reminder_count", 0),
                last_reminder=getattr(d, "last_reminder", None),
                history=history[task.pk],
            )
        )
    return rows


def task_for_urging(user: Any, task_id: Any) -> tuple[Task, OfficialDocument]:
    """The task and its document for a 催办 request: 404 when missing or the document is not
    visible to the user; PermissionDenied when they see it but may not urge."""
    try:
        task = Task.objects.select_related("owner", "process").get(pk=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    document = document_of(task)
    if document is None or not documents_access.can_view(user, document):
        raise Http404(NOT_FOUND_MESSAGE)
    if not can_urge(user, document):
        raise PermissionDenied(FORBIDDEN_MESSAGE)
    return task, document


def can_urge_in(user: Any, agency_id: int | None) -> bool:
    """The 催办 page: the agency's office (文秘, 办公室主任, 收发员) or 督查员, as `can_urge`."""
    return agency_id is not None and can_urge(user, OfficialDocument(agency_id=agency_id))


# --- load_demo ----------------------------------------------------------------------------------

DEMO_OFFICE_USER = "huang.lihua"  # 文秘 of 省政府办公厅 in the demo province


def build_urging_demo(stdout: Any = None) -> str:
    """load_demo's "40-urging": the demo's overdue tasks get their reminders (one scan) and one task
    is urged by hand by the office's 文秘. When no demo task has a deadline yet, three of the
    office's open 发文 tasks get one a few working days ago, so the 催办 page shows overdue work."""
    office_user = User.objects.filter(username=DEMO_OFFICE_USER, is_active=True).first()
    if office_user is None or office_user.agency_id is None:
        return ""
    calendar = WorkingCalendar()
    today = timezone.localdate()
    # A demo loaded on a rest day still shows the reminders of the last working day.
    scan_day = today if calendar.is_working_day(today) else calendar.add_working_days(today, -1).due_on
    agency_id = office_user.agency_id
    if not open_deadlines(agency_id).filter(due_on__lt=scan_day).exists():
        open_tasks = list(
            Task.objects.filter(
                status__in=OPEN_STATUSES,
                process__outgoingprocess__document__agency_id=agency_id,
                due__isnull=True,
            ).order_by("pk")[:3]
        )
        for n, task in enumerate(open_tasks):
            set_task_due(task, calendar.add_working_days(scan_day, -(1 + 3 * n)).due_on)
    report = scan_reminders(scan_day)
    urged = ""
    latest = open_deadlines(agency_id).select_related("task").first()
    if latest is not None:
        try:
            urge(latest.task, actor=office_user, note="请抓紧办理，今日下班前反馈进展。")
            urged = "，人工催办 1 件"
        except FlowError:
            urged = ""
    return f"催办：自动提醒 {report.total_sent} 条（{scan_day:%Y-%m-%d}）{urged}。"

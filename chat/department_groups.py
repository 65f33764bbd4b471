"""部门群: one group per department, its members kept equal to the department's people.

Who belongs: the department's active users (primary department) and the active users holding a
兼职 (ConcurrentPost) there, except the 审计管理员 (who never chats, 三员分立). Its 处室负责人
(a DEPT_HEAD grant of that department) are its admins; nobody owns a 部门群 — the org decides who
is in it, so nobody adds, removes or transfers by hand (chat.access.can_change_members).

Two ways keep it true, both through one function (`sync_departments`), so they cannot disagree:

- Signals. A change to a user's department or active state, a 兼职 added or removed, a
  处室负责人 grant, a department deactivated: the receivers only note which users or departments
  changed and ask for one sync after the org transaction commits (`transaction.on_commit`,
  robust). The org service is neither rolled back by a chat failure (logged; the nightly job
  repairs it) nor held up by a large sync: up to INLINE_LIMIT departments are synced right after
  the commit, more (an import, the demo province) go to the worker in tasks of TASK_CHUNK.
- The nightly job ("chat.department_groups"): compares every department with its group in bulk
  (a few queries per 500 departments) and syncs the ones that differ, at most REPAIR_LIMIT per run;
  the rest are left for the next run, which says how many remain. Running it twice changes nothing.

A department that is deactivated (or deleted) dissolves its group: read-only, history kept for
those who were members. Membership changes, with their system messages and pushes, come from
chat.services.sync_members.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from chat.models import Conversation, ConversationKind, MemberRole, Membership
from officeapp.org.models import ConcurrentPost, Department, Role, RoleGrant, User
from officeapp.worker.schedules import Schedule

logger = logging.getLogger(__name__)

SYNC_SCHEDULE = Schedule(
    "chat.department_groups", "chat.department_groups.nightly_sync_job", seconds=24 * 60 * 60
)
# Departments compared per query batch, and departments actually changed per run of the job.
SCAN_BATCH = 500
REPAIR_LIMIT = 2000
# After an org change: this many departments are synced at once, more go to the worker.
INLINE_LIMIT = 20
TASK_CHUNK = 200
USERS_INLINE_LIMIT = 1000
# User fields whose change can move someone in or out of a 部门群.
_USER_FIELDS = frozenset({"department", "department_id", "is_active", "disabled_at"})


@dataclass
class SyncReport:
    scanned: int = 0
    created: int = 0
    synced: int = 0
    dissolved: int = 0
    added: int = 0
    removed: int = 0
    remaining: int = 0
    changed_ids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"部门群：检查 {self.scanned} 个部门，新建 {self.created} 个群，同步 {self.synced} 个"
            f"（加入 {self.added} 人，移出 {self.removed} 人），解散 {self.dissolved} 个，"
            f"留待下次 {self.remaining} 个"
        )


# --- who should be in which group ---------------------------------------------------------------


def _audit_admin_ids() -> set[int]:
    return set(RoleGrant.objects.filter(role=Role.AUDIT_ADMIN).values_list("user_id", flat=True))


def wanted_members(department_ids: Iterable[int]) -> dict[int, set[int]]:
    """department id -> ids of the people who belong in its group (two queries for any number)."""
    ids = list(department_ids)
    wanted: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return wanted
    active = {"is_active": True, "disabled_at__isnull": True}
    for user_id, department_id in User.objects.filter(department_id__in=ids, **active).values_list(
        "pk", "department_id"
    ):
        wanted[department_id].add(user_id)
    for user_id, department_id in ConcurrentPost.objects.filter(
        department_id__in=ids, user__is_active=True, user__disabled_at__isnull=True
    ).values_list("user_id", "department_id"):
        wanted[department_id].add(user_id)
    excluded = _audit_admin_ids()
    if excluded:
        for members in wanted.values():
            members -= excluded
    return wanted


def heads_of(department_ids: Iterable[int]) -> dict[int, set[int]]:
    heads: dict[int, set[int]] = defaultdict(set)
    for user_id, department_id in RoleGrant.objects.filter(
        role=Role.DEPT_HEAD, department_id__in=list(department_ids)
    ).values_list("user_id", "department_id"):
        heads[department_id].add(user_id)
    return heads


def _current_members(conversation_ids: Iterable[int]) -> dict[int, dict[int, str]]:
    """conversation id -> {user id: role} of its current members."""
    current: dict[int, dict[int, str]] = defaultdict(dict)
    for conversation_id, user_id, role in Membership.objects.filter(
        conversation_id__in=list(conversation_ids), left_at__isnull=True
    ).values_list("conversation_id", "user_id", "role"):
        current[conversation_id][user_id] = role
    return current


def group_name(department: Department) -> str:
    agency = department.agency
    prefix = agency.short_name or agency.name
    return f"{prefix}·{department.name}"[:60]


# --- the one sync ---------------------------------------------------------------------------------


def _dissolve(conversation: Conversation) -> None:
    """The department is gone: the group becomes read-only; its members keep its history (the
    owner's chat.services.dissolve refuses a 部门群, which nobody owns)."""
    from chat import services

    services.close_department_group(conversation)


def _group_for(department: Department) -> tuple[Conversation, bool]:
    """The department's group, created when it has none (two syncs at once create one)."""
    existing = Conversation.objects.filter(department=department).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=ConversationKind.DEPARTMENT, department=department, name=group_name(department)
            )
    except IntegrityError:
        return Conversation.objects.get(department=department), False
    return conversation, True


def _set_roles(conversation: Conversation, heads: set[int]) -> None:
    """处室负责人 are the admins; anyone else (a former head) is a plain member."""
    members = Membership.objects.filter(conversation=conversation, left_at__isnull=True)
    members.filter(user_id__in=heads).exclude(role=MemberRole.ADMIN).update(role=MemberRole.ADMIN)
    members.exclude(user_id__in=heads).exclude(role=MemberRole.MEMBER).update(role=MemberRole.MEMBER)


def sync_departments(department_ids: Iterable[int], *, report: SyncReport | None = None) -> SyncReport:
    """Make the groups of these departments match the org now (idempotent). Each department is its
    own transaction: one that fails (logged) does not hold back the others."""
    from chat import services

    report = report or SyncReport()
    ids = sorted(set(department_ids))
    departments = {d.pk: d for d in Department.objects.filter(pk__in=ids).select_related("agency")}
    wanted = wanted_members(ids)
    heads = heads_of(ids)
    groups = {c.department_id: c for c in Conversation.objects.filter(department_id__in=ids)}
    for department_id in ids:
        department = departments.get(department_id)
        group = groups.get(department_id)
        try:
            with transaction.atomic():
                if department is None or not department.is_active:
                    if group is not None and group.dissolved_at is None:
                        _dissolve(group)
                        report.dissolved += 1
                    continue
                members = wanted.get(department_id, set())
                if group is None and not members:
                    continue
                if group is None:
                    group, created = _group_for(department)
                    report.created += int(created)
                if group.dissolved_at is not None:
                    # A department deactivated and then re-activated gets its group back.
                    Conversation.objects.filter(pk=group.pk).update(dissolved_at=None)
                    group.dissolved_at = None
                added, removed = services.sync_members(group, wanted_user_ids=members, actor=None)
                _set_roles(group, heads.get(department_id, set()) & members)
                report.synced += 1
                report.added += len(added)
                report.removed += len(removed)
                if added or removed:
                    report.changed_ids.append(department_id)
        except Exception:
            logger.exception(
                "部门群 sync of department %s failed; the nightly job will repair it", department_id
            )
    return report


def departments_out_of_sync(department_ids: list[int]) -> list[int]:
    """Of these departments, those whose group differs from the org (bulk: four queries)."""
    departments = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "is_active"))
    wanted = wanted_members(department_ids)
    heads = heads_of(department_ids)
    groups = dict(
        Conversation.objects.filter(department_id__in=department_ids).values_list("department_id", "pk")
    )
    dissolved = set(
        Conversation.objects.filter(department_id__in=department_ids, dissolved_at__isnull=False).values_list(
            "department_id", flat=True
        )
    )
    current = _current_members(groups.values())
    differ: list[int] = []
    for department_id in department_ids:
        active = departments.get(department_id, False)
        group_id = groups.get(department_id)
        members = wanted.get(department_id, set())
        if not active:
            if group_id is not None and department_id not in dissolved:
                differ.append(department_id)
            continue
        if group_id is None:
            if members:
                differ.append(department_id)
            continue
        now = current.get(group_id, {})
        admins = {uid for uid, role in now.items() if role == MemberRole.ADMIN}
        if (
            department_id in dissolved
            or set(now) != members
            or admins != heads.get(department_id, set()) & members
        ):
            differ.append(department_id)
    return differ


def full_sync(*, repair_limit: int = REPAIR_LIMIT, batch: int = SCAN_BATCH) -> SyncReport:
    """Compare every department with its group and repair those that differ (at most
    `repair_limit` per run; the rest are counted in `remaining` for the next run)."""
    report = SyncReport()
    last_pk = 0
    while True:
        ids = list(
            Department.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        last_pk = ids[-1]
        report.scanned += len(ids)
        differ = departments_out_of_sync(ids)
        room = max(repair_limit - (report.created + report.synced + report.dissolved), 0)
        sync_departments(differ[:room], report=report)
        report.remaining += len(differ[room:])
    return report


def nightly_sync_job() -> str:
    """The worker's daily repair run; returns its one-line summary for the task log."""
    report = full_sync()
    logger.info("%s", report)
    return str(report)


# --- signals: note what changed, sync once after commit -------------------------------------------

_pending = threading.local()


@dataclass
class _Batch:
    """What one transaction noted. Its flush is that transaction's on_commit callback, so a
    transaction that rolls back takes its batch with it (its callback is dropped unrun)."""

    users: set[int] = field(default_factory=set)
    departments: set[int] = field(default_factory=set)

    def flush(self) -> SyncReport | None:
        return _flush(self)


def _open_batch() -> _Batch | None:
    """The batch whose flush is still waiting for this thread's transaction to commit, if any."""
    batch = getattr(_pending, "batch", None)
    if batch is None:
        return None
    waiting = transaction.get_connection().run_on_commit
    return batch if any(func == batch.flush for _, func, _ in waiting) else None


def departments_of_users(user_ids: Iterable[int]) -> set[int]:
    """Every department whose group these users are in now or should be in."""
    ids = list(user_ids)
    if not ids:
        return set()
    found = set(
        User.objects.filter(pk__in=ids, department_id__isnull=False).values_list("department_id", flat=True)
    )
    found |= set(ConcurrentPost.objects.filter(user_id__in=ids).values_list("department_id", flat=True))
    found |= set(
        Membership.objects.filter(
            user_id__in=ids, left_at__isnull=True, conversation__kind=ConversationKind.DEPARTMENT
        )
        .exclude(conversation__department_id__isnull=True)
        .values_list("conversation__department_id", flat=True)
    )
    return found


def _flush(batch: _Batch) -> SyncReport | None:
    """Run the sync for what the committed transaction noted."""
    user_ids, department_ids = set(batch.users), set(batch.departments)
    batch.users.clear()
    batch.departments.clear()
    if not user_ids and not department_ids:
        return None
    try:
        if len(user_ids) > USERS_INLINE_LIMIT:
            # An import of thousands of people: the worker compares every department in bulk.
            from django_q.tasks import async_task

            async_task("chat.department_groups.nightly_sync_job", group="chat")
            return None
        ids = sorted(department_ids | departments_of_users(user_ids))
        if len(ids) <= INLINE_LIMIT:
            return sync_departments(ids)
        _enqueue(ids)
    except Exception:
        logger.exception("部门群 sync after an org change failed; the nightly job will repair it")
    return None


def _enqueue(department_ids: list[int]) -> None:
    from django_q.tasks import async_task

    for start in range(0, len(department_ids), TASK_CHUNK):
        chunk = department_ids[start : start + TASK_CHUNK]
        async_task("chat.department_groups.sync_departments_task", chunk, group="chat")


def sync_departments_task(department_ids: list[int]) -> str:
    """The worker's part of a large org change (idempotent: a redelivered task finds nothing to do)."""
    return str(sync_departments(department_ids))


def _note(*, user_id: int | None = None, department_id: int | None = None) -> None:
    batch = _open_batch()
    if batch is None:
        batch = _pending.batch = _Batch()
    if user_id is not None:
        batch.users.add(user_id)
    if department_id is not None:
        batch.departments.add(department_id)
    # Registered after the ids are in (outside a transaction on_commit runs at once), once per note:
    # the first to run syncs the whole batch, the others find it empty.
    transaction.on_commit(batch.flush, robust=True)


def _changed(update_fields: Any, watched: frozenset[str]) -> bool:
    return update_fields is None or bool(set(update_fields) & watched)


def on_user_saved(
    sender: Any, instance: User, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    if created or _changed(update_fields, _USER_FIELDS):
        _note(user_id=instance.pk)


def on_concurrent_post_changed(sender: Any, instance: ConcurrentPost, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    _note(user_id=instance.user_id, department_id=instance.department_id)


def on_role_grant_changed(sender: Any, instance: RoleGrant, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if instance.role in (Role.DEPT_HEAD, Role.AUDIT_ADMIN):
        _note(user_id=instance.user_id, department_id=instance.department_id)


def on_department_saved(
    sender: Any, instance: Department, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if kwargs.get("raw") or created:
        return
    if _changed(update_fields, frozenset({"is_active"})):
        _note(department_id=instance.pk)


def on_department_deleting(sender: Any, instance: Department, **kwargs: Any) -> None:
    # The group's link to the department is nulled by the delete; dissolve it after commit by id.
    group_ids = list(Conversation.objects.filter(department=instance).values_list("pk", flat=True))

    def dissolve_groups() -> None:
        for group in Conversation.objects.filter(pk__in=group_ids, dissolved_at__isnull=True):
            with transaction.atomic():
                _dissolve(group)

    if group_ids:
        transaction.on_commit(dissolve_groups, robust=True)


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready()."""
    from chat.handover import GroupOwnershipHandover
    from officeapp.registries import handover_providers, worker_schedules

    uid = "chat.department_groups."
    post_save.connect(on_user_saved, sender=User, dispatch_uid=uid + "user")
    post_save.connect(on_concurrent_post_changed, sender=ConcurrentPost, dispatch_uid=uid + "post_saved")
    post_delete.connect(on_concurrent_post_changed, sender=ConcurrentPost, dispatch_uid=uid + "post_deleted")
    post_save.connect(on_role_grant_changed, sender=RoleGrant, dispatch_uid=uid + "grant_saved")
    post_delete.connect(on_role_grant_changed, sender=RoleGrant, dispatch_uid=uid + "grant_deleted")
    post_save.connect(on_department_saved, sender=Department, dispatch_uid=uid + "department")
    pre_delete.connect(on_department_deleting, sender=Department, dispatch_uid=uid + "department_deleted")
    worker_schedules.register(SYNC_SCHEDULE.name, SYNC_SCHEDULE)
    # When a user is disabled or transferred, the groups they own pass on (chat/handover.py).
    provider = GroupOwnershipHandover()
    handover_providers.register(provider.name, provider)

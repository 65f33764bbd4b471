"""Who gets each task of the 督办 flow, decided when viewflow creates it (the node's onCreate hook).

登记编号, 拟办, 交办, 审核, 销号: the item's 督查员 (if no longer active, the agency's 督查员s as
candidates, else its office). 审定: the agency's 办公室主任 — the office approves the 督办通知单
(units, 时限, 反馈频次) as flows.md §3 reads "办公室主任 / 领导"; the instructing leader already gave
his 批示 and sees the result at 报送领导审阅, so he is asked only when the agency has no 办公室主任.
签收 and 承办: the 牵头单位 — a department's heads (或签: the first to act claims it) or, for another
agency, its 办公室主任 (else 文秘). 报送领导审阅: the item's `leader` (who gave the 批示), else the
responsible leader (`responsible_leader`). 归档: the agency's 档案员, else 文秘.

As in the 发文/收文 flows: delegations (委托, scope 督办) are honoured — a task handed to a delegate
at creation remembers whom it is for (`for_user`), so the opinion says 代 —, holders and candidates
become SupervisionParticipants, the item's state follows the node, 签收/承办 get the item's 完成时限
as their 办理时限 (TaskDue, so 催办 reaches them through the 收文 mechanism), and the inbox change is
pushed after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from viewflow.workflow.status import STATUS

from officeapp.access import dept_heads_of, effective_assignees
from officeapp.org.models import DelegationScope, Portfolio, Role, User
from workflows.assignment import role_holders
from workflows.flows import SUPERVISION_STEP_LABELS
from workflows.live import push_inbox_changed
from workflows.models import (
    ItemState,
    SupervisionItem,
    SupervisionParticipant,
    SupervisionProcess,
    TaskCandidate,
)
from workflows.urging import set_task_due

# The steps the 督查员 holds.
SUPERVISOR_STEPS = frozenset({"register", "propose", "assign", "review", "close"})
# The steps the 牵头单位 holds; their 办理时限 is the item's 完成时限.
UNIT_STEPS = frozenset({"accept", "handle"})


def task_url(task_id: int) -> str:
    """The 督办 task page (workflows/views/supervision.py, helper S3)."""
    return f"/workflows/supervision/tasks/{task_id}/"


def _first_of(agency_id: int, *roles: str) -> list[User]:
    for role in roles:
        users = list(role_holders(role, agency_id))
        if users:
            return users
    return []


def supervisors_of(item: SupervisionItem) -> list[User]:
    """The item's 督查员, else the agency's 督查员s, else its office."""
    supervisor = item.supervisor
    if supervisor is not None and supervisor.is_active:
        return [supervisor]
    return _first_of(item.agency_id, Role.SUPERVISOR, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY)


def unit_people(*, department_id: int | None = None, agency_id: int | None = None) -> list[User]:
    """Who acts for a unit: a department's heads, or another agency's 办公室主任 (else 文秘)."""
    if department_id:
        return list(dept_heads_of(department_id).order_by("pk"))
    if agency_id:
        return _first_of(agency_id, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY)
    return []


def lead_people(item: SupervisionItem) -> list[User]:
    return unit_people(department_id=item.lead_department_id, agency_id=item.lead_agency_id)


def responsible_leader(item: SupervisionItem) -> User | None:
    """Who decides for the item (延期审批, and 报送领导审阅 when no leader instructed): the item's
    instructing leader; else the supervising agency's leader whose 分管 covers the 牵头单位 (its
    department, or the other agency); else the one over the whole agency; else any of its leaders."""
    if item.leader_id is not None and item.leader.is_active:
        return item.leader
    leaders = User.objects.filter(
        is_active=True, role_grants__role=Role.LEADER, role_grants__agency_id=item.agency_id
    ).distinct()
    portfolios = Portfolio.objects.filter(leader__in=leaders).order_by("pk")
    if item.lead_department_id is not None:
        found = portfolios.filter(department_id=item.lead_department_id).first()
        if found is not None:
            return found.leader
    if item.lead_agency_id is not None:
        found = portfolios.filter(agency_id=item.lead_agency_id).first()
        if found is not None:
            return found.leader
    whole = portfolios.filter(agency_id=item.agency_id).first()
    if whole is not None:
        return whole.leader
    return leaders.order_by("pk").first()


def candidates_for(step: str, item: SupervisionItem) -> list[User]:
    if step in SUPERVISOR_STEPS:
        return supervisors_of(item)
    if step == "approve":
        director = _first_of(item.agency_id, Role.OFFICE_DIRECTOR)
        if director:
            return director
        leader = responsible_leader(item)
        return [leader] if leader is not None else []
    if step in UNIT_STEPS:
        return lead_people(item)
    if step == "leader_review":
        leader = responsible_leader(item)
        return [leader] if leader is not None else []
    if step == "archive":
        return _first_of(item.agency_id, Role.ARCHIVIST, Role.OFFICE_SECRETARY)
    return []


def fallback_candidates(item: SupervisionItem) -> list[User]:
    """Nobody holds the role (a unit without a head …): the 督查员 takes it and can 转办."""
    return supervisors_of(item) or _first_of(item.agency_id, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY)


def assign(task: Any, users: list[User], *, fresh: bool = False) -> list[User]:
    """Give the task to one person or to candidates (或签); delegations of scope 督办 honoured.
    A single person replaced by a delegate is remembered in the task's data (`for_user`)."""
    people = effective_assignees(users, scope=DelegationScope.SUPERVISION)
    if not fresh:
        TaskCandidate.objects.filter(task=task).delete()
    data = dict(task.data) if isinstance(task.data, dict) else {}
    data.pop("for_user", None)
    if len(people) == 1:
        task.owner = people[0]
        task.status = STATUS.ASSIGNED
        if len(users) == 1 and users[0].pk != people[0].pk:
            data["for_user"] = users[0].pk
    else:
        task.owner = None
        task.status = STATUS.NEW
        TaskCandidate.objects.bulk_create([TaskCandidate(task=task, user=u) for u in people])
    task.data = data
    return people


def add_participants(item: SupervisionItem, users: Iterable[User]) -> None:
    ids = {u.pk for u in users if u is not None}
    if ids:
        SupervisionParticipant.objects.bulk_create(
            [SupervisionParticipant(item=item, user_id=uid) for uid in sorted(ids)], ignore_conflicts=True
        )


def lead_unit_data(item: SupervisionItem) -> dict[str, Any]:
    if item.lead_department_id is not None:
        return {"kind": "department", "id": item.lead_department_id, "label": item.lead_label, "role": "lead"}
    return {"kind": "agency", "id": item.lead_agency_id, "label": item.lead_label, "role": "lead"}


def inbox_data(item: SupervisionItem, step: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = dict(extra or {})
    data.update(
        flow="supervision",
        title=item.title,
        item_id=item.pk,
        # The inbox's number column: the 督办编号 once registered.
        doc_number=item.number,
        supervision_number=item.number,
        importance=item.importance,
        # Only 重大 items show as urgent in the inbox.
        urgency="urgent" if item.importance == "critical" else "normal",
        light=item.light,
        step=step,
        step_label=SUPERVISION_STEP_LABELS.get(step, step),
        agency=item.agency.short_name or item.agency.name,
        drafter="",
    )
    if step in UNIT_STEPS:
        data["unit"] = lead_unit_data(item)
    if item.due_on:
        data["deadline"] = item.due_on.isoformat()
    else:
        data.pop("deadline", None)
    return data


def _returned_note(item: SupervisionItem, step: str) -> dict[str, Any]:
    """Back at 拟办 after "not ours", or at 承办 after 退办/重办: the reason, shown on the task."""
    from workflows.models import Decision, Opinion

    wanted = {"propose": ("accept", Decision.NOT_OURS), "handle": ("review", Decision.DISAGREE)}
    if step not in wanted:
        return {}
    from_step, decision = wanted[step]
    opinion = (
        Opinion.objects.filter(item=item, step=from_step)
        .select_related("author")
        .order_by("-created_at", "-pk")
        .first()
    )
    if opinion is None or opinion.decision != decision:
        return {}
    return {
        "returned": {
            "decision": opinion.get_decision_display(),
            "reason": opinion.text,
            "by": opinion.author.real_name,
            "step_label": opinion.step_label,
        }
    }


def on_task_created(activation: Any) -> None:
    task = activation.task
    process: SupervisionProcess = activation.process
    item = (
        SupervisionItem.objects.select_related(
            "agency", "supervisor", "leader", "lead_department", "lead_agency"
        )
        .filter(pk=process.item_id)
        .first()
    )
    if item is None:  # pragma: no cover - the process is created with its item
        raise ValueError("督办流程没有督办事项")
    step = task.flow_task.name
    data = task.data if isinstance(task.data, dict) else {}
    users = candidates_for(step, item) or fallback_candidates(item)
    task.data = {**inbox_data(item, step, data), **_returned_note(item, step)}
    people = assign(task, users, fresh=True)
    task.data = {**task.data, "url": task_url(task.pk)}
    task.save(update_fields=["owner", "status", "data"])
    if item.state != step:
        item.state = ItemState(step)
        item.updated_at = timezone.now()
        SupervisionItem.objects.filter(pk=item.pk).update(state=item.state, updated_at=item.updated_at)
    add_participants(item, [*people, *users])
    if step in UNIT_STEPS:
        set_task_due(task, item.due_on)
    push_inbox_changed([u.pk for u in people], task_id=task.pk, action="created", title=item.title)

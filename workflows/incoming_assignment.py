"""Who gets each task of the 收文 flow, decided when viewflow creates it (the node's onCreate hook).

登记: the 收发员 who signed for the document (or registered it by hand). 初审, 分办, 办结: the
receiving agency's 文秘 (分办 falls back to its 收发员). 拟办: the 办公室主任, else the 文秘. 批办:
the leader chosen at 拟办. 承办: one task per unit (主办 and each 协办), for the unit's heads (或签,
the first to claim it wins) unless a head has given it to a person of the unit. 答复: whoever
handled the 主办 unit's 承办. 归档: the 档案员, else the 文秘.

As in the 发文 flow: delegations (委托, scope 收文) are honoured, candidates become participants,
the document's state follows the node, the task gets its 办理时限 (`TaskDue`) and the inbox change
is pushed after commit.
"""

from __future__ import annotations

from typing import Any

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import DocumentState, OfficialDocument
from documents.services import add_participants, set_state
from officeapp.access import dept_heads_of, effective_assignees
from officeapp.org.models import DelegationScope, Department, Role, User
from workflows.assignment import role_holders
from workflows.flows import INCOMING_STEP_LABELS
from workflows.live import push_inbox_changed
from workflows.models import Decision, IncomingProcess, Opinion, TaskCandidate
from workflows.urging import set_task_due

LEAD = "lead"
CO = "co"


def task_url(task_id: int) -> str:
    """The 收文 task page (workflows/views, helper C)."""
    return f"/workflows/incoming/tasks/{task_id}/"


def _first_of(agency_id: int, *roles: str) -> list[User]:
    for role in roles:
        users = list(role_holders(role, agency_id))
        if users:
            return users
    return []


def unit_of(department: Department, role: str) -> dict[str, Any]:
    """A 承办 unit as stored in the task's data: `role` is "lead" (主办) or "co" (协办)."""
    return {"kind": "department", "id": department.pk, "label": department.name, "role": role}


def _handle_node() -> Any:
    from workflows.flows import IncomingFlow

    return IncomingFlow.instance.handle


def units_done(process: IncomingProcess) -> set[int]:
    """Units that have already reported their 办理情况 (agreed at 承办) in this process."""
    done = Task.objects.filter(process=process, flow_task=_handle_node(), status=STATUS.DONE)
    agreed = set(
        Opinion.objects.filter(task__in=done, decision=Decision.AGREE).values_list("task_id", flat=True)
    )
    return {int((t.data or {}).get("unit", {}).get("id", 0)) for t in done if t.pk in agreed}


def handling_units(process: IncomingProcess) -> list[dict[str, Any]]:
    """The units that get a 承办 task when the flow reaches the split: the 主办 unit, then each 协办.

    After a unit said "not ours" the flow comes back here through 分办: units that have already
    reported are not asked again (unless every unit has, e.g. after a 退回 to 分办: then all are)."""
    units: list[dict[str, Any]] = []
    if process.lead_unit_id is None:
        return units
    lead = process.lead_unit
    units.append(unit_of(lead, LEAD))
    co_ids = [int(i) for i in (process.co_units or []) if int(i) != lead.pk]
    by_id = Department.objects.in_bulk(co_ids)
    units.extend(unit_of(by_id[i], CO) for i in co_ids if i in by_id)
    done = units_done(process)
    remaining = [u for u in units if u["id"] not in done]
    return remaining or units


def lead_handler(process: IncomingProcess) -> User | None:
    """Who handled the 主办 unit's 承办 (the last one, after any not-ours loop)."""
    tasks = Task.objects.filter(
        process=process, flow_task=_handle_node(), status=STATUS.DONE, owner__isnull=False
    ).order_by("-finished", "-pk")
    for t in tasks:
        unit = (t.data or {}).get("unit") or {}
        if unit.get("id") == process.lead_unit_id:
            return t.owner
    return None


def candidates_for(step: str, process: IncomingProcess, task_data: dict[str, Any]) -> list[User]:
    document = process.document
    agency_id = document.agency_id
    if step == "register":
        return [document.drafter]
    if step == "propose":
        return _first_of(agency_id, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY)
    if step == "instruct":
        leader = process.instructing_leader
        return [leader] if leader is not None and leader.is_active else []
    if step == "assign":
        return _first_of(agency_id, Role.OFFICE_SECRETARY, Role.CLERK)
    if step == "handle":
        unit = task_data.get("unit") or {}
        return list(dept_heads_of(int(unit.get("id", 0))).order_by("pk"))
    if step == "reply":
        handler = lead_handler(process)
        if handler is not None and handler.is_active:
            return [handler]
        return list(dept_heads_of(process.lead_unit_id or 0).order_by("pk"))
    if step == "archive":
        return _first_of(agency_id, Role.ARCHIVIST, Role.OFFICE_SECRETARY)
    # screen, complete: the office's 文秘.
    return _first_of(agency_id, Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR)


def fallback_candidates(document: OfficialDocument) -> list[User]:
    """Nobody holds the role: the office director (or 文秘) takes it and can 转办."""
    return _first_of(document.agency_id, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY)


def assign(task: Any, users: list[User], *, fresh: bool = False) -> list[User]:
    """Give the task to one person or to candidates (或签); delegations of scope 收文 honoured."""
    people = effective_assignees(users, scope=DelegationScope.INCOMING)
    if not fresh:
        TaskCandidate.objects.filter(task=task).delete()
    if len(people) == 1:
        task.owner = people[0]
        task.status = STATUS.ASSIGNED
    else:
        task.owner = None
        task.status = STATUS.NEW
        TaskCandidate.objects.bulk_create([TaskCandidate(task=task, user=u) for u in people])
    return people


def deadline_of(process: IncomingProcess) -> Any:
    """The 办理时限: set at 批办/分办 on the process, else the one defaulted at 登记."""
    return process.deadline or process.document.deadline


def inbox_data(process: IncomingProcess, step: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    document = process.document
    record = getattr(document, "incoming", None)
    data: dict[str, Any] = dict(extra or {})
    data.update(
        flow="incoming",
        title=document.title,
        # The inbox's number column: the 收文号 once registered, the 来文字号 before.
        doc_number=(record.number or record.source_number) if record else "",
        incoming_number=record.number if record else "",
        source_number=record.source_number if record else "",
        source_name=record.source_name if record else "",
        urgency=document.urgency,
        document_id=document.pk,
        step=step,
        step_label=INCOMING_STEP_LABELS.get(step, step),
        # 来文单位 where the 发文 inbox shows the issuing agency.
        agency=record.source_name if record else "",
        drafter="",
        department_id=document.department_id,
    )
    deadline = deadline_of(process)
    if deadline:
        data["deadline"] = deadline.isoformat()
    else:
        data.pop("deadline", None)
    return data


def on_task_created(activation: Any) -> None:
    task = activation.task
    process: IncomingProcess = activation.process
    document = process.document
    step = task.flow_task.name
    data = task.data if isinstance(task.data, dict) else {}
    handler_id = data.get("handler")
    if step == "handle" and handler_id:
        users = list(User.objects.filter(pk=handler_id, is_active=True))
    else:
        users = candidates_for(step, process, data)
    users = users or fallback_candidates(document)
    people = assign(task, users, fresh=True)
    task.data = {**inbox_data(process, step, data), "url": task_url(task.pk)}
    task.save(update_fields=["owner", "status", "data"])
    if document.state != step:
        set_state(document, DocumentState(step))
    add_participants(document, [*people, *users])
    set_task_due(task, deadline_of(process))
    push_inbox_changed([u.pk for u in people], task_id=task.pk, action="created", title=document.title)

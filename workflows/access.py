"""Who may open or act on a task of a flow (发文, 收文), a 传阅 item or a 催办. Entry points look up
only through here.

A task page opens for its owner, the owner's current delegate (委托, scope of the flow), a candidate
of an unclaimed group task, and — read-only — anyone who may see the document. Everyone else gets
the same 404 as for a missing task.
"""

from __future__ import annotations

from typing import Any

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents import access as documents_access
from officeapp.access import NOT_FOUND_MESSAGE, active_delegate, get_or_404, grants_of, has_role
from officeapp.org.models import DelegationScope, Role
from workflows.models import (
    CirculationReader,
    CommonOpinion,
    IncomingProcess,
    OutgoingProcess,
    TaskCandidate,
)

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
# After 签发 the text changes only at 复核 (issue 4); 排版 on, it is frozen.
BODY_EDITING_STEPS = frozenset({"draft", "dept_review", "countersign", "office_review", "recheck"})


def step_may_edit_body(step: str) -> bool:
    return step in BODY_EDITING_STEPS


def get_task_for(user: Any, task_id: Any) -> Task:
    """A task of the 发文 flow whose document the user may see; else 404."""
    from django.http import Http404

    try:
        task = Task.objects.select_related("process", "owner").get(pk=int(task_id))
        process = OutgoingProcess.objects.select_related("document").get(pk=task.process_id)
    except (Task.DoesNotExist, OutgoingProcess.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not documents_access.can_view(user, process.document):
        raise Http404(NOT_FOUND_MESSAGE)
    task.outgoing = process  # type: ignore[attr-defined]
    return task


def get_process_for(user: Any, process_id: Any) -> OutgoingProcess:
    """A 发文 process whose document the user may see; else the same 404 as a missing one."""
    from django.http import Http404

    try:
        process = OutgoingProcess.objects.select_related("document").get(pk=int(process_id))
    except (OutgoingProcess.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not documents_access.can_view(user, process.document):
        raise Http404(NOT_FOUND_MESSAGE)
    return process


def get_common_opinion_for(user: Any, opinion_id: Any) -> CommonOpinion:
    """One of the user's own 常用意见; anyone else's is a 404."""
    from officeapp.access import get_or_404

    return get_or_404(CommonOpinion.objects.filter(user=user), pk=opinion_id)


def can_act(user: Any, task: Task) -> bool:
    """Holds the open task (or is its owner's delegate, or a candidate of an unclaimed one)."""
    if task.status not in OPEN:
        return False
    if task.owner_id == user.pk:
        return True
    if task.owner_id is None:
        return TaskCandidate.objects.filter(task=task, user=user).exists()
    return active_delegate(task.owner, scope=DelegationScope.OUTGOING) == user


def can_claim(user: Any, task: Task) -> bool:
    return (
        task.status == STATUS.NEW
        and task.owner_id is None
        and TaskCandidate.objects.filter(task=task, user=user).exists()
    )


def can_manage(user: Any, process: OutgoingProcess) -> bool:
    """重定位, 挂起, 终止, 加签/减签: the issuing agency's office."""
    return documents_access.can_manage_flow(user, process.document)


def can_transfer(user: Any, task: Task, process: OutgoingProcess) -> bool:
    """转办: the holder hands the task on, or the office moves it."""
    return (task.status in OPEN and task.owner_id == user.pk) or can_manage(user, process)


def can_withdraw(user: Any, task: Task) -> bool:
    return task.status == STATUS.DONE and task.owner_id == user.pk


# --- 收文 ---------------------------------------------------------------------------------------

# The receiving agency's office runs the 收文 process: 登记, 初审, 拟办, 分办, 催办, 重定位.
INCOMING_OFFICE_ROLES = (Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR, Role.CLERK)


def scope_of(task: Task) -> str:
    """The delegation scope of a task's flow: a 委托 for 收文 covers 收文 tasks only."""
    return (
        DelegationScope.INCOMING
        if task.flow_task.flow_class.process_class is IncomingProcess
        else DelegationScope.OUTGOING
    )


def get_incoming_task_for(user: Any, task_id: Any) -> Task:
    """A task of the 收文 flow whose document the user may see; else 404. `task.incoming` is its process."""
    from django.http import Http404

    try:
        task = Task.objects.select_related("process", "owner").get(pk=int(task_id))
        process = IncomingProcess.objects.select_related("document__incoming", "document__agency").get(
            pk=task.process_id
        )
    except (Task.DoesNotExist, IncomingProcess.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not documents_access.can_view(user, process.document):
        raise Http404(NOT_FOUND_MESSAGE)
    task.incoming = process  # type: ignore[attr-defined]
    return task


def get_incoming_process_for(user: Any, process_id: Any) -> IncomingProcess:
    from django.http import Http404

    try:
        process = IncomingProcess.objects.select_related("document__incoming").get(pk=int(process_id))
    except (IncomingProcess.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not documents_access.can_view(user, process.document):
        raise Http404(NOT_FOUND_MESSAGE)
    return process


def runs_incoming(user: Any, agency_id: int) -> bool:
    """The receiving agency's office: its 文秘, 办公室主任 or 收发员."""
    return any(has_role(user, role, agency=agency_id) for role in INCOMING_OFFICE_ROLES)


def can_act_incoming(user: Any, task: Task) -> bool:
    if task.status not in OPEN:
        return False
    if task.owner_id == user.pk:
        return True
    if task.owner_id is None:
        return TaskCandidate.objects.filter(task=task, user=user).exists()
    return active_delegate(task.owner, scope=DelegationScope.INCOMING) == user


def can_manage_incoming(user: Any, process: IncomingProcess) -> bool:
    """重定位, 挂起, 转办 of any task: the receiving agency's 办公室主任 or 文秘."""
    agency_id = process.document.agency_id
    return has_role(user, Role.OFFICE_DIRECTOR, agency=agency_id) or has_role(
        user, Role.OFFICE_SECRETARY, agency=agency_id
    )


# --- 传阅 ---------------------------------------------------------------------------------------


def get_reading_for(user: Any, reading_id: Any) -> CirculationReader:
    """One 传阅 item of the user's own (or of someone they read for under a 委托); else 404."""
    reading = get_or_404(
        CirculationReader.objects.select_related("circulation__document", "reader"), pk=reading_id
    )
    # The reader — or the person a delegate read for (代阅), who follows their own notification here.
    if reading.reader_id == user.pk or reading.on_behalf_of_id == user.pk:
        return reading
    if active_delegate(reading.reader, scope=DelegationScope.INCOMING) == user:
        return reading
    from django.http import Http404

    raise Http404(NOT_FOUND_MESSAGE)


def can_circulate(user: Any, document: Any) -> bool:
    """Start a 传阅: the document's agency's office (文秘, 办公室主任, 收发员)."""
    return runs_incoming(user, document.agency_id)


# --- 催办 ---------------------------------------------------------------------------------------


def can_urge(user: Any, document: Any) -> bool:
    """Manual 催办 on a document's open tasks: its agency's office or 督查员."""
    return runs_incoming(user, document.agency_id) or has_role(
        user, Role.SUPERVISOR, agency=document.agency_id
    )


# --- 督查督办 -------------------------------------------------------------------------------------

# Who runs 督办 for an agency: its 督查员 and its office (办公室主任, 文秘).
SUPERVISION_OFFICE_ROLES = (Role.SUPERVISOR, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY)


def supervising_agencies(user: Any) -> list[int]:
    """Agencies whose every 督办事项 the user sees and runs (督查员, 办公室主任, 文秘)."""
    return documents_access._agencies_with(user, set(SUPERVISION_OFFICE_ROLES))


def can_supervise(user: Any, agency_id: int) -> bool:
    """立项, 交办, 审核, 销号, 延期初审: the agency's 督查员 or office."""
    return agency_id in supervising_agencies(user)


def supervision_reach(user: Any) -> tuple[list[int], list[int], list[int], list[int]]:
    """(agencies the user supervises, departments and agencies whose items they see as a unit,
    agencies a 分管 portfolio covers whole) — the reasons of `visible_items`."""
    from officeapp.org.models import Portfolio

    offices = supervising_agencies(user)
    grants = grants_of(user)
    head_of = [g.department_id for g in grants if g.role == Role.DEPT_HEAD and g.department_id]
    unit_agencies = [
        g.agency_id
        for g in grants
        if g.agency_id and g.role in (Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY, Role.LEADER)
    ]
    portfolio = list(Portfolio.objects.filter(leader=user).values_list("department_id", "agency_id"))
    departments = head_of + [d for d, _ in portfolio if d]
    agencies = unit_agencies + [a for _, a in portfolio if a]
    whole = [a for _, a in portfolio if a]
    return offices, departments, agencies, whole


def visible_items(user: Any) -> Any:
    """督办事项 the user may see, one indexed condition per reason:
    - the supervising agency's 督查员/office: all of that agency's items;
    - a department head (处室负责人): items her departments lead or help with (SupervisionUnit);
    - an agency's office or leaders: items their agency leads or helps with (an agency as unit);
    - a leader: items of the departments (or whole agencies) his 分管 covers, and those he instructed;
    - anyone who held a task or reported on it (SupervisionParticipant)."""
    from django.db.models import Q

    from officeapp.org.models import Department
    from workflows.models import SupervisionItem, SupervisionParticipant, SupervisionUnit

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return SupervisionItem.objects.none()
    offices, departments, agencies, whole = supervision_reach(user)
    condition = Q(pk__in=SupervisionParticipant.objects.filter(user=user).values("item_id")) | Q(leader=user)
    if offices:
        condition |= Q(agency_id__in=offices)
    if departments:
        condition |= Q(pk__in=SupervisionUnit.objects.filter(department_id__in=departments).values("item_id"))
    if agencies:
        condition |= Q(pk__in=SupervisionUnit.objects.filter(agency_id__in=agencies).values("item_id"))
    if whole:
        # A leader over a whole agency sees every item one of its departments leads or helps with.
        # The lead is read on the item (its 牵头单位 fields and its lead SupervisionUnit row are
        # written together), so only the 协办 rows are looked up: a subquery over every unit row of
        # the agency cost more than the rest of the dashboard at 10⁵ items.
        agency_departments = Department.objects.filter(agency_id__in=whole).values("pk")
        condition |= Q(lead_department_id__in=agency_departments) | Q(
            pk__in=SupervisionUnit.objects.filter(is_lead=False, department_id__in=agency_departments).values(
                "item_id"
            )
        )
    return SupervisionItem.objects.filter(condition)


def visible_item_ids(user: Any, *, limit: int) -> set[int] | None:
    """The ids of `visible_items(user)` when there are at most `limit` of them, else None — in one
    query: each reason's indexed lookup, UNION ALL, stopped after limit + 1 rows. (The OR of
    `visible_items` reads the whole table to find a department head's few thousand items.)"""
    from officeapp.org.models import Department
    from workflows.models import SupervisionItem, SupervisionParticipant, SupervisionUnit

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    offices, departments, agencies, whole = supervision_reach(user)
    sources = [
        SupervisionParticipant.objects.filter(user=user).values_list("item_id", flat=True),
        SupervisionItem.objects.filter(leader=user).values_list("pk", flat=True),
    ]
    if offices:
        sources.append(SupervisionItem.objects.filter(agency_id__in=offices).values_list("pk", flat=True))
    if departments:
        sources.append(
            SupervisionUnit.objects.filter(department_id__in=departments).values_list("item_id", flat=True)
        )
    if agencies:
        sources.append(
            SupervisionUnit.objects.filter(agency_id__in=agencies).values_list("item_id", flat=True)
        )
    if whole:
        agency_departments = Department.objects.filter(agency_id__in=whole).values("pk")
        sources.append(
            SupervisionItem.objects.filter(lead_department_id__in=agency_departments).values_list(
                "pk", flat=True
            )
        )
        sources.append(
            SupervisionUnit.objects.filter(is_lead=False, department_id__in=agency_departments).values_list(
                "item_id", flat=True
            )
        )
    # An item seen for two reasons comes twice: more rows than `limit` only ever means "too many to
    # pin", never a missing id.
    rows = list(sources[0].order_by().union(*(q.order_by() for q in sources[1:]), all=True)[: limit + 1])
    return set(rows) if len(rows) <= limit else None


def get_item_for(user: Any, item_id: Any) -> Any:
    """A 督办事项 the user may see; else the same 404 as a missing one."""
    return get_or_404(
        visible_items(user).select_related("agency", "lead_department", "lead_agency"), pk=item_id
    )


def get_supervision_task_for(user: Any, task_id: Any) -> Task:
    """A task of the 督办 flow whose item the user may see; else 404. `task.supervision` is its process."""
    from django.http import Http404

    from workflows.models import SupervisionProcess

    try:
        task = Task.objects.select_related("process", "owner").get(pk=int(task_id))
        process = SupervisionProcess.objects.select_related("item__agency").get(pk=task.process_id)
    except (Task.DoesNotExist, SupervisionProcess.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not visible_items(user).filter(pk=process.item_id).exists():
        raise Http404(NOT_FOUND_MESSAGE)
    task.supervision = process  # type: ignore[attr-defined]
    return task


def can_act_supervision(user: Any, task: Task) -> bool:
    if task.status not in OPEN:
        return False
    if task.owner_id == user.pk:
        return True
    if task.owner_id is None:
        return TaskCandidate.objects.filter(task=task, user=user).exists()
    return active_delegate(task.owner, scope=DelegationScope.SUPERVISION) == user


def can_report_on(user: Any, item: Any) -> bool:
    """进展反馈 and 延期申请 come from the item's units: a person of (or the head of) a 主办/协办
    department, or a person of a 主办/协办 agency. The service decides again when they submit."""
    from django.db.models import Q

    from workflows.models import SupervisionUnit

    departments = {user.department_id} if getattr(user, "department_id", None) else set()
    departments |= {g.department_id for g in grants_of(user) if g.role == Role.DEPT_HEAD and g.department_id}
    agency = getattr(getattr(user, "department", None), "agency_id", None)
    agencies = {agency} if agency else set()
    return SupervisionUnit.objects.filter(
        Q(item=item) & (Q(department_id__in=departments) | Q(agency_id__in=agencies))
    ).exists()


# --- search (issue 9): the principals that mirror `visible_items` ------------------------------------
# An indexed 督办事项 (and each of its 进展反馈, shown on the item page to whoever sees the item)
# carries `item_principals(item)`; a query carries `search_principals_of(user)`. One principal per
# reason of `visible_items`, so that "a principal in common" is exactly "visible_items has it".


def item_principals(item: Any) -> frozenset[str]:
    """The item side of `visible_items`: its participants and 批办领导 (u:), the supervising agency's
    office (sup-office:), its unit departments and agencies (sup-dept:, sup-agency:), and the
    agencies a whole-agency 分管 covers through it (sup-whole:) — as there, the 牵头 department is
    read on the item and only the 协办 unit rows are looked at."""
    from officeapp.org.models import Department
    from workflows.models import SupervisionParticipant, SupervisionUnit

    principals = {
        f"u:{uid}"
        for uid in SupervisionParticipant.objects.filter(item_id=item.pk).values_list("user_id", flat=True)
    }
    if item.leader_id:
        principals.add(f"u:{item.leader_id}")
    principals.add(f"sup-office:{item.agency_id}")
    units = list(
        SupervisionUnit.objects.filter(item_id=item.pk).values_list("department_id", "agency_id", "is_lead")
    )
    for department_id, agency_id, _ in units:
        if department_id:
            principals.add(f"sup-dept:{department_id}")
        if agency_id:
            principals.add(f"sup-agency:{agency_id}")
    whole_departments = {d for d, _, is_lead in units if d and not is_lead}
    if item.lead_department_id:
        whole_departments.add(item.lead_department_id)
    if whole_departments:
        agencies = Department.objects.filter(pk__in=whole_departments).values_list("agency_id", flat=True)
        principals.update(f"sup-whole:{a}" for a in set(agencies))
    return frozenset(principals)


def search_principals_of(user: Any) -> dict[str, int | None]:
    """The user side of `visible_items` (no floors): nothing for an inactive or anonymous user."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    offices, departments, agencies, whole = supervision_reach(user)
    principals: dict[str, int | None] = {f"u:{user.pk}": None}
    principals.update({f"sup-office:{a}": None for a in offices})
    principals.update({f"sup-dept:{d}": None for d in departments})
    principals.update({f"sup-agency:{a}": None for a in agencies})
    principals.update({f"sup-whole:{a}": None for a in whole})
    return principals


# --- the REST API (issue 10): what a registered app reads with its own token --------------------------


def items_for_app(app: Any) -> Any:
    """督办事项 an app reads with its own token (client credentials), as a 收发员 of its data
    agencies (empty: its owner agency) would: items one of them supervises, and items where one of
    them is a unit (主办 or 协办) — as an agency or through one of its departments."""
    from django.db.models import Q

    from workflows.models import SupervisionItem, SupervisionUnit

    agencies = app.reading_agency_ids()
    units = SupervisionUnit.objects.filter(
        Q(agency_id__in=agencies) | Q(department__agency_id__in=agencies)
    ).values("item_id")
    return SupervisionItem.objects.filter(Q(agency_id__in=agencies) | Q(pk__in=units))

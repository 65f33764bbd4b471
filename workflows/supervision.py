"""The 督办 services (flows.md §3): every change to a 督办事项, audited, in one transaction.

`initiate` (立项) creates the item and starts its SupervisionFlow; `complete_supervision_step` drives
登记编号 → 拟办 → 审定 → 交办 → 签收 → 承办 → 审核 → 报送领导审阅 → 销号 → 归档. Around the flow:
进展反馈/办结报告 (`write_report`, `sign_off_report` — the 牵头单位's signed 办结报告 completes 承办),
延期申请 (`request_extension`, `screen_extension`, `decide_extension`) and 分解 (`split_item`).

As in the 发文/收文 flows (workflows/services.py, workflows/incoming.py): each action runs under the
flow's process row lock and one transaction (workflows/acting.py), so a 审核 and a late report
arriving at once are serialised — the report either lands before the 审核 and is part of what was
reviewed, or is refused because the item moved on. Who may act is checked here; every refusal is a
FlowError with a Chinese message and leaves everything as it was. Every change records an audit
event ("workflows.supervision_*") and an outbox row, writes the step's opinion, and refreshes the
item's light (workflows/supervision_lights.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from officeapp.access import active_delegate, has_role
from officeapp.audit.services import record
from officeapp.calendar.workdays import add_working_days
from officeapp.notify.services import notify
from officeapp.org.models import Agency, DelegationScope, Department, Role, User
from officeapp.outbox.services import emit
from workflows import acting
from workflows.access import can_supervise
from workflows.acting import ALREADY_DONE as ALREADY_DONE
from workflows.acting import LOST_RACE as LOST_RACE
from workflows.acting import FlowError as FlowError
from workflows.flows import SUPERVISION_STEP_LABELS, SupervisionFlow, supervision_earlier_steps
from workflows.live import push_inbox_changed
from workflows.models import (
    OPEN_ITEM_STATES,
    Decision,
    ExtensionRequest,
    ExtensionState,
    Importance,
    ItemState,
    Opinion,
    ProgressReport,
    Reminder,
    ReportAttachment,
    ReportFrequency,
    ReportKind,
    ReportState,
    SupervisionItem,
    SupervisionProcess,
    SupervisionSequence,
    SupervisionSource,
    SupervisionUnit,
    TaskCandidate,
)
from workflows.supervision_assignment import (
    add_participants,
    assign,
    responsible_leader,
    unit_people,
)

Unit = Department | Agency

# Steps whose form may adjust the 督办通知单 (title, requirement, units, 时限, 反馈频次 …).
ADJUSTING_STEPS = frozenset({"register", "propose", "approve", "assign"})
CHANGE_FIELDS = (
    "title",
    "requirement",
    "lead_unit",
    "co_units",
    "due_on",
    "due_in_working_days",
    "report_frequency",
    "report_interval_days",
    "importance",
    "leader",
    "received_on",
)


@dataclass
class SupervisionStepInput:
    """What a person submits at a 督办 step. Fields a step does not use are ignored.

    decision: AGREE; RETURN (退回 to `return_to`, an earlier step); NOT_OURS at 签收 (back to 拟办);
    DISAGREE at 审核 (退办/重办: back to 承办, the 办结报告 marked 退回重报). `changes` adjusts the
    督办通知单 at 登记编号/拟办/审定/交办; `instruction` is a new 批示 at 报送领导审阅 (loops back to
    交办); `retention` the 保管期限 at 归档."""

    decision: str = Decision.AGREE
    opinion: str = ""
    return_to: str = ""
    signature: Any = None  # a Blob (or an upload, stored first): the handwritten signature
    changes: dict[str, Any] = field(default_factory=dict)
    instruction: str = ""
    retention: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an item's history (the item page): when, who, what happened, the words."""

    time: datetime
    who: str
    what: str
    text: str = ""
    kind: str = ""


# --- helpers ----------------------------------------------------------------------------------


def process_lock(process_id: int) -> Any:
    return acting.process_lock(SupervisionFlow, process_id)


BUSY = "该督办事项正在由他人办理，请稍后重新提交。"


@contextmanager
def item_lock(process_id: int) -> Iterator[None]:
    """The process lock for actions on the item beside its tasks (reports, extensions, 分解): a
    contention that outlasts viewflow's retries is told as "busy, try again", not as a task race."""
    try:
        with process_lock(process_id):
            yield
    except FlowError as exc:
        if exc.message == LOST_RACE:
            raise FlowError(BUSY) from exc
        raise


def _label(step: str) -> str:
    return SUPERVISION_STEP_LABELS.get(step, step)


def _locked_item(item_id: int) -> SupervisionItem:
    return (
        SupervisionItem.objects.select_for_update(of=("self",))
        .select_related("agency", "supervisor", "leader", "lead_department", "lead_agency", "parent")
        .get(pk=item_id)
    )


def _process_of(task: Task) -> tuple[SupervisionProcess, SupervisionItem]:
    """The process and its item (locked), handed to viewflow's activation so the onCreate hook of
    the next task reads them from here."""
    process = SupervisionProcess.objects.get(pk=task.process_id)
    item = _locked_item(process.item_id)
    process.item = item
    task.process = process
    return process, item


def _process_id_of(item: SupervisionItem) -> int:
    process_id = SupervisionProcess.objects.filter(item_id=item.pk).values_list("pk", flat=True).first()
    if process_id is None:
        raise FlowError("该督办事项尚未启动办理流程。")
    return int(process_id)


def is_closed(item: SupervisionItem) -> bool:
    """销号 (or further): read-only for reports, extensions and changes."""
    return item.state not in OPEN_ITEM_STATES


def _after_change(item: SupervisionItem) -> None:
    """Every change: the parent's progress rolls up, then the item's light (and its parents')."""
    from workflows.supervision_lights import refresh_light

    if item.parent_id is not None:
        _roll_up_progress(SupervisionItem.objects.get(pk=item.parent_id))
    refresh_light(item)


def _roll_up_progress(parent: SupervisionItem) -> None:
    """A parent's progress is the mean of its children's (a finished child counts 100)."""
    values = list(
        parent.children.exclude(state=ItemState.TERMINATED).values_list(
            "progress", "completed_at", "closed_at"
        )
    )
    if not values:
        return
    done = [100 if (completed or closed) else progress for progress, completed, closed in values]
    progress = round(sum(done) / len(done))
    if progress != parent.progress:
        parent.progress = progress
        SupervisionItem.objects.filter(pk=parent.pk).update(progress=progress)


def roll_up(parent: SupervisionItem) -> None:
    """The parent's progress and light from its children (after a split, or any child's change)."""
    from workflows.supervision_lights import refresh_light

    _roll_up_progress(parent)
    refresh_light(parent)


def _open_task(process_id: int, step: str) -> Task | None:
    node = getattr(SupervisionFlow.instance, step)
    return (
        Task.objects.select_for_update()
        .filter(process_id=process_id, flow_task=node, status__in=acting.OPEN_STATUSES)
        .order_by("pk")
        .first()
    )


def _opinion(
    task: Task | None,
    process: SupervisionProcess,
    item: SupervisionItem,
    *,
    actor: User,
    decision: str,
    text: str = "",
    step: str = "",
    **kwargs: Any,
) -> Opinion:
    step = step or (task.flow_task.name if task is not None else "")
    return acting.write_opinion(
        task,
        process,
        document=None,
        item=item,
        actor=actor,
        decision=decision,
        text=text,
        step=step,
        label=_label(step),
        **kwargs,
    )


def _unit_label(unit: Unit) -> str:
    return unit.name


def unit_entry(unit: Unit) -> dict[str, Any]:
    """A unit as kept in the item's `co_units` JSON."""
    kind = "agency" if isinstance(unit, Agency) else "department"
    return {"kind": kind, "id": unit.pk, "label": _unit_label(unit)}


def _check_unit(unit: Any, agency: Agency, *, what: str) -> Unit:
    """A 主办/协办 unit: an active department of the supervising agency, or another active agency."""
    if isinstance(unit, Department):
        fresh = Department.objects.filter(pk=unit.pk).first()
        if fresh is None:
            raise FlowError(f"所选{what}不存在，请重新选择。")
        if fresh.agency_id != agency.pk:
            raise FlowError(f"{fresh.name}不是本机关的处室；其他机关的单位请直接选择该机关。")
        if not fresh.is_active:
            raise FlowError(f"{fresh.name}已撤销（停用），不能作为{what}。")
        return fresh
    if isinstance(unit, Agency):
        fresh_agency = Agency.objects.filter(pk=unit.pk).first()
        if fresh_agency is None:
            raise FlowError(f"所选{what}不存在，请重新选择。")
        if fresh_agency.pk == agency.pk:
            raise FlowError("督办机关本身不能作为承办单位，请选择具体处室。")
        if not fresh_agency.is_active:
            raise FlowError(f"{fresh_agency.name}已撤销（停用），不能作为{what}。")
        return fresh_agency
    raise FlowError(f"请选择{what}。")


def _check_units(agency: Agency, lead: Any, co: Any) -> tuple[Unit, list[Unit]]:
    lead_unit = _check_unit(lead, agency, what="牵头单位")
    co_units: list[Unit] = []
    for unit in co or ():
        checked = _check_unit(unit, agency, what="协办单位")
        if type(checked) is type(lead_unit) and checked.pk == lead_unit.pk:
            raise FlowError(f"{checked.name}已是牵头单位，不能同时作为协办单位。")
        if not any(type(c) is type(checked) and c.pk == checked.pk for c in co_units):
            co_units.append(checked)
    return lead_unit, co_units


def _set_units(item: SupervisionItem, lead: Unit, co: list[Unit]) -> None:
    """The item's 牵头/协办 units: its fields for display, SupervisionUnit rows for lookups."""
    item.lead_department = lead if isinstance(lead, Department) else None
    item.lead_agency = lead if isinstance(lead, Agency) else None
    item.co_units = [unit_entry(u) for u in co]
    if item.pk is None:
        return
    SupervisionUnit.objects.filter(item=item).delete()
    SupervisionUnit.objects.bulk_create(
        [
            SupervisionUnit(
                item=item,
                department=u if isinstance(u, Department) else None,
                agency=u if isinstance(u, Agency) else None,
                is_lead=n == 0,
            )
            for n, u in enumerate([lead, *co])
        ]
    )


def _units_of(item: SupervisionItem) -> tuple[Unit | None, list[Unit]]:
    lead: Unit | None = item.lead_department or item.lead_agency
    co: list[Unit] = []
    for entry in item.co_units or []:
        model = Agency if entry.get("kind") == "agency" else Department
        unit = model.objects.filter(pk=entry.get("id")).first()
        if unit is not None:
            co.append(unit)
    return lead, co


def _check_deadline(
    received_on: date, due_on: date | None, due_in_working_days: int | None, *, start: date | None = None
) -> date | None:
    """完成时限: a date (not before 收到时间), or n 工作日 counted from `start` (交办) or 收到时间."""
    if due_in_working_days is not None:
        if int(due_in_working_days) <= 0:
            raise FlowError("完成时限（工作日）须大于0。")
        due_on = add_working_days(start or received_on, int(due_in_working_days)).due_on
    if due_on is not None and due_on < received_on:
        raise FlowError(f"完成时限不能早于收到时间（{received_on:%Y-%m-%d}）。")
    return due_on


def _check_frequency(frequency: str, interval: int | None) -> None:
    if frequency not in ReportFrequency.values:
        raise FlowError("请选择反馈频次。")
    if frequency == ReportFrequency.CUSTOM and not interval:
        raise FlowError("自定义反馈频次须填写间隔工作日数。")


def _check_leader(leader: User | None) -> User | None:
    if leader is None:
        return None
    if not leader.is_active or not has_role(leader, Role.LEADER):
        raise FlowError(f"{leader.real_name}不是在岗的机关领导，不能作为批办领导。")
    return leader


def _apply_changes(
    item: SupervisionItem, changes: dict[str, Any], *, parent: SupervisionItem | None
) -> list[str]:
    """Adjust the 督办通知单 (only the keys given); refused as a whole when one value is wrong."""
    unknown = set(changes) - set(CHANGE_FIELDS)
    if unknown:
        raise FlowError("不能在此环节修改这些内容。")
    changed: list[str] = []
    if "title" in changes:
        title = " ".join(str(changes["title"] or "").split())
        if not title:
            raise FlowError("请填写督办事项。")
        item.title = title[:200]
        changed.append("title")
    if "requirement" in changes:
        item.requirement = str(changes["requirement"] or "").strip()
        changed.append("requirement")
    if "importance" in changes:
        if changes["importance"] not in Importance.values:
            raise FlowError("请选择重要程度。")
        item.importance = changes["importance"]
        changed.append("importance")
    if "leader" in changes:
        item.leader = _check_leader(changes["leader"])
        changed.append("leader")
    if "received_on" in changes and changes["received_on"] is not None:
        if changes["received_on"] > timezone.localdate():
            raise FlowError("收到时间不能晚于今天。")
        item.received_on = changes["received_on"]
        changed.append("received_on")
    if "report_frequency" in changes or "report_interval_days" in changes:
        frequency = changes.get("report_frequency") or item.report_frequency
        interval = changes.get("report_interval_days", item.report_interval_days)
        _check_frequency(frequency, interval)
        item.report_frequency = frequency
        item.report_interval_days = interval if frequency == ReportFrequency.CUSTOM else None
        changed.append("report_frequency")
    if "lead_unit" in changes or "co_units" in changes:
        lead, co = _units_of(item)
        lead, co = _check_units(
            item.agency, changes.get("lead_unit", lead), changes.get("co_units", co) or ()
        )
        _set_units(item, lead, co)
        changed.append("units")
    if "due_on" in changes or "due_in_working_days" in changes or "received_on" in changes:
        days = changes.get(
            "due_in_working_days", item.due_in_working_days if "due_on" not in changes else None
        )
        due_on = changes.get("due_on", item.due_on)
        item.due_in_working_days = int(days) if days else None
        item.due_on = _check_deadline(item.received_on, due_on, item.due_in_working_days)
        _check_within_parent(item.due_on, parent)
        changed.append("due_on")
    return changed


def _check_within_parent(due_on: date | None, parent: SupervisionItem | None) -> None:
    if parent is not None and parent.due_on is not None:
        if due_on is None:
            raise FlowError(f"请为子事项明确完成时限（不晚于{parent.due_on:%Y-%m-%d}）。")
        if due_on > parent.due_on:
            raise FlowError(f"子事项的完成时限不能晚于上级事项（{parent.due_on:%Y-%m-%d}）。")


def _source_reference(source_object: Any, actor: User) -> tuple[ContentType | None, int | None, str]:
    """The generic reference to the source record (a 收文/发文 …): a registered kind the actor may see."""
    if source_object is None:
        return None, None, ""
    from workflows.supervision_sources import kind_for

    kind = kind_for(source_object)
    if kind is None:
        raise FlowError("不支持以该类记录作为督办来源。")
    if not kind.visible(actor, source_object):
        raise FlowError("您无权查看所选的来源记录。")
    return (
        ContentType.objects.get_for_model(source_object),
        int(source_object.pk),
        kind.describe(source_object),
    )


def _unit_of_actor(item: SupervisionItem, actor: User) -> SupervisionUnit | None:
    """The unit of the item the actor works for: a member or head of a department unit, a person of
    an agency unit. The 牵头单位 first."""
    heads_of = {
        g.department_id
        for g in actor.role_grants.all()
        if g.role == Role.DEPT_HEAD and g.department_id is not None
    }
    for unit in item.units.order_by("-is_lead", "pk"):
        if unit.department_id is not None and (
            unit.department_id == actor.department_id or unit.department_id in heads_of
        ):
            return unit
        if unit.agency_id is not None and actor.agency_id == unit.agency_id:
            return unit
    return None


def _is_unit_head(actor: User, *, department_id: int | None, agency_id: int | None) -> bool:
    """审签: a head of the department, or the office director or a leader of the agency; or their
    current 督办 delegate."""
    heads = unit_people(department_id=department_id, agency_id=agency_id)
    if agency_id:
        heads += list(
            User.objects.filter(
                is_active=True, role_grants__role=Role.LEADER, role_grants__agency_id=agency_id
            ).distinct()
        )
    if any(h.pk == actor.pk for h in heads):
        return True
    return any(active_delegate(h, scope=DelegationScope.SUPERVISION) == actor for h in heads)


def _tell(users: list[User], item: SupervisionItem, *, kind: str, title: str, actor: User) -> None:
    people = [u for u in users if u is not None and u.pk != actor.pk]
    if people:
        notify(people, kind=kind, title=title, url=f"/workflows/supervision/{item.pk}/", actor=actor)


# --- 立项 -------------------------------------------------------------------------------------


def initiate(
    *,
    actor: User,
    agency: Agency,
    source: str,
    title: str,
    requirement: str = "",
    instruction: str = "",
    source_object: Any = None,
    source_label: str = "",
    lead_unit: Unit,
    co_units: tuple[Unit, ...] | list[Unit] = (),
    received_on: date,
    due_on: date | None = None,
    due_in_working_days: int | None = None,
    report_frequency: str = ReportFrequency.MONTHLY,
    report_interval_days: int | None = None,
    importance: str = Importance.NORMAL,
    leader: User | None = None,
    parent: SupervisionItem | None = None,
) -> SupervisionItem:
    """立项 by a 督查员/office of `agency`: the item, its units and its process; the 登记编号 task is
    the actor's."""
    if not can_supervise(actor, agency.pk):
        raise FlowError("只有本机关的督查员或办公室可以立项督办事项。")
    title = " ".join((title or "").split())
    if not title:
        raise FlowError("请填写督办事项。")
    if source not in SupervisionSource.values:
        raise FlowError("请选择任务来源。")
    if received_on is None:
        raise FlowError("请填写收到时间。")
    if received_on > timezone.localdate():
        raise FlowError("收到时间不能晚于今天。")
    if importance not in Importance.values:
        raise FlowError("请选择重要程度。")
    _check_frequency(report_frequency, report_interval_days)
    due = _check_deadline(received_on, due_on, due_in_working_days)
    _check_within_parent(due, parent)
    lead, co = _check_units(agency, lead_unit, co_units)
    leader = _check_leader(leader)
    source_type, source_id, described = _source_reference(source_object, actor)
    with transaction.atomic():
        item = SupervisionItem(
            agency=agency,
            parent=parent,
            source=source,
            source_type=source_type,
            source_id=source_id,
            source_label=(source_label or described).strip()[:200],
            instruction=(instruction or "").strip(),
            title=title[:200],
            requirement=(requirement or "").strip(),
            received_on=received_on,
            due_on=due,
            due_in_working_days=due_in_working_days or None,
            report_frequency=report_frequency,
            report_interval_days=report_interval_days if report_frequency == ReportFrequency.CUSTOM else None,
            importance=importance,
            supervisor=actor,
            leader=leader,
            created_by=actor,
        )
        _set_units(item, lead, co)
        item.save()
        _set_units(item, lead, co)
        add_participants(item, [actor])
        process = SupervisionFlow.initiate.run(item=item)
        _opinion(
            None,
            process,
            item,
            actor=actor,
            decision=Decision.AGREE,
            text=f"立项（{SupervisionSource(source).label}）",
            step="initiate",
        )
        if item.instruction:
            # The 批示 it came from opens the item's 批示 history.
            _opinion(
                None,
                process,
                item,
                actor=actor,
                decision=Decision.NOTE,
                text=f"领导批示：{item.instruction}",
                step="initiate",
            )
        record(
            "workflows.supervision_initiated",
            actor=actor,
            obj=item,
            details={"process": process.pk, "source": source, "parent": item.parent_id},
        )
        emit("workflows.supervision.initiated", item, payload={"agency": agency.pk, "source": source})
        item.refresh_from_db()
        _after_change(item)
    return item


# --- 督办编号 -----------------------------------------------------------------------------------


def format_number(agency: Agency, year: int, serial: int) -> str:
    """粤府办督〔2026〕12号: the agency's 机关代字 + 督; without one, 督办〔2026〕12号."""
    prefix = f"{agency.number_prefix}督" if agency.number_prefix else "督办"
    return f"{prefix}〔{year}〕{serial}号"


def assign_supervision_number(item: SupervisionItem) -> str:
    """The next 督办编号 of the agency and year, gap-free: the sequence row is locked FOR UPDATE
    until the 登记编号 commits (a refused step rolls the number back with it). Once per item."""
    if item.number:
        return item.number
    year = timezone.localdate().year
    SupervisionSequence.objects.get_or_create(agency_id=item.agency_id, year=year)
    sequence = SupervisionSequence.objects.select_for_update().get(agency_id=item.agency_id, year=year)
    sequence.last_serial += 1
    sequence.save(update_fields=["last_serial"])
    item.year = year
    item.serial = sequence.last_serial
    item.number = format_number(item.agency, year, sequence.last_serial)
    return item.number


# --- claiming and handing on ------------------------------------------------------------------


def _acting_for(task: Task, actor: User) -> User | None:
    on_behalf = acting.acting_for(task, actor, scope=DelegationScope.SUPERVISION)
    if on_behalf is None and isinstance(task.data, dict) and task.data.get("for_user"):
        # Handed to the actor as the holder's delegate when the task was created.
        return User.objects.filter(pk=task.data["for_user"]).first()
    return on_behalf


def _delegate_of_owner(task: Task, actor: User) -> bool:
    try:
        return acting.acting_for(task, actor, scope=DelegationScope.SUPERVISION) is not None
    except FlowError:
        return False


def claim_supervision(task: Task, *, actor: User) -> Task:
    """抢办: the first candidate of a group task (a unit's heads at 签收/承办) owns it."""
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        if acting.claim_locked(locked, actor=actor, event="workflows.supervision_claimed"):
            emit("workflows.task.claimed", locked, payload={"flow": "supervision"})
    return locked


def transfer_supervision(task: Task, *, actor: User, to_user: User, reason: str = "") -> Task:
    """转办: the holder (or the supervising office) hands an open task to a colleague — within the
    unit for 签收/承办, within the supervising agency otherwise."""
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        process, item = _process_of(locked)
        holder = locked.owner_id == actor.pk or (
            locked.owner_id is not None and _delegate_of_owner(locked, actor)
        )
        candidate = locked.owner_id is None and TaskCandidate.objects.filter(task=locked, user=actor).exists()
        if not (holder or candidate or can_supervise(actor, item.agency_id)):
            raise FlowError("只有当前办理人或督查室可以转办。")
        acting.check_transfer_target(locked, to_user)
        step = locked.flow_task.name
        if step in ("accept", "handle"):
            if item.lead_department_id is not None:
                ok = to_user.department_id == item.lead_department_id
            else:
                ok = to_user.agency_id == item.lead_agency_id
            if not ok:
                raise FlowError(f"只能转给{item.lead_label}的人员办理。")
        elif to_user.agency_id != item.agency_id:
            raise FlowError("只能转给本机关的人员办理。")
        before = acting.open_people(locked)
        assign(locked, [to_user])
        locked.save()
        add_participants(item, [to_user])
        _opinion(
            locked,
            process,
            item,
            actor=actor,
            decision=Decision.TRANSFER,
            text=reason.strip() or f"转{to_user.real_name}办理",
        )
        record(
            "workflows.supervision_transferred",
            actor=actor,
            obj=item,
            details={"task": locked.pk, "to": to_user.pk},
        )
        emit("workflows.task.transferred", locked, payload={"to": to_user.pk, "flow": "supervision"})
        push_inbox_changed(before, task_id=locked.pk, action="closed", title=item.title)
        push_inbox_changed([to_user.pk], task_id=locked.pk, action="created", title=item.title)
    return locked


# --- the step itself ------------------------------------------------------------------------


def complete_supervision_step(task: Task, *, actor: User, step_input: SupervisionStepInput) -> Opinion:
    """Sign the opinion and move on: agree, 退回 to an earlier step, not ours at 签收, 退办/重办 at
    审核, a new 批示 at 报送领导审阅."""
    step_input.signature = acting.stored_signature(step_input.signature, actor=actor)
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        also_tell = acting.claim_to_finish(locked, actor=actor)
        on_behalf_of = _acting_for(locked, actor)
        process, item = _process_of(locked)
        if process.suspended:
            raise FlowError("该督办流程已被挂起，暂不能办理。")
        step = locked.flow_task.name
        text, decision, details = _decide(step, locked, process, item, actor=actor, step_input=step_input)
        process.save(update_fields=["route"])
        item.updated_at = timezone.now()
        item.save()
        opinion = _opinion(
            locked,
            process,
            item,
            actor=actor,
            decision=decision,
            text=text or Decision(decision).label,
            return_to=process.route
            if decision in (Decision.RETURN, Decision.NOT_OURS, Decision.DISAGREE)
            else "",
            on_behalf_of=on_behalf_of,
            signature=step_input.signature,
        )
        record(
            "workflows.supervision_step_completed",
            actor=actor,
            obj=item,
            details={
                "step": step,
                "decision": decision,
                "task": locked.pk,
                "return_to": opinion.return_to,
                **details,
            },
        )
        emit(
            "workflows.task.completed",
            locked,
            payload={"step": step, "decision": decision, "flow": "supervision", "item": item.pk},
        )
        acting.finish_task(locked, actor=actor, title=item.title, also_tell=also_tell)
        item.refresh_from_db()
        _after_change(item)
    return opinion


def _decide(
    step: str,
    task: Task,
    process: SupervisionProcess,
    item: SupervisionItem,
    *,
    actor: User,
    step_input: SupervisionStepInput,
) -> tuple[str, str, dict[str, Any]]:
    """Apply the decision: (the opinion's text, its decision, audit details). Raises to refuse."""
    decision = step_input.decision
    text = (step_input.opinion or "").strip()
    if decision == Decision.RETURN:
        if step == "accept":
            raise FlowError("签收单位如认为不属于本单位职责，请选择“非本单位职责”并写明理由。")
        if step == "handle":
            raise FlowError("承办单位请报送办结报告，或申请延期。")
        if step_input.return_to not in supervision_earlier_steps(step):
            raise FlowError("请选择要退回的环节。")
        if step == "review" and step_input.return_to == "handle":
            # Back to the unit means its 办结报告 is not accepted: that is 退办/重办, with its record.
            raise FlowError("退回承办单位请选择“退办/重办”并写明理由。")
        if not text:
            raise FlowError("退回时必须填写退回原因。")
        process.route = step_input.return_to
        return text, decision, {}
    if decision == Decision.NOT_OURS:
        if step != "accept":
            raise FlowError("只有签收环节可以选择“非本单位职责”。")
        if not text:
            raise FlowError("请写明不属于本单位职责的理由。")
        # Back to 拟办: the 督查员 sees the reason on the task and re-proposes the units.
        process.route = "propose"
        return text, decision, {}
    if decision == Decision.DISAGREE:
        if step != "review":
            raise FlowError("只有审核环节可以退办/重办。")
        if not text:
            raise FlowError("退办/重办须写明理由。")
        report = _current_completion(item)
        if report is not None:
            report.state = ReportState.RETURNED
            report.review_note = text[:500]
            report.save(update_fields=["state", "review_note"])
        item.completed_at = None
        process.route = "handle"
        return text, decision, {"report": report.pk if report else None}
    if decision not in (Decision.AGREE, Decision.READ):
        raise FlowError("请选择办理结论。")
    process.route = "next"
    return _agree(step, task, process, item, actor=actor, step_input=step_input, text=text)


def _current_completion(item: SupervisionItem) -> ProgressReport | None:
    """The 牵头单位's signed 办结报告 waiting for 审核."""
    return (
        ProgressReport.objects.select_for_update()
        .filter(item=item, kind=ReportKind.COMPLETION, is_lead=True, state=ReportState.SUBMITTED)
        .order_by("-submitted_at", "-pk")
        .first()
    )


def _agree(
    step: str,
    task: Task,
    process: SupervisionProcess,
    item: SupervisionItem,
    *,
    actor: User,
    step_input: SupervisionStepInput,
    text: str,
) -> tuple[str, str, dict[str, Any]]:
    details: dict[str, Any] = {}
    if step_input.changes:
        if step not in ADJUSTING_STEPS:
            raise FlowError(f"{_label(step)}环节不能修改督办通知单。")
        details["changed"] = _apply_changes(item, dict(step_input.changes), parent=item.parent)
    if step == "register":
        number = assign_supervision_number(item)
        return text or f"登记编号：{number}", Decision.AGREE, details
    if step == "assign":
        return _assign(item, actor=actor, text=text), Decision.AGREE, details
    if step == "accept":
        return text or "签收", Decision.AGREE, details
    if step == "handle":
        if _current_completion(item) is None:
            raise FlowError("请先报送经单位负责人审签的办结报告。")
        return text or "已报送办结报告", Decision.AGREE, details
    if step == "review":
        return _review(item, text=text, details=details)
    if step == "leader_review":
        instruction = (step_input.instruction or "").strip()
        if instruction:
            # A new 批示: on the item's 批示 history, and a new 交办 with it.
            process.route = "assign"
            item.completed_at = None
            details["new_instruction"] = True
            return f"领导批示：{instruction}", Decision.NOTE, details
        return text or "已阅", Decision.AGREE, details
    if step == "close":
        item.closed_at = timezone.now()
        return text or "销号", Decision.AGREE, details
    if step == "archive":
        from documents.models import Retention

        if step_input.retention not in Retention.values:
            raise FlowError("请选择保管期限。")
        item.archived_at = timezone.now()
        item.state = ItemState.ARCHIVED
        label = Retention(step_input.retention).label
        details["retention"] = step_input.retention
        return "\n".join(p for p in (text, f"立卷归档（保管期限：{label}）") if p), Decision.AGREE, details
    return text, Decision.AGREE, details


def _assign(item: SupervisionItem, *, actor: User, text: str) -> str:
    """交办 (督办通知单): the 完成时限 fixed (n 工作日 from today), the units still active; the 协办
    units' people are told (the 牵头单位 gets the 签收 task)."""
    today = timezone.localdate()
    if item.due_in_working_days:
        item.due_on = add_working_days(today, int(item.due_in_working_days)).due_on
        _check_within_parent(item.due_on, item.parent)
    if item.due_on is None:
        raise FlowError("交办前须明确完成时限。")
    if item.due_on < today:
        raise FlowError(f"完成时限（{item.due_on:%Y-%m-%d}）已过，请先调整完成时限再交办。")
    lead, co = _units_of(item)
    if lead is None:
        raise FlowError("请选择牵头单位。")
    # A unit closed since 立项 cannot receive the notice.
    _check_units(item.agency, lead, co)
    co_people: list[User] = []
    for unit in co:
        co_people += unit_people(
            department_id=unit.pk if isinstance(unit, Department) else None,
            agency_id=unit.pk if isinstance(unit, Agency) else None,
        )
    add_participants(item, co_people)
    _tell(
        co_people,
        item,
        kind="workflows.supervision_assigned",
        title=f"督办通知（协办）：{item.title}",
        actor=actor,
    )
    return text or f"交办，完成时限{item.due_on:%Y年%m月%d日}"


def _review(item: SupervisionItem, *, text: str, details: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """审核 (审结): the 办结报告 and every report that arrived before it are accepted together —
    the reviewed record. A report arriving after this commits finds the item moved on."""
    report = _current_completion(item)
    if report is None:
        raise FlowError("没有待审核的办结报告。")
    reviewed = list(
        ProgressReport.objects.select_for_update()
        .filter(item=item, state=ReportState.SUBMITTED)
        .values_list("pk", flat=True)
    )
    ProgressReport.objects.filter(pk__in=reviewed).update(state=ReportState.ACCEPTED)
    item.completed_at = item.completed_at or timezone.now()
    item.progress = 100
    details["reports"] = sorted(reviewed)
    return text or "审核通过", Decision.AGREE, details


# --- 进展反馈 / 办结报告 ------------------------------------------------------------------------

# The item's states in which reports are taken: 承办, and 审核 until its decision commits.
REPORTING_STATES = frozenset({ItemState.HANDLE, ItemState.REVIEW})


def _check_reporting(item: SupervisionItem, kind: str) -> None:
    if (
        item.state in (ItemState.ARCHIVED, ItemState.ARCHIVE, ItemState.CLOSE, ItemState.TERMINATED)
        or item.closed_at
    ):
        raise FlowError("该督办事项已办结销号，不能再报送反馈。")
    if item.state == ItemState.LEADER_REVIEW:
        raise FlowError("该督办事项已审核办结，正在报送领导审阅，不能再报送反馈。")
    if item.state not in REPORTING_STATES:
        raise FlowError("该督办事项尚未交办签收，暂不能报送反馈。")
    if kind == ReportKind.COMPLETION and item.state != ItemState.HANDLE:
        raise FlowError("办结报告已报送，正在审核，不能重复报送。")


def _stored_files(files: Any, *, actor: User) -> list[tuple[str, Any]]:
    """Attachments stored before the report's transaction (blobs are content-addressed; unused ones
    are removed by retention). A (filename, Blob) pair or a Blob is kept as is."""
    from officeapp.blobs.checks import UploadRefused, check_upload
    from officeapp.blobs.models import Blob
    from officeapp.blobs.services import put

    stored: list[tuple[str, Any]] = []
    for f in files or ():
        if isinstance(f, tuple):
            stored.append((str(f[0])[:200], f[1]))
            continue
        if isinstance(f, Blob):
            stored.append(("附件", f))
            continue
        name = str(getattr(f, "name", "") or "附件")[:200]
        try:
            checked = check_upload(f, allowed_kinds=("document", "image"))
        except UploadRefused as exc:
            raise FlowError(f"附件“{name}”未保存：{exc.message}") from exc
        stored.append((name, put(checked.file, actor=actor)))
    return stored


def write_report(
    item: SupervisionItem,
    *,
    actor: User,
    kind: str = ReportKind.PROGRESS,
    text: str,
    percentage: int,
    files: Any = (),
) -> ProgressReport:
    """进展反馈 / 办结报告 by a person of a unit of the item, during 承办 (a late 进展反馈 also while
    审核 is pending). It waits for the unit head's 审签 (`sign_off_report`). A 协办 unit's report
    contributes to the 牵头单位's current one; a 办结报告 comes from the 牵头单位 only."""
    if kind not in ReportKind.values:
        raise FlowError("请选择反馈类型。")
    text = (text or "").strip()
    if not text:
        raise FlowError("请填写办结情况。" if kind == ReportKind.COMPLETION else "请填写进展情况。")
    try:
        percentage = int(percentage)
    except (TypeError, ValueError) as exc:
        raise FlowError("完成进度须为0到100之间的整数。") from exc
    if not 0 <= percentage <= 100:
        raise FlowError("完成进度须为0到100之间的整数。")
    process_id = _process_id_of(item)
    stored = _stored_files(files, actor=actor)
    with item_lock(process_id):
        item = _locked_item(item.pk)
        _check_reporting(item, kind)
        unit = _unit_of_actor(item, actor)
        if unit is None:
            raise FlowError("只有该事项的承办单位人员可以报送反馈。")
        if kind == ReportKind.COMPLETION and not unit.is_lead:
            raise FlowError("办结报告由牵头单位报送；协办单位请报送进展反馈，由牵头单位汇总。")
        label = (unit.department or unit.agency).name  # type: ignore[union-attr]
        lead_current = (
            ProgressReport.objects.filter(item=item, is_lead=True, state=ReportState.DRAFT)
            .order_by("-created_at", "-pk")
            .first()
        )
        report = ProgressReport.objects.create(
            item=item,
            kind=kind,
            department_id=unit.department_id,
            agency_id=unit.agency_id,
            unit_label=label,
            is_lead=unit.is_lead,
            contributes_to=None if unit.is_lead else lead_current,
            text=text,
            percentage=percentage,
            period_due_on=item.next_report_on,
            author=actor,
        )
        if unit.is_lead:
            # The 协办 units' reports not yet taken into a 牵头单位 report go into this one.
            ProgressReport.objects.filter(
                item=item,
                is_lead=False,
                contributes_to__isnull=True,
                state__in=[ReportState.DRAFT, ReportState.SUBMITTED],
            ).update(contributes_to=report)
        ReportAttachment.objects.bulk_create(
            [ReportAttachment(report=report, blob=blob, filename=name) for name, blob in stored]
        )
        add_participants(item, [actor])
        record(
            "workflows.supervision_report_written",
            actor=actor,
            obj=item,
            details={"report": report.pk, "kind": kind, "lead": unit.is_lead, "files": len(stored)},
        )
        emit("workflows.supervision.report_written", report, payload={"item": item.pk, "kind": kind})
        heads = unit_people(department_id=unit.department_id, agency_id=unit.agency_id)
        _tell(
            heads, item, kind="workflows.supervision_report", title=f"待审签反馈：{item.title}", actor=actor
        )
        _after_change(item)
    return report


def sign_off_report(report: ProgressReport, *, actor: User) -> ProgressReport:
    """审签 by the unit's head: the report counts (报送). The 牵头单位's signed 办结报告 completes the
    承办 task, so the item goes to 审核."""
    process_id = _process_id_of(report.item)
    with item_lock(process_id):
        item = _locked_item(report.item_id)
        report = ProgressReport.objects.select_for_update().get(pk=report.pk)
        if report.state != ReportState.DRAFT:
            raise FlowError("该反馈已审签报送，无需重复审签。")
        if not _is_unit_head(actor, department_id=report.department_id, agency_id=report.agency_id):
            raise FlowError(f"只有{report.unit_label}负责人可以审签反馈。")
        _check_reporting(item, report.kind)
        now = timezone.now()
        report.state = ReportState.SUBMITTED
        report.signed_off_by = actor
        report.signed_off_at = now
        report.submitted_at = now
        report.save(update_fields=["state", "signed_off_by", "signed_off_at", "submitted_at"])
        if report.is_lead:
            item.progress = report.percentage
            item.last_report_at = now
        item.updated_at = now
        completes = report.kind == ReportKind.COMPLETION and report.is_lead
        if completes:
            item.completed_at = now
        item.save()
        add_participants(item, [actor])
        record(
            "workflows.supervision_report_signed",
            actor=actor,
            obj=item,
            details={"report": report.pk, "kind": report.kind, "lead": report.is_lead},
        )
        emit("workflows.supervision.report_submitted", report, payload={"item": item.pk, "kind": report.kind})
        if completes:
            _complete_handle(item, process_id, actor=actor, report=report)
        else:
            _tell(
                [item.supervisor],
                item,
                kind="workflows.supervision_report",
                title=f"进展反馈：{item.title}",
                actor=actor,
            )
        item.refresh_from_db()
        _after_change(item)
    return report


def _complete_handle(item: SupervisionItem, process_id: int, *, actor: User, report: ProgressReport) -> None:
    """The signed 办结报告 is 承办's input: the open 承办 task is completed by the signer."""
    task = _open_task(process_id, "handle")
    if task is None:  # pragma: no cover - _check_reporting allows a 办结报告 only at 承办
        raise FlowError("该事项当前不在承办环节。")
    process = SupervisionProcess.objects.get(pk=process_id)
    process.item = item
    task.process = process
    also_tell = acting.open_people(task)
    on_behalf_of = None
    if task.owner_id is not None and task.owner_id != actor.pk:
        on_behalf_of = (
            task.owner if active_delegate(task.owner, scope=DelegationScope.SUPERVISION) == actor else None
        )
    process.route = "next"
    process.save(update_fields=["route"])
    _opinion(
        task,
        process,
        item,
        actor=actor,
        decision=Decision.AGREE,
        text="报送办结报告",
        on_behalf_of=on_behalf_of,
    )
    record(
        "workflows.supervision_step_completed",
        actor=actor,
        obj=item,
        details={"step": "handle", "decision": Decision.AGREE, "task": task.pk, "report": report.pk},
    )
    emit(
        "workflows.task.completed",
        task,
        payload={"step": "handle", "decision": "agree", "flow": "supervision"},
    )
    acting.finish_task(task, actor=actor, title=item.title, also_tell=[u for u in also_tell if u != actor.pk])


# --- 延期申请 -----------------------------------------------------------------------------------


def request_extension(
    item: SupervisionItem, *, actor: User, reason: str, progress: str, new_due_on: date | None
) -> ExtensionRequest:
    """延期申请 by the 牵头单位: before the deadline, with a reason, the progress so far and a date
    later than the current 完成时限. One open request at a time."""
    reason = (reason or "").strip()
    progress = (progress or "").strip()
    if not reason:
        raise FlowError("请填写延期理由。")
    if not progress:
        raise FlowError("请填写目前进展。")
    if new_due_on is None:
        raise FlowError("请填写申请延至的日期。")
    process_id = _process_id_of(item)
    with item_lock(process_id):
        item = _locked_item(item.pk)
        if is_closed(item):
            raise FlowError("该督办事项已办结销号，不能申请延期。")
        if item.state not in (ItemState.ACCEPT, ItemState.HANDLE):
            raise FlowError("只有交办后、办结前的事项可以申请延期。")
        unit = _unit_of_actor(item, actor)
        if unit is None or not unit.is_lead:
            raise FlowError("延期申请由牵头单位提出。")
        if item.due_on is None:
            raise FlowError("该事项未设完成时限，无需申请延期。")
        if timezone.localdate() > item.due_on:
            raise FlowError(
                f"已超过完成时限（{item.due_on:%Y-%m-%d}），不能再申请延期，请尽快办结并说明情况。"
            )
        if new_due_on <= item.due_on:
            raise FlowError(f"申请延至的日期须晚于当前完成时限（{item.due_on:%Y-%m-%d}）。")
        if item.parent is not None and item.parent.due_on is not None and new_due_on > item.parent.due_on:
            raise FlowError(f"子事项的完成时限不能晚于上级事项（{item.parent.due_on:%Y-%m-%d}）。")
        if ExtensionRequest.objects.filter(
            item=item, state__in=[ExtensionState.SUBMITTED, ExtensionState.SCREENED]
        ).exists():
            raise FlowError("该事项已有待审批的延期申请，请等待审批结果。")
        try:
            with transaction.atomic():
                ext = ExtensionRequest.objects.create(
                    item=item,
                    requested_by=actor,
                    reason=reason,
                    progress=progress,
                    current_due_on=item.due_on,
                    requested_due_on=new_due_on,
                )
        except IntegrityError as exc:  # the partial unique constraint: a request made just now
            raise FlowError("该事项已有待审批的延期申请，请等待审批结果。") from exc
        add_participants(item, [actor])
        record(
            "workflows.supervision_extension_requested",
            actor=actor,
            obj=item,
            details={"extension": ext.pk, "from": item.due_on.isoformat(), "to": new_due_on.isoformat()},
        )
        emit("workflows.supervision.extension_requested", ext, payload={"item": item.pk})
        _tell(
            [item.supervisor],
            item,
            kind="workflows.supervision_extension",
            title=f"延期申请待初审：{item.title}",
            actor=actor,
        )
        _after_change(item)
    return ext


def screen_extension(
    ext: ExtensionRequest, *, actor: User, forward: bool, note: str = ""
) -> ExtensionRequest:
    """初审 by the 督查员: forward to the responsible leader, or refuse (with a reason)."""
    note = (note or "").strip()
    process_id = _process_id_of(ext.item)
    with item_lock(process_id):
        item = _locked_item(ext.item_id)
        ext = ExtensionRequest.objects.select_for_update().get(pk=ext.pk)
        if not can_supervise(actor, item.agency_id):
            raise FlowError("只有督查员可以初审延期申请。")
        if ext.state != ExtensionState.SUBMITTED:
            raise FlowError("该延期申请已初审，无需重复办理。")
        if is_closed(item):
            raise FlowError("该督办事项已办结销号，延期申请不再办理。")
        if not forward and not note:
            raise FlowError("不予转报时须写明理由。")
        now = timezone.now()
        ext.screened_by = actor
        ext.screened_at = now
        ext.screen_note = note[:500]
        if forward:
            ext.state = ExtensionState.SCREENED
        else:
            ext.state = ExtensionState.REFUSED
            ext.decided_by = actor
            ext.decided_at = now
            ext.decision_note = note[:500]
        ext.save()
        record(
            "workflows.supervision_extension_screened",
            actor=actor,
            obj=item,
            details={"extension": ext.pk, "forward": forward},
        )
        emit("workflows.supervision.extension_screened", ext, payload={"item": item.pk, "forward": forward})
        if forward:
            leader = responsible_leader(item)
            if leader is not None:
                add_participants(item, [leader])
                _tell(
                    [leader],
                    item,
                    kind="workflows.supervision_extension",
                    title=f"延期申请待审批：{item.title}",
                    actor=actor,
                )
        else:
            _tell(
                [ext.requested_by],
                item,
                kind="workflows.supervision_extension",
                title=f"延期申请未获同意：{item.title}",
                actor=actor,
            )
        _after_change(item)
    return ext


def may_decide_extension(user: User, item: SupervisionItem) -> bool:
    """The responsible leader (the instructing leader, else the 分管 leader) or his 督办 delegate."""
    leader = responsible_leader(item)
    if leader is None:
        return False
    return leader.pk == user.pk or active_delegate(leader, scope=DelegationScope.SUPERVISION) == user


def decide_extension(
    ext: ExtensionRequest, *, actor: User, approve: bool, note: str = ""
) -> ExtensionRequest:
    """审批 by the responsible leader: approved, the requested date becomes the item's 完成时限 (both
    dates stay on the request); refused, the old one stands."""
    process_id = _process_id_of(ext.item)
    with item_lock(process_id):
        item = _locked_item(ext.item_id)
        ext = ExtensionRequest.objects.select_for_update().get(pk=ext.pk)
        if ext.state == ExtensionState.SUBMITTED:
            raise FlowError("该延期申请尚未经督查员初审。")
        if ext.state != ExtensionState.SCREENED:
            raise FlowError("该延期申请已审批，无需重复办理。")
        if not may_decide_extension(actor, item):
            raise FlowError("只有负责该事项的领导可以审批延期申请。")
        if is_closed(item):
            raise FlowError("该督办事项已办结销号，延期申请不再办理。")
        now = timezone.now()
        ext.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
        ext.decided_by = actor
        ext.decided_at = now
        ext.decision_note = (note or "").strip()[:500]
        ext.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        if approve:
            item.due_on = ext.requested_due_on
            item.due_in_working_days = None
            item.updated_at = now
            item.save(update_fields=["due_on", "due_in_working_days", "updated_at"])
            from workflows.urging import set_task_due

            for step in ("accept", "handle"):
                task = _open_task(process_id, step)
                if task is not None:
                    set_task_due(task, item.due_on)
                    task.data = {**(task.data or {}), "deadline": item.due_on.isoformat()}
                    task.save(update_fields=["data"])
        add_participants(item, [actor])
        record(
            "workflows.supervision_extension_decided",
            actor=actor,
            obj=item,
            details={"extension": ext.pk, "approve": approve},
        )
        emit("workflows.supervision.extension_decided", ext, payload={"item": item.pk, "approve": approve})
        verdict = "已批准" if approve else "未获批准"
        _tell(
            [ext.requested_by, item.supervisor],
            item,
            kind="workflows.supervision_extension",
            title=f"延期申请{verdict}：{item.title}",
            actor=actor,
        )
        _after_change(item)
    return ext


# --- 分解 ----------------------------------------------------------------------------------------


def split_item(item: SupervisionItem, *, actor: User, parts: list[dict[str, Any]]) -> list[SupervisionItem]:
    """分解: each part {title, requirement, lead_unit, co_units, due_on (not after the parent's),
    report_frequency} becomes an item with `parent` set and its own process (立项 by the actor). All
    or none: one wrong part refuses the whole split."""
    if not can_supervise(actor, item.agency_id):
        raise FlowError("只有本机关的督查员或办公室可以分解督办事项。")
    if not parts:
        raise FlowError("请至少填写一个子事项。")
    process_id = _process_id_of(item)
    with item_lock(process_id):
        parent = _locked_item(item.pk)
        if is_closed(parent):
            raise FlowError("该督办事项已办结销号，不能再分解。")
        if parent.parent_id is not None:
            raise FlowError("子事项不能再分解。")
        children: list[SupervisionItem] = []
        today = timezone.localdate()
        for n, part in enumerate(parts, start=1):
            if not (part.get("title") or "").strip():
                raise FlowError(f"请填写第{n}个子事项的名称。")
            try:
                child = initiate(
                    actor=actor,
                    agency=parent.agency,
                    source=parent.source,
                    title=part["title"],
                    requirement=part.get("requirement", ""),
                    instruction=parent.instruction,
                    source_label=parent.number or parent.title,
                    lead_unit=part.get("lead_unit"),
                    co_units=part.get("co_units", ()),
                    received_on=today,
                    due_on=part.get("due_on") or parent.due_on,
                    report_frequency=part.get("report_frequency") or parent.report_frequency,
                    report_interval_days=part.get("report_interval_days") or parent.report_interval_days,
                    importance=part.get("importance") or parent.importance,
                    leader=parent.leader,
                    parent=parent,
                )
            except FlowError as exc:
                raise FlowError(f"第{n}个子事项：{exc.message}") from exc
            children.append(child)
        _opinion(
            None,
            SupervisionProcess.objects.get(pk=process_id),
            parent,
            actor=actor,
            decision=Decision.NOTE,
            text="分解为子事项：" + "；".join(c.title for c in children),
            step="split",
        )
        record(
            "workflows.supervision_split",
            actor=actor,
            obj=parent,
            details={"children": [c.pk for c in children]},
        )
        emit("workflows.supervision.split", parent, payload={"children": [c.pk for c in children]})
        roll_up(parent)
    return children


# --- history ------------------------------------------------------------------------------------


def item_history(item: SupervisionItem) -> list[HistoryEntry]:
    """Everything that happened to the item, oldest first: opinions (each step, 批示, 转办), reports,
    extension requests with their 初审 and 审批, 催办 reminders and sub-items."""
    entries: list[HistoryEntry] = []
    for o in (
        Opinion.objects.filter(item=item)
        .select_related("author", "on_behalf_of")
        .order_by("created_at", "pk")
    ):
        who = o.author.real_name
        if o.on_behalf_of_id is not None:
            who = f"{who}（代{o.on_behalf_of.real_name}）"
        what = "分解" if o.step == "split" else f"{o.step_label}：{o.get_decision_display()}"
        entries.append(HistoryEntry(o.created_at, who, what, o.text, "opinion"))
    for r in (
        ProgressReport.objects.filter(item=item)
        .select_related("author", "signed_off_by")
        .order_by("created_at", "pk")
    ):
        what = f"{r.get_kind_display()}（{r.unit_label}，{r.percentage}%）"
        entries.append(
            HistoryEntry(
                r.created_at, r.author.real_name, f"{what}：{r.get_state_display()}", r.text, "report"
            )
        )
        if r.signed_off_at is not None and r.signed_off_by is not None:
            entries.append(
                HistoryEntry(
                    r.signed_off_at,
                    r.signed_off_by.real_name,
                    f"审签{r.get_kind_display()}（{r.unit_label}）",
                    "",
                    "report",
                )
            )
        if r.state == ReportState.RETURNED and r.review_note:
            entries.append(
                HistoryEntry(
                    r.signed_off_at or r.created_at,
                    "",
                    f"{r.get_kind_display()}退回重报",
                    r.review_note,
                    "report",
                )
            )
    for e in (
        ExtensionRequest.objects.filter(item=item)
        .select_related("requested_by", "screened_by", "decided_by")
        .order_by("created_at", "pk")
    ):
        dates = f"原完成时限{e.current_due_on:%Y-%m-%d}，申请延至{e.requested_due_on:%Y-%m-%d}"
        entries.append(
            HistoryEntry(
                e.created_at, e.requested_by.real_name, f"延期申请（{dates}）", e.reason, "extension"
            )
        )
        if e.screened_at is not None and e.screened_by is not None:
            forwarded = e.state != ExtensionState.REFUSED or e.decided_by_id != e.screened_by_id
            entries.append(
                HistoryEntry(
                    e.screened_at,
                    e.screened_by.real_name,
                    "延期初审：" + ("转报领导" if forwarded else "不予转报"),
                    e.screen_note,
                    "extension",
                )
            )
        if e.decided_at is not None and e.decided_by is not None and e.decided_by_id != e.screened_by_id:
            entries.append(
                HistoryEntry(
                    e.decided_at,
                    e.decided_by.real_name,
                    f"延期审批：{e.get_state_display()}",
                    e.decision_note,
                    "extension",
                )
            )
    process_ids = list(SupervisionProcess.objects.filter(item=item).values_list("pk", flat=True))
    for m in (
        Reminder.objects.filter(task__process_id__in=process_ids)
        .select_related("by")
        .order_by("sent_at", "pk")
    ):
        entries.append(
            HistoryEntry(
                m.sent_at, m.by.real_name if m.by else "系统", m.get_kind_display(), m.note, "reminder"
            )
        )
    for c in item.children.select_related("created_by").order_by("created_at", "pk"):
        entries.append(
            HistoryEntry(
                c.created_at,
                c.created_by.real_name,
                f"子事项：{c.number or c.title}（{c.get_state_display()}）",
                c.title,
                "child",
            )
        )
    entries.sort(key=lambda e: e.time)
    return entries


def open_task_of(item: SupervisionItem) -> Task | None:
    """The item's current task (for the item page's 办理 button)."""
    process_id = SupervisionProcess.objects.filter(item=item).values_list("pk", flat=True).first()
    if process_id is None:
        return None
    return Task.objects.filter(process_id=process_id, status__in=acting.OPEN_STATUSES).order_by("-pk").first()


def is_unit_head(actor: User, report: ProgressReport) -> bool:
    """May `actor` 审签 this report (the page shows the button only then)."""
    return _is_unit_head(actor, department_id=report.department_id, agency_id=report.agency_id)


__all__ = [
    "ALREADY_DONE",
    "LOST_RACE",
    "FlowError",
    "HistoryEntry",
    "SupervisionStepInput",
    "assign_supervision_number",
    "claim_supervision",
    "complete_supervision_step",
    "decide_extension",
    "format_number",
    "initiate",
    "is_closed",
    "is_unit_head",
    "item_history",
    "may_decide_extension",
    "open_task_of",
    "request_extension",
    "roll_up",
    "screen_extension",
    "sign_off_report",
    "split_item",
    "transfer_supervision",
    "write_report",
]

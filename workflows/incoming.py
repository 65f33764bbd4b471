"""The 收文 flow's services (flows.md §2): every human action on a 收文 task, audited, in one transaction.

签收 of an exchange record (documents.exchange.receive → `exchange_received` → `on_exchange_received`)
or a registration by hand (`register_by_hand`) creates the 收文 and starts its process; then
`complete_incoming_step` drives 登记 → 初审 → 拟办 → 批办 → 分办 → 承办 → 答复 → 办结 → 归档.

As in the 发文 flow (workflows/services.py): each action runs under the flow's process row lock and
one transaction (workflows/acting.py); who may act is checked here (the holder, their delegate under
a 收文 委托 — shown as 代 — or a candidate of a group task, who claims it by acting); every refusal is
a FlowError with a Chinese message and leaves the document, the record and the flow as they were.
Work on the document (收文号, 退文, 办结 to the sender, 传阅, 归档) is done by documents' services and
the 传阅 service inside the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from documents.errors import DocumentError
from documents.incoming import (
    archive_incoming,
    assign_incoming_number,
    check_registration,
    complete_record,
    create_by_hand,
    create_from_exchange,
    default_deadline,
)
from documents.models import (
    DocType,
    DocumentState,
    ExchangeRecord,
    HandlingKind,
    IncomingRecord,
    OfficialDocument,
    ReturnReason,
    Urgency,
)
from documents.services import add_participants, set_state
from officeapp.access import dept_heads_of, has_role
from officeapp.audit.services import record
from officeapp.org.models import DelegationScope, Department, Portfolio, Role, User
from officeapp.outbox.services import emit
from workflows import access, acting
from workflows.acting import ALREADY_DONE as ALREADY_DONE
from workflows.acting import LOST_RACE as LOST_RACE
from workflows.acting import FlowError as FlowError
from workflows.flows import INCOMING_STEP_LABELS, IncomingFlow, incoming_earlier_steps
from workflows.incoming_assignment import assign
from workflows.live import push_inbox_changed
from workflows.models import Decision, IncomingProcess, Opinion

PROCESS_FIELDS = [
    "route",
    "handling_kind",
    "instructing_leader",
    "lead_unit",
    "co_units",
    "deadline",
    "not_ours",
]
URGENT = (Urgency.URGENT, Urgency.EXTRA_URGENT)


@dataclass
class IncomingStepInput:
    """What a person submits at a 收文 step. Fields a step does not use are ignored."""

    decision: str = Decision.AGREE
    opinion: str = ""
    return_to: str = ""
    signature: Any = None  # a Blob (or an upload, stored first): the handwritten signature
    # 登记: title, source_name, source_number, copies, urgency, issued_on, received_on, deadline
    # (and doc_type); a key left out keeps the value prefilled at 签收.
    registration: dict[str, Any] | None = None
    return_reason: str = ""  # 退文: a ReturnReason value
    return_note: str = ""
    handling_kind: str = ""  # 拟办: "reading" (阅知性) or "action" (批办性)
    leader: User | None = None  # 拟办: who instructs
    lead_unit: Department | None = None
    co_units: list[Department] | None = None
    deadline: date | None = None
    readers: list[User] = field(default_factory=list)
    in_order: bool = False
    result: str = ""  # 承办: 办理情况; 答复/办结: 办理结果
    retention: str = ""


# --- helpers ----------------------------------------------------------------------------------


def process_lock(process_id: int) -> Any:
    return acting.process_lock(IncomingFlow, process_id)


def _process_of(task: Task) -> IncomingProcess:
    """The process with its document and record loaded once; handed to viewflow's activation so
    the onCreate hook of the next tasks reads them from here."""
    process = IncomingProcess.objects.select_related(
        "document__agency", "document__drafter", "document__incoming", "lead_unit", "instructing_leader"
    ).get(pk=task.process_id)
    task.process = process
    return process


def _acting_for(task: Task, actor: User) -> User | None:
    return acting.acting_for(task, actor, scope=DelegationScope.INCOMING)


def _label(step: str) -> str:
    return INCOMING_STEP_LABELS.get(step, step)


def _opinion(
    task: Task, process: IncomingProcess, *, actor: User, decision: str, text: str = "", **kwargs: Any
) -> Opinion:
    step = task.flow_task.name
    return acting.write_opinion(
        task,
        process,
        document=process.document,
        actor=actor,
        decision=decision,
        text=text,
        step=step,
        label=_label(step),
        **kwargs,
    )


def _record_of(document: OfficialDocument) -> IncomingRecord:
    return IncomingRecord.objects.select_for_update().get(document=document)


def _refusal(exc: Exception) -> FlowError:
    if isinstance(exc, FlowError):
        return exc
    if isinstance(exc, DocumentError):
        return FlowError(exc.message)
    message = exc.args[0] if exc.args else "无权办理该事项。"
    return FlowError(str(message))


# --- starting -------------------------------------------------------------------------------


def start_incoming(document: OfficialDocument, *, actor: User) -> IncomingProcess:
    """Open the 收文 process; the 登记 task goes to the 收发员 who signed for it (the 收文's drafter)."""
    if not document.is_incoming:
        raise FlowError("只有收文可以发起收文流程。")
    if IncomingProcess.objects.filter(document=document).exists():
        raise FlowError("该收文已在办理中。")
    with transaction.atomic():
        process = IncomingFlow.receive.run(document=document)
        by_hand = IncomingRecord.objects.filter(document=document, by_hand=True).exists()
        # 签收 as the first line of the 收文处理单: who signed for it (or registered it) and when.
        acting.write_opinion(
            None,
            process,
            document=document,
            actor=actor,
            decision=Decision.AGREE,
            text="手工登记" if by_hand else "签收",
            step="receive",
            label=_label("receive"),
        )
        record("workflows.incoming_started", actor=actor, obj=document, details={"process": process.pk})
        emit("workflows.process.started", process, payload={"document": document.pk, "flow": "incoming"})
    return process


def on_exchange_received(sender: Any, record: ExchangeRecord, actor: User, **kwargs: Any) -> None:
    """`documents.signals.exchange_received`: inside the 签收's transaction, the receiving agency's
    收文 is created and its process started (a failure undoes the 签收 too)."""
    document = create_from_exchange(record, actor=actor)
    start_incoming(document, actor=actor)


def register_by_hand(**fields: Any) -> OfficialDocument:
    """手工登记 (a paper document or one from an outside system) and its process; the 登记 task is
    the actor's. Same arguments as documents.incoming.create_by_hand."""
    actor = fields["actor"]
    try:
        with transaction.atomic():
            document = create_by_hand(**fields)
            start_incoming(document, actor=actor)
    except (DocumentError, PermissionDenied) as exc:
        raise _refusal(exc) from exc
    return document


def claim_incoming(task: Task, *, actor: User) -> Task:
    """抢办: the first candidate to claim a group task (a unit's 承办, the office's steps) owns it."""
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        acting.claim_locked(locked, actor=actor, event="workflows.incoming_claimed")
    return locked


# --- the step itself ------------------------------------------------------------------------


def complete_incoming_step(task: Task, *, actor: User, step_input: IncomingStepInput) -> Opinion:
    """Sign the opinion and move on: agree, 退回 to an earlier step, 退文 at 初审, not ours at 承办."""
    step_input.signature = acting.stored_signature(step_input.signature, actor=actor)
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        also_tell = acting.claim_to_finish(locked, actor=actor)
        on_behalf_of = _acting_for(locked, actor)
        process = _process_of(locked)
        if process.suspended:
            raise FlowError("该收文流程已被办公室挂起，暂不能办理。")
        step = locked.flow_task.name
        decision = step_input.decision
        text = step_input.opinion.strip()
        try:
            text = _decide(step, decision, text, locked, process, actor=actor, step_input=step_input)
        except (DocumentError, PermissionDenied) as exc:
            raise _refusal(exc) from exc
        # Only our columns: viewflow's own process row is viewflow's to write.
        process.save(update_fields=PROCESS_FIELDS)
        opinion = _opinion(
            locked,
            process,
            actor=actor,
            decision=decision,
            text=text or Decision(decision).label,
            return_to=process.route if decision == Decision.RETURN else "",
            on_behalf_of=on_behalf_of,
            signature=step_input.signature,
        )
        record(
            "workflows.incoming_step_completed",
            actor=actor,
            obj=process.document,
            details={"step": step, "decision": decision, "task": locked.pk, "return_to": opinion.return_to},
        )
        emit(
            "workflows.task.completed",
            locked,
            payload={"step": step, "decision": decision, "flow": "incoming"},
        )
        acting.finish_task(locked, actor=actor, title=process.document.title, also_tell=also_tell)
    return opinion


def _decide(
    step: str,
    decision: str,
    text: str,
    task: Task,
    process: IncomingProcess,
    *,
    actor: User,
    step_input: IncomingStepInput,
) -> str:
    """Apply the decision; returns the opinion's text. Raises to refuse (nothing is kept)."""
    if decision == Decision.RETURN:
        if step == "handle":
            raise FlowError("承办单位如认为不属于本单位职责，请选择“非本单位职责”并写明理由。")
        if step_input.return_to not in incoming_earlier_steps(step):
            raise FlowError("请选择要退回的环节。")
        if not text:
            raise FlowError("退回时必须填写退回原因。")
        process.route = step_input.return_to
        return text
    if decision == Decision.SEND_BACK:
        if step != "screen":
            raise FlowError("只有初审环节可以退文。")
        return _send_back(process, actor=actor, step_input=step_input, text=text)
    if decision == Decision.NOT_OURS:
        if step != "handle":
            raise FlowError("只有承办单位可以选择“非本单位职责”。")
        if not text:
            raise FlowError("请写明不属于本单位职责的理由。")
        unit = (task.data or {}).get("unit") or {}
        process.not_ours = [
            *process.not_ours,
            {"unit": unit.get("id"), "label": unit.get("label", ""), "reason": text},
        ]
        process.route = "next"
        return text
    if decision not in (Decision.AGREE, Decision.READ):
        raise FlowError("请选择办理结论。")
    process.route = "next"
    return _agree(step, task, process, actor=actor, step_input=step_input, text=text)


def _agree(
    step: str, task: Task, process: IncomingProcess, *, actor: User, step_input: IncomingStepInput, text: str
) -> str:
    document = process.document
    if step == "register":
        _register(process, actor=actor, registration=step_input.registration)
    elif step == "propose":
        _propose(process, step_input=step_input)
    elif step == "instruct":
        _instruct(process, step_input=step_input)
    elif step == "assign":
        _assign(process, actor=actor, step_input=step_input, text=text)
    elif step == "handle":
        result = step_input.result.strip()
        if not result:
            raise FlowError("请填写办理情况。")
        # A 协办 unit's 办理情况 is its report to the 主办 unit: the opinion carries the unit's name.
        return "\n".join(part for part in (text, result) if part)
    elif step == "reply":
        result = step_input.result.strip()
        if not result and not document.replies.exists():
            raise FlowError("请填写办理结果，或拟写答复文件。")
        if result:
            rec = _record_of(document)
            rec.result = result
            rec.save(update_fields=["result"])
        return "\n".join(part for part in (text, result) if part)
    elif step == "complete":
        return _complete(process, actor=actor, step_input=step_input, text=text)
    elif step == "archive":
        archive_incoming(document, actor=actor, retention=step_input.retention)
    return text


# --- 登记 -----------------------------------------------------------------------------------------

REGISTRATION_FIELDS = (
    "title",
    "doc_type",
    "source_name",
    "source_number",
    "copies",
    "urgency",
    "issued_on",
    "received_on",
    "deadline",
)


def _register(process: IncomingProcess, *, actor: User, registration: dict[str, Any] | None) -> None:
    """登记: the 收文登记's fields as checked by the clerk, the 收文号 (once), the 办理时限."""
    document = process.document
    rec = _record_of(document)
    given = {k: v for k, v in (registration or {}).items() if k in REGISTRATION_FIELDS}
    current = {
        "title": document.title,
        "doc_type": document.doc_type,
        "source_name": rec.source_name,
        "source_number": rec.source_number,
        "copies": rec.copies,
        "urgency": document.urgency,
        "issued_on": document.issued_on,
        "received_on": rec.received_on,
        "deadline": None,
    }
    values = {**current, **given}
    title = str(values["title"] or "").strip()
    source_name = str(values["source_name"] or "").strip()
    check_registration(
        title=title,
        source_name=source_name,
        copies=values["copies"],
        received_on=values["received_on"],
        urgency=str(values["urgency"] or ""),
        doc_type=str(values["doc_type"] or DocType.NOTICE),
    )
    received_on: date = values["received_on"]
    deadline: date | None = values["deadline"]
    if deadline is not None and deadline < received_on:
        raise FlowError("办理时限不能早于收文日期。")
    if deadline is None:
        keeps_default = (
            document.deadline is not None
            and values["urgency"] == document.urgency
            and received_on == rec.received_on
        )
        deadline = document.deadline if keeps_default else default_deadline(values["urgency"], received_on)
    document.title = title[:200]
    document.doc_type = values["doc_type"] or DocType.NOTICE
    document.urgency = values["urgency"]
    document.issued_on = values["issued_on"]
    document.deadline = deadline
    document.updated_at = timezone.now()
    document.save(update_fields=["title", "doc_type", "urgency", "issued_on", "deadline", "updated_at"])
    rec.source_name = source_name[:100]
    rec.source_number = str(values["source_number"] or "").strip()[:40]
    rec.copies = int(values["copies"])
    rec.received_on = received_on
    rec.registered_by = actor
    rec.registered_at = timezone.now()
    rec.save(
        update_fields=[
            "source_name",
            "source_number",
            "copies",
            "received_on",
            "registered_by",
            "registered_at",
        ]
    )
    document._state.fields_cache["incoming"] = rec
    assign_incoming_number(document, actor=actor)


# --- 初审: 退文 -------------------------------------------------------------------------------------


def _send_back(process: IncomingProcess, *, actor: User, step_input: IncomingStepInput, text: str) -> str:
    """退文 at 初审: the document goes back to the sender with a reason (and the sender is told);
    a 收文 registered by hand is marked 已退文 (the paper goes back by hand). The process ends."""
    reason = step_input.return_reason
    note = " ".join((step_input.return_note or "").split())
    if reason not in ReturnReason.values:
        raise FlowError("请选择退文理由。")
    if not note:
        raise FlowError("请填写退文说明。")
    document = process.document
    rec = _record_of(document)
    if rec.exchange_id is not None:
        from documents.exchange import return_document

        return_document(rec.exchange, actor=actor, reason=reason, note=note)
    set_state(document, DocumentState.RETURNED)
    process.route = "returned"
    record(
        "workflows.incoming_returned",
        actor=actor,
        obj=document,
        details={"reason": reason, "exchange": rec.exchange_id},
    )
    return f"退文：{ReturnReason(reason).label}。{note}" + (f"\n{text}" if text else "")


# --- 拟办, 批办, 分办 ---------------------------------------------------------------------------------


def _unit(department: Department | None, process: IncomingProcess, *, what: str) -> Department:
    """A unit named at 拟办/批办/分办: an active department of this agency, else refused by name."""
    if department is None:
        raise FlowError(f"请选择{what}。")
    fresh = Department.objects.filter(pk=department.pk).select_related("agency").first()
    if fresh is None:
        raise FlowError(f"所选{what}不存在，请重新选择。")
    if fresh.agency_id != process.document.agency_id:
        raise FlowError(f"{fresh.name}不是本机关的处室，不能作为{what}。")
    if not fresh.is_active:
        raise FlowError(f"{fresh.name}已停用，不能作为{what}。")
    return fresh


def _units(
    process: IncomingProcess, lead: Department | None, co: list[Department] | None
) -> tuple[Department, list[int]]:
    lead_unit = _unit(lead, process, what="主办单位")
    co_ids: list[int] = []
    for department in co or []:
        unit = _unit(department, process, what="协办单位")
        if unit.pk == lead_unit.pk:
            raise FlowError(f"{unit.name}已是主办单位，不能同时作为协办单位。")
        if unit.pk not in co_ids:
            co_ids.append(unit.pk)
    return lead_unit, co_ids


def default_leader(process: IncomingProcess, lead_unit: Department | None = None) -> User | None:
    """批办 routed by 分管: the leader whose portfolio covers the proposed 主办 unit, else the
    agency's 主要负责人 (portfolio on the whole agency), else any of its leaders."""
    agency_id = process.document.agency_id
    leaders = User.objects.filter(
        is_active=True, role_grants__role=Role.LEADER, role_grants__agency_id=agency_id
    ).distinct()
    if lead_unit is not None:
        found = leaders.filter(portfolios__department=lead_unit).order_by("pk").first()
        if found is not None:
            return found
    whole = Portfolio.objects.filter(agency_id=agency_id, leader__in=leaders).order_by("pk").first()
    if whole is not None:
        return whole.leader
    return leaders.order_by("pk").first()


def _propose(process: IncomingProcess, *, step_input: IncomingStepInput) -> None:
    """拟办: 阅知性 (straight to 分办 for 传阅) or 批办性 (a leader instructs; units may be proposed)."""
    kind = step_input.handling_kind
    if kind not in HandlingKind.values:
        raise FlowError("请选择办理类型（阅知性或批办性）。")
    document = process.document
    if kind == HandlingKind.FOR_READING:
        process.instructing_leader = None
        process.lead_unit = None
        process.co_units = []
    else:
        lead = co = None
        if step_input.lead_unit is not None:
            lead, co = _units(process, step_input.lead_unit, step_input.co_units)
        leader = step_input.leader or default_leader(process, lead)
        if leader is None:
            raise FlowError("请选择批办领导。")
        if not leader.is_active or not has_role(leader, Role.LEADER, agency=document.agency_id):
            raise FlowError(f"{leader.real_name}不是本机关领导，不能批办。")
        process.instructing_leader = leader
        process.lead_unit = lead
        process.co_units = co or []
    process.handling_kind = kind
    IncomingRecord.objects.filter(document=document).update(handling_kind=kind)


def _instruct(process: IncomingProcess, *, step_input: IncomingStepInput) -> None:
    """批办: the leader names the 主办 and 协办 units and the 办理时限 (mandatory when urgent)."""
    document = process.document
    lead, co = _units(process, step_input.lead_unit, step_input.co_units)
    deadline = step_input.deadline
    if deadline is None and document.urgency in URGENT:
        raise FlowError(f"{document.get_urgency_display()}公文必须明确办理时限。")
    if deadline is not None and deadline < timezone.localdate():
        raise FlowError("办理时限不能早于今天。")
    process.lead_unit = lead
    process.co_units = co
    process.deadline = deadline or process.deadline or document.deadline


def _assign(process: IncomingProcess, *, actor: User, step_input: IncomingStepInput, text: str) -> None:
    """分办: the units as instructed (or adjusted here), readers for 传阅; the not-ours reasons of the
    last round are answered by this choice and cleared."""
    document = process.document
    if step_input.lead_unit is not None:
        lead, co = _units(process, step_input.lead_unit, step_input.co_units)
        process.lead_unit = lead
        process.co_units = co
    elif step_input.co_units and process.lead_unit is not None:
        # Only 协办 units chosen: added to the 主办 of the 批示 (an empty choice keeps the 批示's).
        _, co = _units(process, process.lead_unit, step_input.co_units)
        process.co_units = co
    if step_input.deadline is not None:
        if step_input.deadline < timezone.localdate():
            raise FlowError("办理时限不能早于今天。")
        process.deadline = step_input.deadline
    if process.handling_kind == HandlingKind.FOR_ACTION and process.lead_unit is None:
        raise FlowError("批办性公文须明确主办单位，请选择承办单位。")
    if process.handling_kind == HandlingKind.FOR_READING and not step_input.readers:
        raise FlowError("请选择传阅人员。")
    if process.handling_kind == HandlingKind.FOR_READING:
        # 阅知性: 传阅 only; no unit handles it.
        process.lead_unit = None
        process.co_units = []
    if step_input.readers:
        try:
            from workflows.circulation import circulate
        except ImportError as exc:  # helper D's module, landing in the same issue
            raise FlowError("传阅功能暂不可用，请稍后再试。") from exc
        circulate(document, actor=actor, readers=step_input.readers, in_order=step_input.in_order, note=text)
    process.not_ours = []


# --- 办结 ---------------------------------------------------------------------------------------------


def _complete(process: IncomingProcess, *, actor: User, step_input: IncomingStepInput, text: str) -> str:
    """办结: the 办理结果 on the 收文登记 and, for an exchanged 收文, back to the sender (已办结)."""
    document = process.document
    rec = _record_of(document)
    result = step_input.result.strip() or rec.result
    if not result:
        replies = [r.doc_number or r.title for r in document.replies.all()]
        if replies:
            result = f"已发文答复：{'、'.join(replies)}"
        elif process.handling_kind == HandlingKind.FOR_READING:
            result = "已传阅"
    if not result:
        raise FlowError("请填写办理结果。")
    complete_record(document, actor=actor, result=result)
    if rec.exchange_id is not None:
        from documents.exchange import mark_completed

        mark_completed(rec.exchange, actor=actor, result=result)
    return "\n".join(part for part in (text, f"办理结果：{result}") if part)


# --- 转办, 承办人, 答复发文 --------------------------------------------------------------------------


def transfer_incoming(task: Task, *, actor: User, to_user: User, reason: str = "") -> Task:
    """转办: the holder (or the receiving agency's office) hands an open task to a colleague."""
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        process = _process_of(locked)
        holder = locked.owner_id == actor.pk or (
            locked.owner_id is not None and _delegate_of_owner(locked, actor)
        )
        if not holder and not access.can_manage_incoming(actor, process):
            raise FlowError("只有当前办理人或办公室可以转办。")
        acting.check_transfer_target(locked, to_user)
        if to_user.agency_id != process.document.agency_id:
            raise FlowError("只能转给本机关的人员办理。")
        before = acting.open_people(locked)
        assign(locked, [to_user])
        locked.save()
        add_participants(process.document, [to_user])
        _opinion(
            locked,
            process,
            actor=actor,
            decision=Decision.TRANSFER,
            text=reason.strip() or f"转{to_user.real_name}办理",
        )
        record(
            "workflows.incoming_transferred",
            actor=actor,
            obj=process.document,
            details={"task": locked.pk, "to": to_user.pk},
        )
        emit("workflows.task.transferred", locked, payload={"to": to_user.pk, "flow": "incoming"})
        push_inbox_changed(before, task_id=locked.pk, action="closed", title=process.document.title)
        push_inbox_changed([to_user.pk], task_id=locked.pk, action="created", title=process.document.title)
    return locked


def _delegate_of_owner(task: Task, actor: User) -> bool:
    try:
        return _acting_for(task, actor) is not None
    except FlowError:
        return False


def assign_handler(task: Task, *, actor: User, handler: User) -> Task:
    """A head of the unit gives its 承办 task to a person of the unit (承办人)."""
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        if locked.flow_task.name != "handle":
            raise FlowError("只有承办环节可以指定承办人。")
        process = _process_of(locked)
        unit = (locked.data or {}).get("unit") or {}
        unit_id = int(unit.get("id", 0))
        is_head = dept_heads_of(unit_id).filter(pk=actor.pk).exists()
        if not (is_head or locked.owner_id == actor.pk or _delegate_of_owner(locked, actor)):
            raise FlowError("只有承办单位负责人可以指定承办人。")
        if not handler.is_active or handler.department_id != unit_id:
            raise FlowError(f"承办人须为{unit.get('label', '承办单位')}的在岗人员。")
        before = acting.open_people(locked)
        assign(locked, [handler])
        locked.data = {**(locked.data or {}), "handler": handler.pk}
        locked.save()
        add_participants(process.document, [handler])
        _opinion(locked, process, actor=actor, decision=Decision.TRANSFER, text=f"请{handler.real_name}承办")
        record(
            "workflows.incoming_handler_assigned",
            actor=actor,
            obj=process.document,
            details={"task": locked.pk, "handler": handler.pk},
        )
        emit("workflows.task.transferred", locked, payload={"to": handler.pk, "flow": "incoming"})
        push_inbox_changed(before, task_id=locked.pk, action="closed", title=process.document.title)
        push_inbox_changed([handler.pk], task_id=locked.pk, action="created", title=process.document.title)
    return locked


def start_reply(task: Task, *, actor: User, doc_type: str, title: str) -> OfficialDocument:
    """答复 by a 发文 (批复, 函 …): a draft in the actor's department, `in_reply_to` the 收文, 主送 the
    来文单位, its 发文 process started with the actor as drafter. The 答复 task stays open until the
    handler reports the result (or the reply's number)."""
    from documents.services import create_draft
    from workflows.services import start_outgoing

    if doc_type not in DocType.values:
        raise FlowError("请选择答复文件的文种。")
    if not (title or "").strip():
        raise FlowError("请填写答复文件的标题。")
    with process_lock(task.process_id):
        locked = acting.locked_task(task.pk)
        if locked.flow_task.name not in ("reply", "handle"):
            raise FlowError("只有承办或答复环节可以拟写答复文件。")
        if not access.can_act_incoming(actor, locked):
            raise FlowError("您不是该任务的办理人。")
        process = _process_of(locked)
        incoming = process.document
        rec = incoming.incoming
        if actor.department is None:
            raise FlowError("您没有所属处室，不能拟稿。")
        try:
            draft = create_draft(
                actor=actor,
                department=actor.department,
                title=title,
                doc_type=doc_type,
                main_recipients=[rec.source_agency] if rec.source_agency else [],
                main_recipients_text="" if rec.source_agency else rec.source_name,
            )
        except DocumentError as exc:
            raise _refusal(exc) from exc
        OfficialDocument.objects.filter(pk=draft.pk).update(in_reply_to=incoming)
        draft.in_reply_to = incoming
        start_outgoing(draft, actor=actor)
        _opinion(
            locked,
            process,
            actor=actor,
            decision=Decision.NOTE,
            text=f"拟写答复文件：{draft.title}",
        )
        record(
            "workflows.incoming_reply_started",
            actor=actor,
            obj=incoming,
            details={"task": locked.pk, "reply": draft.pk},
        )
        emit("workflows.incoming.reply_started", incoming, payload={"reply": draft.pk})
    return draft


__all__ = [
    "ALREADY_DONE",
    "LOST_RACE",
    "FlowError",
    "IncomingStepInput",
    "assign_handler",
    "claim_incoming",
    "complete_incoming_step",
    "default_leader",
    "on_exchange_received",
    "register_by_hand",
    "start_incoming",
    "start_reply",
    "transfer_incoming",
]

"""The 发文 flow's services: every human action on a task, each one audited, in one transaction.

viewflow's activations check no permission when driven from code: every service here checks who
may act (the task's owner, their delegate, a candidate who claimed it, the office for management
commands). Each runs under the flow's process lock (select_for_update); a lost race, viewflow's
FlowLockFailed and a re-posted finished task all end in the same clear message, and nothing is done
twice. Step work (numbering, rendering, seals, exchange, archive) is done by documents' services
inside the same transaction, so a failure leaves the document and the flow as they were.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from documents.models import DocumentState, OfficialDocument
from documents.services import add_participants, set_state
from documents.versions import save_version
from officeapp.audit.services import record
from officeapp.org.models import Agency, DelegationScope, Department, User
from officeapp.outbox.services import emit
from workflows import access, acting

# Re-exported: the pages and tests catch FlowError and compare messages through this module.
from workflows.acting import ALREADY_DONE as ALREADY_DONE
from workflows.acting import LOST_RACE as LOST_RACE
from workflows.acting import OPEN_STATUSES as OPEN_STATUSES
from workflows.acting import FlowError as FlowError
from workflows.assignment import agency_leaders, assign, sealing_agency
from workflows.flows import STEP_LABELS, STEP_ORDER, OutgoingFlow, earlier_steps, next_split_token
from workflows.live import push_inbox_changed
from workflows.models import CommonOpinion, Decision, Opinion, OutgoingProcess

PROCESS_ROUTING_FIELDS = [
    "route",
    "countersign_parties",
    "sign_off_chain",
    "sign_off_index",
    "seal_agencies",
    "countersign_objection",
]


@dataclass
class StepInput:
    """What a person submits at a step. Fields a step does not use are ignored."""

    decision: str = Decision.AGREE
    opinion: str = ""
    return_to: str = ""
    signature: Any = None  # a Blob: the handwritten signature drawn on a phone
    countersign_parties: list[dict[str, Any]] | None = None
    signers: list[User] | None = None
    retention: str = ""
    reserved_number: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _process_of(task: Task) -> OutgoingProcess:
    """The process with its document loaded once; handed to viewflow's activation (task.process) so
    neither viewflow nor the onCreate hook of the next tasks reads them again."""
    process = OutgoingProcess.objects.select_related("document__agency", "document__drafter").get(
        pk=task.process_id
    )
    task.process = process
    return process


def _locked_step(task_id: int) -> tuple[Task, OutgoingProcess]:
    """The open task, locked, with its process and document read in the same statement (the
    process row is already held by the flow's lock, so only the task row is locked here); handed
    to viewflow's activation as `task.process`. A finished task is the re-post message."""
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related(
            "process__outgoingprocess__document__agency", "process__outgoingprocess__document__drafter"
        )
        .get(pk=task_id)
    )
    if task.status not in OPEN_STATUSES:
        raise FlowError(ALREADY_DONE)
    process = task.process.outgoingprocess
    task.process = process
    return task, process


def process_lock(process_id: int) -> Any:
    return acting.process_lock(OutgoingFlow, process_id)


_locked_task = acting.locked_task


def _acting_for(task: Task, actor: User) -> User | None:
    return acting.acting_for(task, actor, scope=DelegationScope.OUTGOING)


def _opinion(
    task: Task, process: OutgoingProcess, *, actor: User, decision: str, text: str = "", **kwargs: Any
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
        label=STEP_LABELS.get(step, step),
        **kwargs,
    )


def _finish(task: Task, process: OutgoingProcess, *, actor: User, also_tell: list[int] | None = None) -> None:
    acting.finish_task(task, actor=actor, title=process.document.title, also_tell=also_tell)


# --- starting and claiming --------------------------------------------------------------------


def start_outgoing(document: OfficialDocument, *, actor: User) -> OutgoingProcess:
    """Open the 发文 process of a new draft; the drafter gets the 拟稿 task."""
    if document.drafter_id != actor.pk:
        raise FlowError("只有拟稿人可以发起发文流程。")
    if OutgoingProcess.objects.filter(document=document).exists():
        raise FlowError("该公文已在办理中。")
    with transaction.atomic():
        process = OutgoingFlow.start.run(document=document)
        record("workflows.outgoing_started", actor=actor, obj=document, details={"process": process.pk})
        emit("workflows.process.started", process, payload={"document": document.pk})
    return process


def claim(task: Task, *, actor: User) -> Task:
    """抢办: the first candidate to claim a group task owns it; the others see who did."""
    with process_lock(task.process_id):
        locked = _locked_task(task.pk)
        acting.claim_locked(locked, actor=actor, event="workflows.task_claimed")
    return locked


# --- the step itself --------------------------------------------------------------------------


def complete_step(task: Task, *, actor: User, step_input: StepInput) -> Opinion:
    """Sign the opinion and move on: agree (next step), or 退回 to an earlier step with a reason."""
    step_input.signature = acting.stored_signature(step_input.signature, actor=actor)
    with process_lock(task.process_id):
        locked, process = _locked_step(task.pk)
        also_tell = acting.claim_to_finish(locked, actor=actor)
        on_behalf_of = _acting_for(locked, actor)
        if process.suspended:
            raise FlowError("该公文流程已被办公室挂起，暂不能办理。")
        step = locked.flow_task.name
        decision = step_input.decision
        opinion_text = step_input.opinion.strip()
        routing_before = _routing_of(process)
        if decision == Decision.RETURN and step == "countersign":
            # One parallel branch cannot send the whole document back: it disagrees, and after
            # every party has signed the document goes back to the drafter with the opinions.
            raise FlowError("会签时如不同意，请选择“不同意”并写明理由；全部会签完成后退回拟稿人修改。")
        if decision == Decision.RETURN:
            allowed = earlier_steps(step)
            if step_input.return_to not in allowed:
                raise FlowError("请选择要退回的环节。")
            if not opinion_text:
                raise FlowError("退回时必须填写退回原因。")
            process.route = step_input.return_to
            if step_input.return_to == "countersign":
                process.countersign_objection = False
        elif step == "countersign" and decision == Decision.DISAGREE:
            if not opinion_text:
                raise FlowError("不同意会签时请写明理由。")
            process.countersign_objection = True
            process.route = "next"
        else:
            if decision not in (Decision.AGREE, Decision.READ):
                raise FlowError("请选择办理结论。")
            process.route = "next"
            _do_step_work(step, locked, process, actor=actor, step_input=step_input)
        # Only our columns (viewflow's own process row is viewflow's to write), and only those the
        # step changed: most steps route "next" as the last one did and write nothing here.
        changed = [f for f, value in _routing_of(process).items() if routing_before[f] != value]
        if changed:
            process.save(update_fields=changed)
        opinion = _opinion(
            locked,
            process,
            actor=actor,
            decision=decision,
            text=opinion_text or Decision(decision).label,
            return_to=process.route if decision == Decision.RETURN else "",
            on_behalf_of=on_behalf_of,
            signature=step_input.signature,
        )
        record(
            "workflows.step_completed",
            actor=actor,
            obj=process.document,
            details={"step": step, "decision": decision, "task": locked.pk, "return_to": opinion.return_to},
        )
        emit("workflows.task.completed", locked, payload={"step": step, "decision": decision})
        _finish(locked, process, actor=actor, also_tell=also_tell)
    return opinion


def _routing_of(process: OutgoingProcess) -> dict[str, Any]:
    """The routing columns' values, copied (lists too), to tell afterwards which ones a step changed."""
    return {f: copy.deepcopy(getattr(process, f)) for f in PROCESS_ROUTING_FIELDS}


def _do_step_work(
    step: str, task: Task, process: OutgoingProcess, *, actor: User, step_input: StepInput
) -> None:
    """What agreeing means at each step; documents' services do the work and raise on refusal."""
    # The process row lock (process_lock) already serialises every action on this document's flow,
    # and documents' own services lock the document where they write it.
    document = process.document
    if step == "draft":
        if document.current_version is None or not document.current_version.body:
            raise FlowError("正文为空，请先填写正文再提交。")
        if step_input.countersign_parties is not None:
            process.countersign_parties = step_input.countersign_parties
        process.countersign_objection = False
    elif step == "dept_review":
        if step_input.countersign_parties is not None:
            process.countersign_parties = step_input.countersign_parties
        process.countersign_objection = False
    elif step == "office_review":
        # Read once for both: who signs by default and whether every co-issuer has a signer.
        co_issuers = list(document.co_issuers.select_related("agency"))
        signers = step_input.signers or default_signers(document, co_issuers=co_issuers)
        if not signers:
            raise FlowError("请选择签发领导。")
        _check_joint_signers(document, signers, co_issuers=co_issuers)
        process.sign_off_chain = [u.pk for u in signers]
        process.sign_off_index = 0
    elif step == "sign_off":
        _sign(document, process, actor=actor)
    elif step == "recheck":
        from documents.diffing import is_substantive

        # By id first: the versions' text is read only when 复核 made a new one.
        changed = (
            document.signed_version_id is not None
            and document.current_version_id != document.signed_version_id
        )
        if changed and is_substantive(document.signed_version.body, document.current_version.body):
            # 复核 changed the text in substance: back to the (last) signer.
            process.route = "sign_off"
            process.sign_off_index = max(len(process.sign_off_chain) - 1, 0)
    elif step == "assign_number":
        from documents.numbering import assign_number

        if not document.doc_number:
            assign_number(document, actor=actor, reserved=step_input.reserved_number)
    elif step == "typeset":
        from documents.models import Rendering, RenderKind, RenderStatus

        ready = Rendering.objects.filter(
            document=document,
            version_id=document.current_version_id,
            kind=RenderKind.DOCX,
            status=RenderStatus.READY,
        ).exists()
        if not ready:
            raise FlowError("请先生成排版稿并校对无误后再提交。")
        process.seal_agencies = [document.agency_id, *document.co_issuers.values_list("agency_id", flat=True)]
    elif step == "seal":
        from documents.sealing import authorise_seal

        sealed = sealing_agency(process)
        authorise_seal(document, actor=actor)
        process.seal_agencies = [a for a in process.seal_agencies if a != sealed]
    elif step == "distribute":
        from documents.exchange import distribute

        distribute(document, actor=actor)
    elif step == "archive":
        from documents.archiving import archive

        archive(document, actor=actor, retention=step_input.retention)


def default_signers(document: OfficialDocument, *, co_issuers: list[Any] | None = None) -> list[User]:
    """签发 routed by 分管 (flows.md step 5): a 下行/平行文 goes to the leader who oversees the drafting
    department; a 上行文 to the agency's 主要负责人 (the leader whose portfolio is the whole agency).
    Joint issue adds a leader of each co-issuing agency (联署机关负责人会签)."""
    by_department = User.objects.filter(portfolios__department_id=document.department_id, is_active=True)
    by_agency = User.objects.filter(portfolios__agency_id=document.agency_id, is_active=True)
    order = [by_agency, by_department] if document.is_upward else [by_department, by_agency]
    chain: list[User] = []
    for queryset in order:
        chain = list(queryset.distinct().order_by("pk")[:1])
        if chain:
            break
    if not chain:
        chain = agency_leaders(document.agency_id)[:1]
    if co_issuers is None:
        co_issuers = list(document.co_issuers.select_related("agency"))
    for co in co_issuers:
        chain.extend(agency_leaders(co.agency_id)[:1])
    return chain


def _check_joint_signers(document: OfficialDocument, signers: list[User], *, co_issuers: list[Any]) -> None:
    """联合发文: every co-issuing agency's leader signs (条例 第十九条); refuse a chain without one."""
    leaders_by_agency: dict[int, set[int]] = {}
    for co in co_issuers:
        leaders_by_agency[co.agency_id] = {u.pk for u in agency_leaders(co.agency_id)}
        if not leaders_by_agency[co.agency_id] & {u.pk for u in signers}:
            name = co.agency.short_name or co.agency.name
            raise FlowError(f"联合发文须由各联署机关负责人签发：签发领导中没有{name}的领导。")


def _sign(document: OfficialDocument, process: OutgoingProcess, *, actor: User) -> None:
    """签发: the signer's name joins 签发人; 成文日期 is the (last) signer's date (G29)."""
    names = [n for n in document.signer_names.split("、") if n] if document.signer_names else []
    if actor.real_name not in names:
        names.append(actor.real_name)
    document.signer_names = "、".join(names)
    document.issued_on = timezone.localdate()
    # By id: the version itself is not needed to record which one was signed.
    document.signed_version_id = document.current_version_id
    document.save(update_fields=["signer_names", "issued_on", "signed_version", "updated_at"])
    process.sign_off_index += 1


# --- text, attachments and details while holding the task --------------------------------------


def edit_body(
    task: Task, *, actor: User, body: list[dict[str, Any]], based_on: int | None, comment: str = ""
) -> Any:
    """Save 正文 while holding a task at a step that may edit it (after 签发: only 复核)."""
    with process_lock(task.process_id):
        locked, process = _locked_step(task.pk)
        if locked.owner_id != actor.pk and _acting_for(locked, actor) is None:
            raise FlowError("您不是该任务的办理人。")
        if not access.step_may_edit_body(locked.flow_task.name):
            raise FlowError("当前环节不能修改正文。签发后正文只能在复核环节修改。")
        return save_version(process.document, actor=actor, body=body, based_on=based_on, comment=comment)


def typeset_render(task: Task, *, actor: User) -> Any:
    """排版: produce the GB/T 9704 .docx of the current version now (the proof), and its PDF in the
    worker. A rendering failure leaves the document and the flow as they were."""
    from documents.models import RenderKind, RenderStatus
    from documents.rendering import render_now, request_rendering

    if not access.can_act(actor, task) or task.flow_task.name != "typeset":
        raise FlowError("只有排版环节的办理人可以生成排版稿。")
    process = _process_of(task)
    rendering = render_now(process.document, actor=actor, kind=RenderKind.DOCX)
    if rendering.status != RenderStatus.READY:
        # render_now records the failure on its row and returns it: the step stays where it was.
        raise FlowError(f"排版稿生成失败：{rendering.error or '请稍后重试'}。公文和流程未受影响。")
    request_rendering(process.document, actor=actor, kind=RenderKind.PDF)
    return rendering


def restore_body(task: Task, *, actor: User, version_number: int, based_on: int | None) -> Any:
    """An older version of 正文 written again as the newest one, by whoever holds an editable step."""
    from documents.versions import restore_version

    with process_lock(task.process_id):
        locked = _locked_task(task.pk)
        if not access.can_act(actor, locked):
            raise FlowError("您不是该任务的办理人。")
        if not access.step_may_edit_body(locked.flow_task.name):
            raise FlowError("当前环节不能修改正文。签发后正文只能在复核环节修改。")
        document = _process_of(locked).document
        version = document.versions.filter(number=version_number).first()
        if version is None:
            raise FlowError("没有这个版本。")
        return restore_version(document, actor=actor, version=version, based_on=based_on)


def _holding_editable_step(task: Task, actor: User) -> OutgoingProcess:
    if not access.can_act(actor, task):
        raise FlowError("您不是该任务的办理人。")
    if not access.step_may_edit_body(task.flow_task.name):
        raise FlowError("当前环节不能修改正文和附件。签发后只能在复核环节修改。")
    return _process_of(task)


def attach(task: Task, *, actor: User, upload: Any, title: str) -> Any:
    """Add an attachment while holding a step that may change the document (checks before storage)."""
    from documents.attachments import add_attachment

    process = _holding_editable_step(task, actor)
    return add_attachment(process.document, actor=actor, upload=upload, title=title)


def detach(task: Task, *, actor: User, attachment_id: int) -> None:
    from documents.attachments import remove_attachment
    from documents.models import Attachment

    process = _holding_editable_step(task, actor)
    attachment = Attachment.objects.filter(
        document=process.document, pk=attachment_id, removed_at__isnull=True
    ).first()
    if attachment is None:
        raise FlowError("该附件不存在或已删除。")
    remove_attachment(attachment, actor=actor)


# --- 撤回, 转办, 加签/减签 ------------------------------------------------------------------------


def _following_human_tasks(task: Task) -> tuple[list[Task], list[Task]]:
    """The gateway tasks and the human tasks that directly follow `task` through gateways."""
    gateways: list[Task] = []
    humans: list[Task] = []
    frontier = list(task.leading.all())
    while frontier:
        t = frontier.pop(0)
        if t.flow_task_type == "HUMAN":
            humans.append(t)
        else:
            gateways.append(t)
            frontier.extend(t.leading.all())
    return gateways, humans


def withdraw(task: Task, *, actor: User) -> Task:
    """撤回: take back a finished step before the next person has acted on it."""
    with process_lock(task.process_id):
        done = Task.objects.select_for_update().get(pk=task.pk)
        if done.status != STATUS.DONE or done.owner_id != actor.pk:
            raise FlowError("只能撤回自己已办理的环节。")
        process = _process_of(done)
        gateways, humans = _following_human_tasks(done)
        if not humans or any(h.status not in (STATUS.NEW, STATUS.ASSIGNED) for h in humans):
            raise FlowError("下一环节已经开始办理，不能撤回。")
        if Opinion.objects.filter(task__in=humans).exists():
            raise FlowError("下一环节已经签署意见，不能撤回。")
        notified: list[int] = []
        for human in humans:
            notified.extend(acting.open_people(human))
            human.flow_task.activation_class(human).cancel()
        for gateway in reversed(gateways):
            gateway.flow_task.activation_class(gateway).undo()
        activation = done.flow_task.activation_class(done)
        activation.undo()
        revived_task = activation.revive()
        revived = Task.objects.get(pk=revived_task.pk)
        # viewflow's revive copies the task but runs no onCreate: the step is the actor's again.
        assign(revived, [actor])
        revived.save()
        set_state(process.document, DocumentState(done.flow_task.name))
        push_inbox_changed([actor.pk], task_id=revived.pk, action="created", title=process.document.title)
        _opinion(done, process, actor=actor, decision=Decision.WITHDRAW, text="撤回")
        record("workflows.withdrawn", actor=actor, obj=process.document, details={"task": done.pk})
        push_inbox_changed(notified, task_id=humans[0].pk, action="closed", title=process.document.title)
    return revived


def transfer(task: Task, *, actor: User, to_user: User, reason: str = "") -> Task:
    """转办: hand an open task to a colleague (a head passing a 会签 to a staff member)."""
    with process_lock(task.process_id):
        locked, process = _locked_step(task.pk)
        if not access.can_transfer(actor, locked, process):
            raise FlowError("只有当前办理人或办公室可以转办。")
        acting.check_transfer_target(locked, to_user)
        if to_user.agency_id is None or (
            to_user.agency_id != process.document.agency_id
            and to_user.agency_id != getattr(actor, "agency_id", None)
        ):
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
            text=reason or f"转{to_user.real_name}办理",
        )
        record(
            "workflows.transferred",
            actor=actor,
            obj=process.document,
            details={"task": locked.pk, "to": to_user.pk},
        )
        push_inbox_changed(before, task_id=locked.pk, action="closed", title=process.document.title)
        push_inbox_changed([to_user.pk], task_id=locked.pk, action="created", title=process.document.title)
    return locked


def party_for(obj: Department | Agency) -> dict[str, Any]:
    if isinstance(obj, Department):
        return {"kind": "department", "id": obj.pk, "label": obj.name}
    return {"kind": "agency", "id": obj.pk, "label": obj.short_name or obj.name}


def add_countersigner(process: OutgoingProcess, *, actor: User, party: dict[str, Any]) -> Task:
    """加签 during 会签: one more parallel task under the same split; the Join waits for it too."""
    with process_lock(process.pk):
        process = OutgoingProcess.objects.select_related("document").get(pk=process.pk)
        if not access.can_manage(actor, process):
            raise FlowError("只有办公室可以加签。")
        split = (
            Task.objects.filter(process=process, flow_task=OutgoingFlow.instance.countersign_split)
            .order_by("-pk")
            .first()
        )
        open_countersigns = Task.objects.filter(
            process=process, flow_task=OutgoingFlow.instance.countersign, status__in=OPEN_STATUSES
        )
        if split is None or not open_countersigns.exists():
            raise FlowError("会签已结束，不能加签。")
        if any(
            p.get("kind") == party["kind"] and p.get("id") == party["id"] for p in process.countersign_parties
        ):
            raise FlowError(f"{party['label']}已在会签范围内。")
        node = OutgoingFlow.instance.countersign
        split_activation = split.flow_task.activation_class(split)
        activation = node.activation_class.create(
            node, split_activation, next_split_token(split), data={"party": party}
        )
        process.countersign_parties = [*process.countersign_parties, party]
        process.save(update_fields=["countersign_parties"])
        record(
            "workflows.countersigner_added", actor=actor, obj=process.document, details={"party": party["id"]}
        )
    return activation.task


def remove_countersigner(task: Task, *, actor: User, reason: str) -> None:
    """减签: drop a 会签 party that has not yet signed, while another 会签 is still open."""
    with process_lock(task.process_id):
        locked, process = _locked_step(task.pk)
        if not access.can_manage(actor, process):
            raise FlowError("只有办公室可以减签。")
        if locked.flow_task.name != "countersign":
            raise FlowError("只能减去会签环节的单位。")
        others = Task.objects.filter(
            process=process,
            flow_task=locked.flow_task,
            status__in=OPEN_STATUSES,
            token__startswith=str(locked.token).rsplit("_", 1)[0],
        ).exclude(pk=locked.pk)
        if not others.exists():
            raise FlowError("这是最后一个未会签的单位，不能减签；如不需要会签，请由办公室重定位流程。")
        people = acting.open_people(locked)
        locked.flow_task.activation_class(locked).cancel()
        party = (locked.data or {}).get("party") or {}
        process.countersign_parties = [p for p in process.countersign_parties if p != party]
        process.save(update_fields=["countersign_parties"])
        _opinion(locked, process, actor=actor, decision=Decision.NOTE, text=f"减签：{reason}")
        record(
            "workflows.countersigner_removed", actor=actor, obj=process.document, details={"task": locked.pk}
        )
        push_inbox_changed(people, task_id=locked.pk, action="closed", title=process.document.title)


def add_signer(process: OutgoingProcess, *, actor: User, signer: User) -> None:
    """加签 at 签发: one more leader at the end of the chain, before the last has signed."""
    with process_lock(process.pk):
        process = OutgoingProcess.objects.select_related("document").get(pk=process.pk)
        if not access.can_manage(actor, process):
            raise FlowError("只有办公室可以调整签发领导。")
        if process.document.state not in (DocumentState.OFFICE_REVIEW, DocumentState.SIGN_OFF):
            raise FlowError("签发已完成，不能再加签。")
        if signer.pk in process.sign_off_chain[process.sign_off_index :]:
            raise FlowError(f"{signer.real_name}已在签发领导中。")
        process.sign_off_chain = [*process.sign_off_chain, signer.pk]
        process.save(update_fields=["sign_off_chain"])
        add_participants(process.document, [signer])
        record("workflows.signer_added", actor=actor, obj=process.document, details={"signer": signer.pk})


def remove_signer(process: OutgoingProcess, *, actor: User, signer: User) -> None:
    """减签 at 签发: drop a leader who has not signed yet and is not signing right now."""
    with process_lock(process.pk):
        process = OutgoingProcess.objects.select_related("document").get(pk=process.pk)
        if not access.can_manage(actor, process):
            raise FlowError("只有办公室可以调整签发领导。")
        pending = process.sign_off_chain[process.sign_off_index :]
        current = pending[0] if process.document.state == DocumentState.SIGN_OFF and pending else None
        if signer.pk not in pending or signer.pk == current:
            raise FlowError("只能减去尚未开始签发的领导。")
        chain = list(process.sign_off_chain)
        chain.reverse()
        chain.remove(signer.pk)
        chain.reverse()
        process.sign_off_chain = chain
        process.save(update_fields=["sign_off_chain"])
        record("workflows.signer_removed", actor=actor, obj=process.document, details={"signer": signer.pk})


# --- the office's management commands --------------------------------------------------------


def force_move(process: OutgoingProcess, *, actor: User, to_step: str, reason: str) -> Task:
    """重定位: the office moves a stuck process to any step (cancelling the open tasks)."""
    if to_step not in STEP_ORDER or to_step == "countersign":
        raise FlowError("请选择要重定位到的环节（会签请重定位到处室审核后重新选择会签单位）。")
    if not reason.strip():
        raise FlowError("重定位必须填写原因。")
    with process_lock(process.pk):
        process = OutgoingProcess.objects.select_related("document").get(pk=process.pk)
        if not access.can_manage(actor, process):
            raise FlowError("只有办公室可以重定位流程。")
        if process.status != PROCESS.NEW:
            raise FlowError("流程已结束，不能重定位。")
        open_tasks = list(
            Task.objects.filter(process=process).exclude(
                status__in=[STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED]
            )
        )
        people: list[int] = []
        for open_task in open_tasks:
            people.extend(acting.open_people(open_task))
            activation = open_task.flow_task.activation_class(open_task)
            if hasattr(activation, "cancel") and activation.cancel.can_proceed():
                activation.cancel()
            else:
                Task.objects.filter(pk=open_task.pk).update(status=STATUS.CANCELED, finished=timezone.now())
        last = Task.objects.filter(process=process, status=STATUS.DONE).order_by("-finished", "-pk").first()
        node = getattr(OutgoingFlow.instance, to_step)
        prev = last.flow_task.activation_class(last)
        from viewflow.workflow.token import Token

        process.route = "next"
        process.countersign_objection = False
        if to_step == "sign_off" and process.sign_off_index >= len(process.sign_off_chain):
            process.sign_off_index = max(len(process.sign_off_chain) - 1, 0)
        process.save()
        activation = node.activation_class.create(node, prev, Token("start"))
        _opinion(
            last,
            process,
            actor=actor,
            decision=Decision.FORCE_MOVE,
            text=f"重定位至{STEP_LABELS[to_step]}：{reason}",
        )
        record(
            "workflows.force_moved",
            actor=actor,
            obj=process.document,
            details={"to": to_step, "cancelled": [t.pk for t in open_tasks]},
        )
        push_inbox_changed(people, task_id=activation.task.pk, action="closed", title=process.document.title)
    return activation.task


def suspend(process: OutgoingProcess, *, actor: User, reason: str) -> None:
    """挂起: nobody can act on the process until the office resumes it."""
    _set_suspended(process, actor=actor, suspended=True, reason=reason)


def resume(process: OutgoingProcess, *, actor: User) -> None:
    _set_suspended(process, actor=actor, suspended=False, reason="")


def _set_suspended(process: OutgoingProcess, *, actor: User, suspended: bool, reason: str) -> None:
    if suspended and not reason.strip():
        raise FlowError("挂起必须填写原因。")
    with process_lock(process.pk):
        process = OutgoingProcess.objects.select_related("document").get(pk=process.pk)
        if not access.can_manage(actor, process):
            raise FlowError("只有办公室可以挂起或恢复流程。")
        if process.status != PROCESS.NEW:
            raise FlowError("流程已结束。")
        if process.suspended == suspended:
            raise FlowError("流程已挂起。" if suspended else "流程未挂起。")
        process.suspended = suspended
        process.save(update_fields=["suspended"])
        record(
            "workflows.suspended" if suspended else "workflows.resumed",
            actor=actor,
            obj=process.document,
            details={"process": process.pk},
        )


def terminate(process: OutgoingProcess, *, actor: User, reason: str) -> None:
    """终止: the office ends the process; the document stays, marked 已终止, read-only."""
    if not reason.strip():
        raise FlowError("终止必须填写原因。")
    process = OutgoingProcess.objects.select_related("document").get(pk=process.pk)
    if not access.can_manage(actor, process):
        raise FlowError("只有办公室可以终止流程。")
    if process.status != PROCESS.NEW:
        raise FlowError("流程已结束。")
    people = [
        uid
        for t in Task.objects.filter(process=process, status__in=OPEN_STATUSES)
        for uid in acting.open_people(t)
    ]
    try:
        OutgoingFlow.instance.cancel(process)
    except FlowLockFailed as exc:
        raise FlowError(LOST_RACE) from exc
    with transaction.atomic():
        set_state(process.document, DocumentState.TERMINATED)
        Opinion.objects.create(
            document=process.document,
            process=process,
            step="terminate",
            step_label="终止",
            author=actor,
            decision=Decision.NOTE,
            text=f"终止：{reason}",
        )
        record("workflows.terminated", actor=actor, obj=process.document, details={"process": process.pk})
        push_inbox_changed(people, task_id=0, action="closed", title=process.document.title)


# --- 常用意见 ------------------------------------------------------------------------------------


def add_common_opinion(*, actor: User, text: str) -> CommonOpinion:
    text = text.strip()
    if not text:
        raise FlowError("请输入常用意见。")
    if len(text) > 200:
        raise FlowError("常用意见不能超过200字。")
    with transaction.atomic():
        position = CommonOpinion.objects.filter(user=actor).count()
        opinion, created = CommonOpinion.objects.get_or_create(
            user=actor, text=text, defaults={"order": position}
        )
        if not created:
            raise FlowError("该常用意见已存在。")
    return opinion


def remove_common_opinion(opinion: CommonOpinion, *, actor: User) -> None:
    if opinion.user_id != actor.pk:
        raise FlowError("只能删除自己的常用意见。")
    opinion.delete()

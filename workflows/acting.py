"""What every human action on a task shares, in any flow (发文, 收文, later 督办).

viewflow's activations check no permission when driven from code: each flow's services check who
may act, then use these. Each action runs under its flow's process row lock
(`select_for_update_lock`) and one transaction; a lost race, viewflow's `FlowLockFailed` and a
re-posted finished task all end in the same clear message, and nothing is done twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from documents.errors import DocumentError
from officeapp.access import active_delegate
from officeapp.audit.services import record
from officeapp.org.models import User
from workflows.live import push_inbox_changed
from workflows.models import Opinion, TaskCandidate

ALREADY_DONE = "该任务已办理，无需重复提交。"
LOST_RACE = "该任务刚刚已由他人办理或正在办理，请刷新页面查看最新状态。"
OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class FlowError(DocumentError):
    """A refused flow action; `message` is shown to the user as is."""


@contextmanager
def process_lock(flow_class: Any, process_id: int) -> Iterator[None]:
    """The flow's row lock and one transaction; contention becomes the lost-race message."""
    try:
        with flow_class.lock(process_id), transaction.atomic():
            yield
    except FlowLockFailed as exc:
        raise FlowError(LOST_RACE) from exc


def locked_task(task_id: int) -> Task:
    """The task, locked, if it is still open; a finished one is the re-post message."""
    task = Task.objects.select_for_update().select_related("process").get(pk=task_id)
    if task.status not in OPEN_STATUSES:
        raise FlowError(ALREADY_DONE)
    return task


def acting_for(task: Task, actor: User, *, scope: str) -> User | None:
    """Whom the actor acts for at this task: None when it is their own; the owner when the actor is
    the owner's current delegate in `scope` (a delegation made after the task was assigned)."""
    if task.owner_id == actor.pk:
        return None
    if task.owner_id is not None:
        owner = task.owner
        if active_delegate(owner, scope=scope) == actor:
            return owner
    raise FlowError("您不是该任务的办理人。")


def open_people(task: Task) -> list[int]:
    """Whose open inbox shows the task: its owner, or every candidate of a group task."""
    if task.owner_id:
        return [task.owner_id]
    return list(TaskCandidate.objects.filter(task=task).values_list("user_id", flat=True))


def claim_locked(task: Task, *, actor: User, event: str) -> bool:
    """抢办 of a locked task: the first candidate owns it; the others see who did. False when the
    actor already owns it (nothing to do); `event` is the flow's audit name."""
    if task.owner_id is not None:
        if task.owner_id == actor.pk:
            return False
        raise FlowError(f"该任务已由{task.owner.real_name}签收办理。")
    if not TaskCandidate.objects.filter(task=task, user=actor).exists():
        raise FlowError("您不是该任务的候选办理人。")
    activation = task.flow_task.activation_class(task)
    activation.assign(actor)
    others = list(
        TaskCandidate.objects.filter(task=task).exclude(user=actor).values_list("user_id", flat=True)
    )
    record(event, actor=actor, obj=task.process, details={"task": task.pk})
    push_inbox_changed(
        others, task_id=task.pk, action="closed", title=str((task.data or {}).get("title", ""))
    )
    return True


def claim_to_finish(task: Task, *, actor: User) -> list[int]:
    """Completing a group task claims it first (or loses the race with a clear message). Returns the
    others whose inbox showed it (candidates, or the owner a delegate acts for) for `finish_task`."""
    if task.owner_id is None:
        candidates = list(TaskCandidate.objects.filter(task=task).values_list("user_id", flat=True))
        if actor.pk not in candidates:
            raise FlowError("您不是该任务的办理人。")
        task.owner = actor
        return candidates
    if task.owner_id != actor.pk:
        return [task.owner_id]
    return []


def check_transfer_target(task: Task, to_user: User) -> None:
    """转办 goes to someone else who is at work."""
    if not to_user.is_active or to_user.pk == task.owner_id:
        raise FlowError("请选择其他在岗人员。")


def store_signature(upload: Any, *, actor: User) -> Any:
    """A handwritten signature (PNG drawn on a phone) is stored before the step's transaction:
    blobs are content-addressed, and one that ends up unused is removed by retention."""
    from officeapp.blobs.checks import UploadRefused, check_upload
    from officeapp.blobs.services import put

    try:
        checked = check_upload(upload, allowed_kinds={"image"}, max_bytes=200_000)
    except UploadRefused as exc:
        raise FlowError(f"签名未保存：{exc}") from exc
    return put(checked.file, actor=actor)


def stored_signature(signature: Any, *, actor: User) -> Any:
    """The step's signature as a stored blob: an upload is stored, a blob or None passes through."""
    if signature is not None and not hasattr(signature, "sha256"):
        return store_signature(signature, actor=actor)
    return signature


def step_label(task: Task) -> str:
    node = task.flow_task
    return str(getattr(node, "task_title", "") or node.name)


def write_opinion(
    task: Task | None,
    process: Process,
    *,
    document: Any,
    actor: User,
    decision: str,
    text: str = "",
    step: str = "",
    label: str = "",
    **kwargs: Any,
) -> Opinion:
    """An opinion (意见 / 批示) signed at a task, or at the process (`step`/`label`) when no task."""
    data = task.data if task is not None and isinstance(task.data, dict) else {}
    party = (data.get("party") or data.get("unit") or {}).get("label", "")
    return Opinion.objects.create(
        document=document,
        process=process,
        task=task,
        step=step or (task.flow_task.name if task is not None else ""),
        step_label=label or (step_label(task) if task is not None else step),
        author=actor,
        decision=decision,
        text=text.strip(),
        party_label=kwargs.pop("party_label", party),
        **kwargs,
    )


def finish_task(task: Task, *, actor: User, title: str, also_tell: list[int] | None = None) -> None:
    """Complete the viewflow task as the actor and let the flow create the next ones. `also_tell`:
    the other people whose inbox showed the task (a group task's candidates, the owner a delegate
    acted for), so it leaves their open inbox too."""
    activation = task.flow_task.activation_class(task)
    if task.status == STATUS.NEW:
        activation.assign(actor)
    if task.owner_id != actor.pk and task.status == STATUS.ASSIGNED:
        # A delegate acts: the task is recorded as theirs, the opinion says 代.
        activation.reassign(actor)
    if activation.task.status == STATUS.ASSIGNED:
        activation.start(None)
    activation.execute()
    push_inbox_changed([actor.pk, *(also_tell or [])], task_id=task.pk, action="closed", title=title)

"""The 收文 panel on the document page: where the 收文 is in its flow, who holds it, what the viewer
may do (their task, 抢办), the opinions with 批示 marked (传阅 has its own panel), the reply 发文 and the
收文处理单. Registered in documents.panels (documents cannot import workflows)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from viewflow.workflow.models import Task

from documents.models import DocumentState
from workflows import access
from workflows.models import IncomingProcess, Opinion

# A 收文 in these states is no longer being handled: it cannot be overdue.
FINISHED_STATES = (
    DocumentState.COMPLETE,
    DocumentState.ARCHIVE,
    DocumentState.ARCHIVED,
    DocumentState.RETURNED,
)


def current_deadline(document: Any) -> Any:
    """办理时限: the one set at 批办/分办, else the one given at 登记."""
    process = getattr(document, "incoming_process", None)
    return (process.deadline if process is not None else None) or document.deadline


def is_overdue(document: Any, deadline: Any) -> bool:
    """Past its 办理时限 and still being handled (not 办结, archived or returned)."""
    from workflows.urging import is_overdue as past_due

    return document.state not in FINISHED_STATES and past_due(deadline)


def open_incoming_tasks(process: IncomingProcess) -> list[Task]:
    return [
        t
        for t in Task.objects.filter(process=process, status__in=access.OPEN, flow_task_type="HUMAN")
        .select_related("owner")
        .order_by("pk")
    ]


def incoming_panel(request: HttpRequest, document: Any) -> str:
    process = IncomingProcess.objects.filter(document=document).first()
    if process is None:
        return ""
    open_tasks = open_incoming_tasks(process)
    mine = [
        t for t in open_tasks if access.can_act_incoming(request.user, t) or access.can_claim(request.user, t)
    ]
    return render_to_string(
        "workflows/incoming/_panel.html",
        {
            "document": document,
            "process": process,
            "open_tasks": open_tasks,
            "my_tasks": mine,
            "can_manage": access.can_manage_incoming(request.user, process),
            "opinions": Opinion.objects.filter(document=document).select_related("author", "on_behalf_of"),
            "replies": document.replies.order_by("pk"),
        },
        request=request,
    )

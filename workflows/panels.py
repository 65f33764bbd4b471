"""The flow's panel on the document page: where the document is, who holds it, the opinions, and
links for what the viewer may do (their task, 撤回, the office's 流程管理)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows import access
from workflows.models import Opinion, OutgoingProcess


def flow_panel(request: HttpRequest, document: Any) -> str:
    process = OutgoingProcess.objects.filter(document=document).first()
    if process is None:
        return ""
    tasks = Task.objects.filter(process=process).exclude(flow_task_type__in=["START", "END"])
    open_tasks = [
        t for t in tasks.filter(status__in=access.OPEN).select_related("owner") if t.flow_task_type == "HUMAN"
    ]
    mine = [t for t in open_tasks if access.can_act(request.user, t) or access.can_claim(request.user, t)]
    withdrawable = (
        tasks.filter(status=STATUS.DONE, owner=request.user, flow_task_type="HUMAN")
        .order_by("-finished")
        .first()
    )
    return render_to_string(
        "workflows/_flow_panel.html",
        {
            "document": document,
            "process": process,
            "open_tasks": open_tasks,
            "my_tasks": mine,
            "last_done": withdrawable,
            "can_manage": access.can_manage(request.user, process),
            "opinions": Opinion.objects.filter(document=document).select_related("author", "on_behalf_of"),
        },
        request=request,
    )

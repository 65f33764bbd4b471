"""Permission-matrix entries for the 发文 pages (workflows/views/tasks.py, documents/views/pages.py).

The shared document (matrix_setup) is a draft of the drafter with its 拟稿 task open: the drafter
holds the task; the 省府办公厅's 文秘 and 办公室主任 see the document (office roles); everyone else
gets the same 404 as for a missing one.
"""

from __future__ import annotations

from typing import Any

SEES_DOCUMENT = {"drafter": 200, "office_secretary": 200, "office_director": 200}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "documents:mine": ("get", {"anonymous": 302, "*": 200}),
    "documents:detail": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    # Everyone with a department may draft; the three administrators sit in 信息中心 too.
    "workflows:new_outgoing": ("get", {"anonymous": 302, "*": 200}),
    "workflows:task": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    # Nobody has finished the draft task: nothing to withdraw (a message, back to the task page).
    "workflows:withdraw": ("post", {"anonymous": 302, "*": 404, **{k: 302 for k in SEES_DOCUMENT}}),
    # The holder or the office may hand a task on.
    "workflows:transfer": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "workflows:manage": (
        "get",
        {"anonymous": 302, "*": 404, "drafter": 403, "office_secretary": 200, "office_director": 200},
    ),
    # An empty form from the office: the page again with its message.
    "workflows:change_signers": (
        "post",
        {"anonymous": 302, "*": 404, "drafter": 403, "office_secretary": 400, "office_director": 400},
    ),
    "workflows:sheet": ("get", {"anonymous": 302, "*": 404, **SEES_DOCUMENT}),
    "workflows:common_opinions": ("get", {"anonymous": 302, "*": 200}),
    # The phrase is the drafter's own: anyone else gets 404.
    "workflows:common_opinion_remove": ("post", {"anonymous": 302, "*": 404, "drafter": 302}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from viewflow.workflow.models import Task

    from workflows.models import CommonOpinion, OutgoingProcess

    process = OutgoingProcess.objects.get(document_id=existing["document_id"])
    task = Task.objects.get(process=process, flow_task_type="HUMAN")
    opinion = CommonOpinion.objects.create(user=cast.drafter, text="同意")
    return {"task_id": task.pk, "process_id": process.pk, "opinion_id": opinion.pk}

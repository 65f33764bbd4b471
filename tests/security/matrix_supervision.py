"""Permission-matrix entries for the 督办 pages (workflows/views/supervision.py).

The item is 省府办公厅's: the 督查员 (supervisor) 立项'd it from 王德明's (leader) 批示, 综合处
(dept_head) leads it, and its 登记编号 task is the supervisor's. Who sees it: the agency's 督查员 and
office (supervisor, office_director, office_secretary), the lead unit's head, and the leader who
instructed it (and 分管 综合处). Everyone else — 综合处's drafter included, who holds no task on it —
gets the same 404 as for a missing item. Reports and 延期申请 are written by a person of a unit
(dept_head); people who see the item but belong to no unit get 403. 立项 is for the 督查员 and the
office (403 for everyone else); the list is everyone's (it shows what they may see).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

SEES = {"supervisor": 200, "office_director": 200, "office_secretary": 200, "dept_head": 200, "leader": 200}
OFFICE = {"supervisor": 200, "office_director": 200, "office_secretary": 200}
UNIT_ONLY = {
    "dept_head": 200,
    "supervisor": 403,
    "office_director": 403,
    "office_secretary": 403,
    "leader": 403,
}

_ALL: dict[str, tuple[str, dict[str, int]]] = {
    "workflows:supervision_list": ("get", {"anonymous": 302, "*": 200}),
    "workflows:supervision_new": ("get", {"anonymous": 302, "*": 403, **OFFICE}),
    "workflows:supervision_item": ("get", {"anonymous": 302, "*": 404, **SEES}),
    "workflows:supervision_notice": ("get", {"anonymous": 302, "*": 404, **SEES}),
    "workflows:supervision_report": ("get", {"anonymous": 302, "*": 404, **UNIT_ONLY}),
    "workflows:supervision_extension": ("get", {"anonymous": 302, "*": 404, **UNIT_ONLY}),
    # The task page opens read-only for whoever sees the item; 转办 for the holder and the office.
    "workflows:supervision_task": ("get", {"anonymous": 302, "*": 404, **SEES}),
    "workflows:supervision_transfer": (
        "get",
        {"anonymous": 302, "*": 404, **OFFICE, "dept_head": 403, "leader": 403},
    ),
    # 审签 by anyone who sees the item: the service decides (refusal → flash and back to the item).
    "workflows:supervision_report_sign_off": (
        "post",
        {"anonymous": 302, "*": 404, **{k: 302 for k in SEES}},
    ),
    # An empty 初审/审批 form re-renders the item page with the form's errors.
    "workflows:supervision_extension_screen": (
        "post",
        {"anonymous": 302, "*": 404, **{k: 400 for k in SEES}},
    ),
    "workflows:supervision_extension_decide": (
        "post",
        {"anonymous": 302, "*": 404, **{k: 400 for k in SEES}},
    ),
}


MATRIX: dict[str, tuple[str, dict[str, int]]] = _ALL


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from viewflow.workflow.models import Task

    from workflows.models import ExtensionRequest, ProgressReport, SupervisionSource
    from workflows.supervision import initiate

    today = timezone.localdate()
    item = initiate(
        actor=cast.supervisor,
        agency=cast.gov_office,
        source=SupervisionSource.INSTRUCTION,
        title="推进政务服务事项“一网通办”",
        instruction="请综合处牵头落实。",
        lead_unit=cast.general_dept,
        co_units=(),
        received_on=today,
        due_on=today + timedelta(days=60),
        leader=cast.leader,
    )
    task = Task.objects.get(process__supervisionprocess__item=item, flow_task_type="HUMAN")
    # A draft report and a 延期申请 as rows: the pages' access is what is checked here.
    report = ProgressReport.objects.create(
        item=item,
        department=cast.general_dept,
        unit_label=cast.general_dept.name,
        text="已部署。",
        percentage=10,
        author=cast.dept_head,
    )
    extension = ExtensionRequest.objects.create(
        item=item,
        requested_by=cast.dept_head,
        reason="系统对接延误。",
        progress="已完成一半。",
        current_due_on=today + timedelta(days=60),
        requested_due_on=today + timedelta(days=90),
    )
    return {
        "item_id": item.pk,
        "supervision_task_id": task.pk,
        "report_id": report.pk,
        "extension_id": extension.pk,
    }

"""Who may open a document at each step of the 发文 flow, and who may act on its task.

One document walks the whole flow; at every step the whole cast is asked. Participants (the drafter,
whoever held or may claim a task), the issuing agency's office roles (文秘, 办公室主任, 印章管理员,
档案员), its 收发员 from 分发 on, and the recipients' 收发员 after 分发 see it — nobody else, and only
the holder may act on the open task.
"""

from __future__ import annotations

from typing import Any

from documents.access import can_view
from tests.documents.factories import make_document
from workflows import access, services
from workflows.services import StepInput, party_for

# Who sees the document once the flow has reached each step (cumulative: participants stay).
OFFICE = {"office_secretary", "office_director", "seal_keeper", "archivist"}
SEES_AT = {
    "draft": {"drafter"} | OFFICE,
    "dept_review": {"drafter", "dept_head"} | OFFICE,
    "countersign": {"drafter", "dept_head", "supervision_head"} | OFFICE,
    "office_review": {"drafter", "dept_head", "supervision_head"} | OFFICE,
    "sign_off": {"drafter", "dept_head", "supervision_head", "leader"} | OFFICE,
    "recheck": {"drafter", "dept_head", "supervision_head", "leader"} | OFFICE,
    "assign_number": {"drafter", "dept_head", "supervision_head", "leader"} | OFFICE,
    "typeset": {"drafter", "dept_head", "supervision_head", "leader"} | OFFICE,
    "seal": {"drafter", "dept_head", "supervision_head", "leader"} | OFFICE,
    "distribute": {"drafter", "dept_head", "supervision_head", "leader", "clerk"} | OFFICE,
    "archive": {"drafter", "dept_head", "supervision_head", "leader", "clerk", "other_clerk"} | OFFICE,
}
HOLDER = {
    "draft": "drafter",
    "dept_review": "dept_head",
    "countersign": "supervision_head",
    "office_review": "office_secretary",
    "sign_off": "leader",
    "recheck": "office_secretary",
    "assign_number": "office_secretary",
    "typeset": "office_secretary",
    "seal": "seal_keeper",
    "distribute": "office_secretary",
    "archive": "archivist",
}


def test_each_step_opens_the_document_to_exactly_the_people_it_should(flow_cast: Any) -> None:
    from viewflow.workflow.models import Task

    from documents.sealing import create_seal

    cast = flow_cast.cast
    people = {
        **cast.users(),
        **{n: getattr(flow_cast, n) for n in ("seal_keeper", "archivist", "supervision_head")},
    }
    create_seal(cast.gov_office, actor=None)
    document = make_document(cast)  # 主送 省财政厅, 抄送 省教育厅
    services.start_outgoing(document, actor=cast.drafter)

    for step in HOLDER:
        task = Task.objects.get(process__outgoingprocess__document=document, status__in=["NEW", "ASSIGNED"])
        assert task.flow_task.name == step
        seen = {name for name, user in people.items() if can_view(user, document)}
        assert seen == SEES_AT[step], step
        acting = {name for name, user in people.items() if access.can_act(user, task)}
        assert acting == {HOLDER[step]}, step

        holder = people[HOLDER[step]]
        step_input = StepInput(opinion="同意")
        if step == "draft":
            step_input.countersign_parties = [party_for(cast.supervision_dept)]
        if step == "typeset":
            services.typeset_render(task, actor=holder)
        if step == "archive":
            step_input.retention = "30y"
        services.complete_step(task, actor=holder, step_input=step_input)

    # Archived: the recipients' clerk of 省教育厅 was never given a clerk in the cast; the outsider and
    # the 督查员 never see it.
    assert not can_view(cast.outsider, document)
    assert not can_view(cast.supervisor, document)
    assert can_view(cast.other_clerk, document)

"""The 发文 flow driven through its services, as the people of the cast act on it."""

from __future__ import annotations

from typing import Any

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import DocumentState
from tests.documents.factories import make_document
from workflows import services
from workflows.inbox import item_for_task
from workflows.models import Decision, Opinion, TaskCandidate
from workflows.services import FlowError, StepInput, party_for


def open_task(document: Any, step: str) -> Task:
    return Task.objects.get(
        process__outgoingprocess__document=document,
        flow_task__endswith=f".{step}",
        status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    )


def open_tasks(document: Any, step: str) -> list[Task]:
    return list(
        Task.objects.filter(
            process__outgoingprocess__document=document,
            flow_task__endswith=f".{step}",
            status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
        ).order_by("pk")
    )


def agree(task: Any, who: Any, **kwargs: Any) -> Opinion:
    return services.complete_step(task, actor=who, step_input=StepInput(opinion="同意", **kwargs))


def started(flow_cast: Any) -> Any:
    cast = flow_cast.cast
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    return document


def test_the_drafter_gets_the_draft_task_when_the_flow_starts(flow_cast: Any) -> None:
    document = started(flow_cast)

    task = open_task(document, "draft")
    assert task.owner == flow_cast.cast.drafter
    assert task.data["title"] == document.title
    assert task.status == STATUS.ASSIGNED
    # Her inbox links the task's page (formatted from the id: the task was inserted assigned).
    assert item_for_task(task).url == f"/workflows/tasks/{task.pk}/"
    document.refresh_from_db()
    assert document.state == DocumentState.DRAFT


def test_parallel_countersign_waits_for_every_party_then_reaches_the_office(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    parties = [party_for(cast.supervision_dept), party_for(cast.secretariat), party_for(cast.finance)]
    agree(open_task(document, "draft"), cast.drafter, countersign_parties=parties)
    agree(open_task(document, "dept_review"), cast.dept_head)

    countersigns = open_tasks(document, "countersign")
    assert sorted(t.owner.username for t in countersigns) == [
        "finance_director",
        "secretariat_head",
        "supervision_head",
    ]
    document.refresh_from_db()
    assert document.state == DocumentState.COUNTERSIGN

    by_owner = {t.owner.username: t for t in countersigns}
    agree(by_owner["supervision_head"], flow_cast.supervision_head)
    agree(by_owner["finance_director"], flow_cast.finance_director)
    assert open_tasks(document, "office_review") == []

    agree(by_owner["secretariat_head"], flow_cast.secretariat_head)

    office = open_task(document, "office_review")
    assert office.owner == cast.office_secretary
    labels = sorted(
        Opinion.objects.filter(document=document, step="countersign").values_list("party_label", flat=True)
    )
    assert labels == sorted(["秘书处", "督查室", "省财政厅"])


def test_a_countersign_disagreement_returns_the_document_to_the_drafter(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter, countersign_parties=[party_for(cast.supervision_dept)])
    agree(open_task(document, "dept_review"), cast.dept_head)

    services.complete_step(
        open_task(document, "countersign"),
        actor=flow_cast.supervision_head,
        step_input=StepInput(decision=Decision.DISAGREE, opinion="第二条与督查规定不一致"),
    )

    assert open_task(document, "draft").owner == cast.drafter


def test_returning_needs_a_reason_and_goes_to_the_chosen_step(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    review = open_task(document, "dept_review")

    with pytest.raises(FlowError, match="退回原因"):
        services.complete_step(
            review, actor=cast.dept_head, step_input=StepInput(decision=Decision.RETURN, return_to="draft")
        )
    services.complete_step(
        review,
        actor=cast.dept_head,
        step_input=StepInput(decision=Decision.RETURN, return_to="draft", opinion="请补充依据"),
    )

    assert open_task(document, "draft").owner == cast.drafter
    assert Opinion.objects.get(document=document, step="dept_review").return_to == "draft"


def test_a_finished_task_posted_again_is_refused_and_creates_nothing(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    draft = open_task(document, "draft")
    agree(draft, cast.drafter)
    tasks_before = Task.objects.count()

    with pytest.raises(FlowError, match="该任务已办理"):
        agree(draft, cast.drafter)

    assert Task.objects.count() == tasks_before


def test_someone_else_cannot_complete_a_task(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)

    with pytest.raises(FlowError, match="不是该任务的办理人"):
        agree(open_task(document, "draft"), cast.outsider)


def test_the_drafter_withdraws_before_the_head_has_acted(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    draft = open_task(document, "draft")
    agree(draft, cast.drafter)

    revived = services.withdraw(draft, actor=cast.drafter)

    assert revived.owner == cast.drafter
    assert open_tasks(document, "dept_review") == []
    assert open_task(document, "draft").pk == revived.pk


def test_withdrawing_after_the_next_person_signed_is_refused(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    draft = open_task(document, "draft")
    agree(draft, cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)

    with pytest.raises(FlowError, match="不能撤回"):
        services.withdraw(draft, actor=cast.drafter)


def test_a_group_task_goes_to_the_first_claimer(flow_cast: Any) -> None:
    cast = flow_cast.cast
    from officeapp.org import services as org
    from officeapp.org.models import Role

    org.grant_role(
        actor=None, user=flow_cast.secretariat_head, role=Role.DEPT_HEAD, department=cast.general_dept
    )
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    review = open_task(document, "dept_review")
    assert review.owner is None
    assert set(TaskCandidate.objects.filter(task=review).values_list("user__username", flat=True)) == {
        "dept_head",
        "secretariat_head",
    }

    services.claim(review, actor=cast.dept_head)

    with pytest.raises(FlowError, match="陈志强"):
        services.claim(review, actor=flow_cast.secretariat_head)


def test_adding_and_removing_countersigners_while_countersign_runs(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter, countersign_parties=[party_for(cast.supervision_dept)])
    agree(open_task(document, "dept_review"), cast.dept_head)
    process = document.outgoing_process

    services.add_countersigner(process, actor=cast.office_director, party=party_for(cast.secretariat))
    services.add_countersigner(process, actor=cast.office_director, party=party_for(cast.finance))
    assert len(open_tasks(document, "countersign")) == 3

    finance_task = next(
        t for t in open_tasks(document, "countersign") if t.owner == flow_cast.finance_director
    )
    services.remove_countersigner(finance_task, actor=cast.office_director, reason="不涉及财政")
    for task in open_tasks(document, "countersign"):
        agree(task, task.owner)

    assert open_task(document, "office_review")


def test_sign_off_follows_the_chain_and_sets_signer_and_date(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)
    agree(open_task(document, "office_review"), cast.office_secretary)

    sign = open_task(document, "sign_off")
    assert sign.owner == cast.leader
    agree(sign, cast.leader)

    document.refresh_from_db()
    assert document.signer_names == "王德明"
    assert document.issued_on is not None
    assert document.signed_version_id == document.current_version_id
    assert open_task(document, "recheck").owner == cast.office_secretary


def test_a_delegate_acts_for_the_leader_and_the_opinion_says_so(flow_cast: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from officeapp.org.models import Delegation, DelegationScope

    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)
    agree(open_task(document, "office_review"), cast.office_secretary)
    now = timezone.now()
    Delegation.objects.create(
        from_user=cast.leader,
        to_user=cast.office_director,
        starts_at=now,
        ends_at=now + timedelta(days=2),
        scope=DelegationScope.OUTGOING,
        reason="出差",
    )

    opinion = agree(open_task(document, "sign_off"), cast.office_director)

    assert opinion.on_behalf_of == cast.leader
    assert opinion.author == cast.office_director


def test_the_office_force_moves_suspends_and_terminates(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    process = document.outgoing_process

    with pytest.raises(FlowError, match="只有办公室"):
        services.force_move(process, actor=cast.drafter, to_step="office_review", reason="急件")
    services.force_move(process, actor=cast.office_director, to_step="office_review", reason="急件直接审核")
    assert open_tasks(document, "draft") == []
    assert open_task(document, "office_review").owner == cast.office_secretary

    services.suspend(process, actor=cast.office_director, reason="等待政策出台")
    with pytest.raises(FlowError, match="挂起"):
        agree(open_task(document, "office_review"), cast.office_secretary)
    services.resume(process, actor=cast.office_director)

    services.terminate(process, actor=cast.office_director, reason="不再发文")
    document.refresh_from_db()
    assert document.state == DocumentState.TERMINATED
    assert open_tasks(document, "office_review") == []


def test_the_whole_flow_from_draft_to_archive_with_three_countersigns(flow_cast: Any) -> None:
    """拟稿 → 处室审核 → 会签 ×3 → 办公室审核 → 签发 → 复核 → 编号 → 排版 → 用印 → 分发 → 归档,
    with the real numbering, GB/T 9704 rendering through LibreOffice, seal and exchange."""
    from documents.archiving import archive_package
    from documents.models import ExchangeRecord, Rendering, RenderKind, RenderStatus
    from documents.sealing import create_seal, verify_document

    cast = flow_cast.cast
    create_seal(cast.gov_office, actor=cast.office_director)
    document = started(flow_cast)
    parties = [party_for(cast.supervision_dept), party_for(cast.secretariat), party_for(cast.finance)]

    agree(open_task(document, "draft"), cast.drafter, countersign_parties=parties)
    agree(open_task(document, "dept_review"), cast.dept_head)
    for task in open_tasks(document, "countersign"):
        agree(task, task.owner)
    agree(open_task(document, "office_review"), cast.office_secretary)
    agree(open_task(document, "sign_off"), cast.leader)
    agree(open_task(document, "recheck"), cast.office_secretary)
    agree(open_task(document, "assign_number"), cast.office_secretary)
    typeset = open_task(document, "typeset")
    services.typeset_render(typeset, actor=cast.office_secretary)
    agree(typeset, cast.office_secretary)
    agree(open_task(document, "seal"), flow_cast.seal_keeper)
    agree(open_task(document, "distribute"), cast.office_secretary)
    agree(open_task(document, "archive"), flow_cast.archivist, retention="permanent")

    document.refresh_from_db()
    assert document.state == DocumentState.ARCHIVED
    assert document.doc_number.startswith("粤府办〔") and document.doc_number.endswith("〕1号")
    assert Rendering.objects.filter(
        document=document, kind=RenderKind.SEALED_PDF, status=RenderStatus.READY
    ).exists()
    assert all(v.valid for v in verify_document(document))
    assert set(
        ExchangeRecord.objects.filter(document=document).values_list("recipient__short_name", flat=True)
    ) == {
        "省财政厅",
        "省教育厅",
    }
    assert document.outgoing_process.status == "DONE"
    package = archive_package(document)
    assert package[:2] == b"PK"


def _to_recheck(flow_cast: Any) -> Any:
    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)
    agree(open_task(document, "office_review"), cast.office_secretary)
    agree(open_task(document, "sign_off"), cast.leader)
    return document


def test_a_substantive_change_at_recheck_goes_back_to_the_signer(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = _to_recheck(flow_cast)
    recheck = open_task(document, "recheck")
    document.refresh_from_db()
    body = [dict(b) for b in document.current_version.body]
    body[0]["text"] = "为切实做好今年汛期防汛防台风工作，各地须于7月1日前完成全部隐患排查。"
    services.edit_body(
        recheck, actor=cast.office_secretary, body=body, based_on=document.current_version.number
    )

    agree(recheck, cast.office_secretary)

    assert open_task(document, "sign_off").owner == cast.leader


def test_a_punctuation_fix_at_recheck_goes_on_to_numbering(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = _to_recheck(flow_cast)
    recheck = open_task(document, "recheck")
    document.refresh_from_db()
    body = [dict(b) for b in document.current_version.body]
    body[0]["text"] = body[0]["text"].replace("。", "；", 1)
    services.edit_body(
        recheck, actor=cast.office_secretary, body=body, based_on=document.current_version.number
    )

    agree(recheck, cast.office_secretary)

    assert open_tasks(document, "sign_off") == []
    assert open_task(document, "assign_number")


def test_the_text_cannot_change_at_sign_off_or_after_recheck(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)
    agree(open_task(document, "office_review"), cast.office_secretary)
    sign = open_task(document, "sign_off")

    with pytest.raises(FlowError, match="复核"):
        services.edit_body(sign, actor=cast.leader, body=[{"kind": "p", "text": "领导直接改"}], based_on=1)


def test_a_joint_notice_is_signed_by_each_agencys_leader_and_sealed_by_each(flow_cast: Any) -> None:
    """联合发文 with 省财政厅: both leaders sign in turn, both seal keepers seal, and the one sealed
    PDF carries a valid signature of each agency."""
    from documents.models import SealApplication
    from documents.sealing import create_seal, verify_document
    from officeapp.org import services as org
    from officeapp.org.models import Role
    from tests.conftest import CAST_PASSWORD

    cast = flow_cast.cast

    def person(username: str, name: str, role: str) -> Any:
        user = org.create_user(
            actor=None,
            username=username,
            real_name=name,
            department=cast.finance_office,
            password=CAST_PASSWORD,
        )
        org.grant_role(actor=None, user=user, role=role, agency=cast.finance)
        return user

    finance_leader = person("finance_leader", "钱厅长", Role.LEADER)
    finance_seal_keeper = person("finance_seal_keeper", "孙印章", Role.SEAL_KEEPER)
    create_seal(cast.gov_office, actor=None)
    create_seal(cast.finance, actor=None)
    document = make_document(cast, co_issuers=[cast.finance], title="关于联合开展财政资金专项检查的通知")
    services.start_outgoing(document, actor=cast.drafter)

    agree(open_task(document, "draft"), cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)
    agree(open_task(document, "office_review"), cast.office_secretary)
    agree(open_task(document, "sign_off"), cast.leader)
    agree(open_task(document, "sign_off"), finance_leader)
    agree(open_task(document, "recheck"), cast.office_secretary)
    agree(open_task(document, "assign_number"), cast.office_secretary)
    typeset = open_task(document, "typeset")
    services.typeset_render(typeset, actor=cast.office_secretary)
    agree(typeset, cast.office_secretary)
    agree(open_task(document, "seal"), flow_cast.seal_keeper)
    assert open_task(document, "seal").owner == finance_seal_keeper
    agree(open_task(document, "seal"), finance_seal_keeper)

    document.refresh_from_db()
    assert document.signer_names == "王德明、钱厅长"
    assert SealApplication.objects.filter(document=document).count() == 2
    verifications = verify_document(document)
    assert len(verifications) == 2 and all(v.valid for v in verifications)
    assert open_task(document, "distribute")


def test_a_joint_notice_without_the_co_issuers_leader_is_refused_at_office_review(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = make_document(cast, co_issuers=[cast.finance])
    services.start_outgoing(document, actor=cast.drafter)
    agree(open_task(document, "draft"), cast.drafter)
    agree(open_task(document, "dept_review"), cast.dept_head)

    with pytest.raises(FlowError, match="省财政厅的领导"):
        agree(open_task(document, "office_review"), cast.office_secretary)

    assert open_task(document, "office_review")


def test_completing_a_group_task_takes_it_out_of_every_candidates_open_inbox(flow_cast: Any) -> None:
    from unittest import mock

    from officeapp.org import services as org
    from officeapp.org.models import Role

    cast = flow_cast.cast
    org.grant_role(
        actor=None, user=flow_cast.secretariat_head, role=Role.DEPT_HEAD, department=cast.general_dept
    )
    document = started(flow_cast)
    agree(open_task(document, "draft"), cast.drafter)
    review = open_task(document, "dept_review")

    with mock.patch("workflows.acting.push_inbox_changed") as pushed:
        agree(review, cast.dept_head)

    closed = [c for c in pushed.call_args_list if c.kwargs["action"] == "closed"]
    assert set(closed[-1].args[0]) == {cast.dept_head.pk, flow_cast.secretariat_head.pk}

"""Completing tasks at the same moment: one wins, the other is told so, and nothing is done twice.

Threads on PostgreSQL, where the flow's process lock (SELECT … FOR UPDATE NOWAIT, retried) and the
task's row lock are real; SQLite serialises the whole database and cannot race.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.audit.models import AuditEvent
from tests.documents.factories import make_document
from tests.workflows.threads import at_once
from workflows import services
from workflows.models import Opinion
from workflows.services import ALREADY_DONE, LOST_RACE, FlowError, StepInput, party_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"),
]

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def open_tasks(document: Any, step: str) -> list[Task]:
    return list(
        Task.objects.filter(
            process__outgoingprocess__document=document, flow_task__endswith=f".{step}", status__in=OPEN
        ).order_by("pk")
    )


def agree(task: Task, who: Any, **kwargs: Any) -> None:
    services.complete_step(task, actor=who, step_input=StepInput(opinion="同意", **kwargs))


def completions_of(task: Task) -> int:
    return AuditEvent.objects.filter(action="workflows.step_completed", details__task=task.pk).count()


@pytest.mark.django_db(transaction=True)
def test_the_same_person_submitting_a_task_twice_at_once_completes_it_once(flow_cast: Any) -> None:
    cast = flow_cast.cast
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    [draft] = open_tasks(document, "draft")

    outcomes = at_once([lambda: agree(draft, cast.drafter), lambda: agree(draft, cast.drafter)])

    assert outcomes.count("ok") == 1
    assert [o for o in outcomes if o != "ok"][0] in (LOST_RACE, ALREADY_DONE)
    assert len(open_tasks(document, "dept_review")) == 1
    assert Opinion.objects.filter(document=document, step="draft").count() == 1
    assert completions_of(draft) == 1


@pytest.mark.django_db(transaction=True)
def test_two_heads_completing_one_group_task_at_once_one_wins_and_the_other_is_told(flow_cast: Any) -> None:
    from officeapp.org import services as org
    from officeapp.org.models import Role

    cast = flow_cast.cast
    org.grant_role(
        actor=None, user=flow_cast.secretariat_head, role=Role.DEPT_HEAD, department=cast.general_dept
    )
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    agree(open_tasks(document, "draft")[0], cast.drafter)
    [review] = open_tasks(document, "dept_review")
    assert review.owner_id is None  # 或签: both heads are candidates

    outcomes = at_once(
        [lambda: agree(review, cast.dept_head), lambda: agree(review, flow_cast.secretariat_head)]
    )

    assert outcomes.count("ok") == 1
    assert [o for o in outcomes if o != "ok"][0] in (LOST_RACE, ALREADY_DONE)
    assert len(open_tasks(document, "office_review")) == 1
    assert Opinion.objects.filter(document=document, step="dept_review").count() == 1
    assert completions_of(review) == 1
    review.refresh_from_db()
    winner = cast.dept_head if outcomes[0] == "ok" else flow_cast.secretariat_head
    assert review.status == STATUS.DONE and review.owner_id == winner.pk


@pytest.mark.django_db(transaction=True)
def test_three_countersigns_completed_at_once_pass_the_join_exactly_once(
    flow_cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cast = flow_cast.cast
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    parties = [party_for(cast.supervision_dept), party_for(cast.secretariat), party_for(cast.finance)]
    agree(open_tasks(document, "draft")[0], cast.drafter, countersign_parties=parties)
    agree(open_tasks(document, "dept_review")[0], cast.dept_head)
    countersigns = open_tasks(document, "countersign")
    owners = {t.pk: t.owner for t in countersigns}
    assert len(countersigns) == 3

    # Widen the race: each completion lingers before viewflow moves the token on to the Join, so
    # without the process lock all three would be inside together and each would see the other
    # branches unfinished. With it they queue (NOWAIT, retried with back-off) and pass one by one.
    finish = services._finish

    def slow_finish(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.3)
        finish(*args, **kwargs)

    monkeypatch.setattr(services, "_finish", slow_finish)
    outcomes = at_once([lambda t=t: agree(t, owners[t.pk]) for t in countersigns])

    assert outcomes == ["ok", "ok", "ok"]
    assert len(open_tasks(document, "office_review")) == 1
    joins = Task.objects.filter(
        process__outgoingprocess__document=document, flow_task__endswith=".countersign_join"
    )
    assert joins.count() == 1 and joins.get().status == STATUS.DONE
    assert Opinion.objects.filter(document=document, step="countersign").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_process_locked_by_someone_else_gives_the_lost_race_message_and_changes_nothing(
    flow_cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import transaction
    from viewflow.workflow.lock import SelectForUpdateLock

    from workflows.flows import OutgoingFlow
    from workflows.models import OutgoingProcess

    cast = flow_cast.cast
    document = make_document(cast)
    process = services.start_outgoing(document, actor=cast.drafter)
    [draft] = open_tasks(document, "draft")
    # One attempt instead of five with back-off: the same failure, without waiting seconds for it.
    monkeypatch.setattr(OutgoingFlow, "lock_impl", SelectForUpdateLock(nowait=True, attempts=1))
    locked, release = threading.Event(), threading.Event()

    def hold_the_process() -> None:
        try:
            with transaction.atomic():
                OutgoingProcess.objects.select_for_update().get(pk=process.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_process)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with pytest.raises(FlowError) as refused:
            agree(draft, cast.drafter)
    finally:
        release.set()
        holder.join()

    assert refused.value.message == LOST_RACE
    draft.refresh_from_db()
    assert draft.status == STATUS.ASSIGNED
    assert open_tasks(document, "dept_review") == []
    assert not Opinion.objects.filter(document=document).exists()
    agree(draft, cast.drafter)  # once the other holder is done, the step goes through
    assert len(open_tasks(document, "dept_review")) == 1

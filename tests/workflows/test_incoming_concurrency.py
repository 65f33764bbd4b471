"""收文 actions at the same moment: one wins, the other is told so, nothing is done twice; parallel
承办 by two units joins exactly once; 收文号 stay gap-free when many are registered at once.

Threads on PostgreSQL, where the flow's process lock and the rows' locks are real (SQLite serialises
the whole database and cannot race).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.audit.models import AuditEvent
from tests.workflows.test_incoming_flow import (
    act,
    handle_tasks,
    open_tasks,
    signed,
    to_handle,
)
from tests.workflows.threads import at_once
from workflows import acting
from workflows.acting import ALREADY_DONE, LOST_RACE
from workflows.incoming import claim_incoming
from workflows.models import Opinion

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"),
]


@pytest.mark.django_db(transaction=True)
def test_the_same_clerk_registering_twice_at_once_registers_once_with_one_number(receiving: Any) -> None:
    document = signed(receiving)
    [task] = open_tasks(document, "register")

    outcomes = at_once([lambda: act(task, receiving.clerk), lambda: act(task, receiving.clerk)])

    assert outcomes.count("ok") == 1
    assert [o for o in outcomes if o != "ok"][0] in (ALREADY_DONE, LOST_RACE)
    assert len(open_tasks(document, "screen")) == 1
    assert (
        AuditEvent.objects.filter(action="workflows.incoming_step_completed", details__task=task.pk).count()
        == 1
    )
    document.incoming.refresh_from_db()
    assert document.incoming.number == f"粤财收〔{timezone.localdate().year}〕1号"


@pytest.mark.django_db(transaction=True)
def test_two_heads_claiming_a_units_task_at_once_one_owns_it(receiving: Any) -> None:
    from officeapp.org.models import Role
    from officeapp.org.services import grant_role

    second_head = receiving.budget_staff
    grant_role(actor=None, user=second_head, role=Role.DEPT_HEAD, department=receiving.budget)
    document = to_handle(receiving)
    task = handle_tasks(document)["预算处"]
    assert task.owner is None

    outcomes = at_once(
        [
            lambda: claim_incoming(task, actor=receiving.budget_head),
            lambda: claim_incoming(task, actor=second_head),
        ]
    )

    task.refresh_from_db()
    assert outcomes.count("ok") == 1
    loser = [o for o in outcomes if o != "ok"][0]
    assert loser in (LOST_RACE, f"该任务已由{task.owner.real_name}签收办理。")
    assert task.owner in (receiving.budget_head, second_head)


@pytest.mark.django_db(transaction=True)
def test_two_heads_completing_the_same_group_task_at_once_complete_it_once(receiving: Any) -> None:
    from officeapp.org.models import Role
    from officeapp.org.services import grant_role

    second_head = receiving.budget_staff
    grant_role(actor=None, user=second_head, role=Role.DEPT_HEAD, department=receiving.budget)
    document = to_handle(receiving)
    task = handle_tasks(document)["预算处"]

    outcomes = at_once(
        [
            lambda: act(task, receiving.budget_head, result="预算处处长办理。"),
            lambda: act(task, second_head, result="预算处另一负责人办理。"),
        ]
    )

    assert outcomes.count("ok") == 1
    assert [o for o in outcomes if o != "ok"][0] in (ALREADY_DONE, LOST_RACE)
    assert Opinion.objects.filter(document=document, step="handle").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_units_finishing_at_once_pass_the_join_exactly_once(
    receiving: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = to_handle(receiving)
    tasks = handle_tasks(document)
    # Widen the race: each completion lingers before the token moves on to the Join. With the
    # process lock they queue (NOWAIT, retried with back-off) and pass one by one.
    finish = acting.finish_task

    def slow_finish(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.3)
        finish(*args, **kwargs)

    monkeypatch.setattr(acting, "finish_task", slow_finish)
    outcomes = at_once(
        [
            lambda: act(tasks["预算处"], receiving.budget_head, result="预算处已办理。"),
            lambda: act(tasks["国库处"], receiving.treasury_head, result="国库处已配合。"),
        ]
    )

    assert outcomes == ["ok", "ok"]
    assert len(open_tasks(document, "reply")) == 1
    joins = Task.objects.filter(
        process__incomingprocess__document=document, flow_task__endswith=".handle_join"
    )
    assert joins.count() == 1 and joins.get().status == STATUS.DONE


@pytest.mark.django_db(transaction=True)
def test_registrations_at_once_take_consecutive_numbers_without_gaps(receiving: Any) -> None:
    documents = [signed(receiving, number=f"粤府办〔2026〕{n}号") for n in range(1, 5)]
    tasks = [open_tasks(d, "register")[0] for d in documents]

    outcomes = at_once([lambda t=t: act(t, receiving.clerk) for t in tasks])

    assert outcomes == ["ok"] * 4
    year = timezone.localdate().year
    numbers = set()
    for document in documents:
        document.incoming.refresh_from_db()
        numbers.add(document.incoming.number)
    assert numbers == {f"粤财收〔{year}〕{n}号" for n in range(1, 5)}

"""A 发文 task meant for someone away goes to their delegate (委托), read with the candidates.

The candidates and their current delegates are loaded in one query (officeapp.access.with_delegates);
these tests pin the rule it shares with `active_delegate`: a 发文 delegation wins over an 'all' one,
the latest wins among equals, and a revoked, expired, future or inactive delegate is not used.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.access import active_delegate, effective_assignees, with_delegates
from officeapp.org.models import Delegation, DelegationScope, User
from tests.documents.factories import make_document
from workflows import services
from workflows.services import StepInput


def _delegate(from_user: Any, to_user: Any, *, scope: str, hours_ago: int = 1, **kwargs: Any) -> Delegation:
    now = timezone.now()
    fields: dict[str, Any] = {
        "starts_at": now - timedelta(hours=hours_ago),
        "ends_at": now + timedelta(days=2),
        "reason": "出差",
    }
    fields.update(kwargs)
    return Delegation.objects.create(from_user=from_user, to_user=to_user, scope=scope, **fields)


def _sign_off_task(flow_cast: Any) -> Task:
    cast = flow_cast.cast
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    for step, who in (
        ("draft", cast.drafter),
        ("dept_review", cast.dept_head),
        ("office_review", cast.office_secretary),
    ):
        task = Task.objects.get(
            process__outgoingprocess__document=document,
            flow_task__endswith=f".{step}",
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
        )
        services.complete_step(task, actor=who, step_input=StepInput(opinion="同意"))
    return Task.objects.get(
        process__outgoingprocess__document=document, flow_task__endswith=".sign_off", status=STATUS.ASSIGNED
    )


def test_a_leader_away_on_business_has_the_sign_off_task_go_to_the_delegate(flow_cast: Any) -> None:
    cast = flow_cast.cast
    _delegate(cast.leader, cast.office_director, scope=DelegationScope.OUTGOING)

    task = _sign_off_task(flow_cast)

    assert task.owner == cast.office_director
    assert cast.office_director.pk in set(
        task.process.outgoingprocess.document.participants.values_list("user_id", flat=True)
    )


def test_a_delegation_for_outgoing_documents_wins_over_a_newer_one_for_everything(flow_cast: Any) -> None:
    cast = flow_cast.cast
    _delegate(cast.leader, cast.office_director, scope=DelegationScope.OUTGOING, hours_ago=5)
    _delegate(cast.leader, cast.office_secretary, scope=DelegationScope.ALL, hours_ago=1)

    assert _sign_off_task(flow_cast).owner == cast.office_director


def test_revoked_expired_future_and_inactive_delegates_are_not_used(flow_cast: Any) -> None:
    cast = flow_cast.cast
    now = timezone.now()
    _delegate(cast.leader, cast.office_director, scope=DelegationScope.OUTGOING, revoked_at=now)
    _delegate(
        cast.leader,
        cast.office_director,
        scope=DelegationScope.OUTGOING,
        ends_at=now - timedelta(minutes=1),
        hours_ago=9,
    )
    _delegate(
        cast.leader, cast.office_director, scope=DelegationScope.OUTGOING, starts_at=now + timedelta(hours=1)
    )
    cast.outsider.is_active = False
    cast.outsider.save(update_fields=["is_active"])
    _delegate(cast.leader, cast.outsider, scope=DelegationScope.ALL)

    assert _sign_off_task(flow_cast).owner == cast.leader


def test_candidates_read_with_their_delegates_get_the_same_answer_as_the_separate_query(
    flow_cast: Any,
) -> None:
    cast = flow_cast.cast
    _delegate(cast.leader, cast.office_director, scope=DelegationScope.ALL, hours_ago=3)
    _delegate(cast.leader, cast.office_secretary, scope=DelegationScope.ALL, hours_ago=1)
    _delegate(cast.dept_head, cast.drafter, scope=DelegationScope.INCOMING)
    users = User.objects.filter(pk__in=[cast.leader.pk, cast.dept_head.pk, cast.office_director.pk]).order_by(
        "pk"
    )

    for scope in (DelegationScope.OUTGOING, DelegationScope.INCOMING):
        together = effective_assignees(with_delegates(users, scope=scope), scope=scope)
        apart = effective_assignees(list(users), scope=scope)
        assert together == apart
        assert active_delegate(cast.leader, scope=scope) == cast.office_secretary
        assert cast.office_secretary in together and cast.leader not in together
    # A dept head delegating 收文 only still gets 发文 tasks; the 收文 ones go to the drafter.
    assert cast.dept_head in effective_assignees(
        with_delegates(users, scope=DelegationScope.OUTGOING), scope=DelegationScope.OUTGOING
    )
    assert cast.drafter in effective_assignees(
        with_delegates(users, scope=DelegationScope.INCOMING), scope=DelegationScope.INCOMING
    )

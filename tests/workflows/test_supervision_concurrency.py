"""督办 actions at the same moment, on PostgreSQL where row locks are real (SQLite serialises the
whole database and cannot race).

The issue's case: a 督查员's 审核 and a late report arriving at once — the result is consistent and
nothing is lost: either the report lands before the 审核 and is part of the reviewed record (its
state 已审核), or it is refused with a clear message because the item moved on (still 待审签, the
unit can see it was not sent). Never a report 已报送 on an item past 审核. Also: 督办编号 stay
gap-free when many items are registered at once, and two 延期申请 at once make one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from officeapp.audit.models import AuditEvent
from tests.workflows.test_supervision_flow import (
    act,
    complete_by_report,
    fresh,
    new_item,
    open_tasks,
    to_handle,
    today,
)
from tests.workflows.threads import at_once
from workflows.acting import ALREADY_DONE, LOST_RACE
from workflows.models import ExtensionRequest, ItemState, ProgressReport, ReportState, SupervisionItem
from workflows.supervision import (
    BUSY,
    SupervisionStepInput,
    complete_supervision_step,
    request_extension,
    sign_off_report,
    write_report,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"),
]

# What a refused late report may say: the item moved on, or it was busy a moment too long.
MOVED_ON = ("该督办事项已审核办结，正在报送领导审阅，不能再报送反馈。", BUSY)


def under_review(s: Any, title: str) -> SupervisionItem:
    item = new_item(s, title=title)
    to_handle(s, item)
    complete_by_report(s, item)
    assert fresh(item).state == ItemState.REVIEW
    return item


def assert_consistent(item: SupervisionItem, report_outcome: str, report: ProgressReport | None) -> None:
    item = fresh(item)
    assert item.state == ItemState.LEADER_REVIEW
    reviewed = AuditEvent.objects.get(
        action="workflows.supervision_step_completed", object_id=str(item.pk), details__step="review"
    ).details["reports"]
    if report_outcome == "ok":
        assert report is not None
        report.refresh_from_db()
        # Landed first: part of what the 督查员 reviewed.
        assert report.state == ReportState.ACCEPTED
        assert report.pk in reviewed
    else:
        assert report_outcome in MOVED_ON
        if report is not None:
            report.refresh_from_db()
            assert report.state == ReportState.DRAFT
            assert report.pk not in reviewed
    # Nothing 已报送 is left behind on an item past 审核.
    assert not ProgressReport.objects.filter(item=item, state=ReportState.SUBMITTED).exists()


@pytest.mark.django_db(transaction=True)
def test_review_and_a_late_sign_off_at_once_end_consistent(supervision: Any) -> None:
    s = supervision
    for round_ in range(4):
        item = under_review(s, f"审核与审签同时{round_}")
        late = write_report(item, actor=s.general_staff, text="补报进展", percentage=100)
        calls = [
            lambda item=item: act(item, "review", s.supervisor),
            lambda late=late: sign_off_report(late, actor=s.dept_head),
        ]
        if round_ % 2:
            calls.reverse()

        outcomes = at_once(calls)
        if round_ % 2:
            outcomes.reverse()

        assert outcomes[0] == "ok"
        assert_consistent(item, outcomes[1], late)


@pytest.mark.django_db(transaction=True)
def test_review_and_a_late_report_written_at_once_end_consistent(supervision: Any) -> None:
    s = supervision
    for round_ in range(4):
        item = under_review(s, f"审核与报送同时{round_}")
        written: list[ProgressReport] = []

        def report(item: SupervisionItem = item, written: list[ProgressReport] = written) -> None:
            written.append(write_report(item, actor=s.general_staff, text="迟到的进展", percentage=90))
            sign_off_report(written[0], actor=s.dept_head)

        outcomes = at_once([lambda item=item: act(item, "review", s.supervisor), report])

        assert outcomes[0] == "ok"
        assert_consistent(item, outcomes[1], written[0] if written else None)


@pytest.mark.django_db(transaction=True)
def test_items_registered_at_once_get_gap_free_numbers(supervision: Any) -> None:
    s = supervision
    items = [new_item(s, title=f"同时登记{n}") for n in range(6)]

    outcomes = at_once([lambda item=item: act(item, "register", s.supervisor) for item in items])

    assert outcomes == ["ok"] * 6
    year = today().year
    numbers = sorted(SupervisionItem.objects.values_list("serial", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert {fresh(i).number for i in items} == {f"粤府办督〔{year}〕{n}号" for n in range(1, 7)}


@pytest.mark.django_db(transaction=True)
def test_the_same_step_twice_at_once_is_done_once(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    [task] = open_tasks(item, "register")

    def register() -> None:
        complete_supervision_step(task, actor=s.supervisor, step_input=SupervisionStepInput())

    outcomes = at_once([register, register])

    assert outcomes.count("ok") == 1
    assert [o for o in outcomes if o != "ok"][0] in (ALREADY_DONE, LOST_RACE)
    assert fresh(item).serial == 1
    assert len(open_tasks(item, "propose")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_extension_requests_at_once_make_one(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    due = fresh(item).due_on

    def ask(days: int) -> Callable[[], Any]:
        return lambda: request_extension(
            item, actor=s.dept_head, reason="协调", progress="过半", new_due_on=due + timedelta(days=days)
        )

    outcomes = at_once([ask(10), ask(20)])

    assert outcomes.count("ok") == 1
    assert [o for o in outcomes if o != "ok"][0] in ("该事项已有待审批的延期申请，请等待审批结果。", BUSY)
    assert ExtensionRequest.objects.filter(item=item).count() == 1

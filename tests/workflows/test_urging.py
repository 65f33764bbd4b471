"""人工催办 (urge): the office tells whoever holds an open task, live, with a link to it; the 催办
shows on the 处理单; a closed task, someone without the right and an over-long note are refused
and leave nothing behind."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.audit.models import AuditEvent
from officeapp.notify import services as notify_services
from officeapp.notify.models import Notification
from officeapp.outbox.models import OutboxEvent
from tests.documents.factories import make_document
from workflows import services
from workflows.acting import FlowError
from workflows.models import Decision, Opinion, Reminder, ReminderKind, TaskCandidate
from workflows.urging import urge

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Frames that would have gone to the users' sockets (the channel layer is tested in tests/notify)."""
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(notify_services, "send_to_groups", sent.extend)
    monkeypatch.setattr(notify_services, "async_task", lambda *args, **kwargs: None)  # SMS when offline
    return sent


def open_draft(flow_cast: Any, deadline: date | None = None) -> Task:
    cast = flow_cast.cast
    document = make_document(cast, deadline=deadline or timezone.localdate() - timedelta(days=3))
    services.start_outgoing(document, actor=cast.drafter)
    return Task.objects.get(process__outgoingprocess__document=document, flow_task__endswith=".draft")


def test_the_office_urges_the_holder_who_is_told_live_with_a_link(
    flow_cast: Any, pushes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    cast = flow_cast.cast
    task = open_draft(flow_cast)

    with django_capture_on_commit_callbacks(execute=True):
        reminder = urge(task, actor=cast.office_secretary, note="请于今天下班前办结")

    assert reminder.kind == ReminderKind.MANUAL
    assert reminder.by == cast.office_secretary
    assert reminder.recipients == [cast.drafter.pk]
    note = Notification.objects.get(recipient=cast.drafter, kind="workflows.urge")
    assert note.title.startswith("催办：")
    assert note.url == f"/workflows/tasks/{task.pk}/"
    assert "请于今天下班前办结" in note.body
    assert cast.office_secretary.real_name in note.body
    assert [group for group, _ in pushes] == [f"user.{cast.drafter.pk}"]
    assert pushes[0][1]["title"] == note.title


def test_the_urge_shows_on_the_processing_sheet_as_an_opinion(flow_cast: Any, pushes: Any) -> None:
    cast = flow_cast.cast
    task = open_draft(flow_cast)

    urge(task, actor=cast.office_director, note="抓紧办理")

    opinion = Opinion.objects.get(decision=Decision.URGE)
    assert opinion.author == cast.office_director
    assert opinion.text == "抓紧办理"
    assert opinion.step == "draft"
    assert opinion.task_id == task.pk


def test_the_urge_is_audited_and_goes_to_the_outbox(flow_cast: Any, pushes: Any) -> None:
    cast = flow_cast.cast
    task = open_draft(flow_cast)

    reminder = urge(task, actor=cast.supervisor, note="督查室催办：内容保密")

    event = AuditEvent.objects.get(action="workflows.urge")
    assert event.actor == cast.supervisor
    assert event.details["task"] == task.pk
    assert "内容保密" not in str(event.details)  # ids and counts only
    assert OutboxEvent.objects.filter(topic="workflows.reminder_sent", object_id=str(reminder.pk)).exists()


def test_every_candidate_of_a_group_task_and_an_active_delegate_are_told(flow_cast: Any, pushes: Any) -> None:
    from officeapp.org.models import Delegation, DelegationScope

    cast = flow_cast.cast
    task = open_draft(flow_cast)
    # An unclaimed group task (或签): two candidates, one of them away with a 委托.
    Task.objects.filter(pk=task.pk).update(owner=None, status=STATUS.NEW)
    TaskCandidate.objects.create(task=task, user=cast.drafter)
    TaskCandidate.objects.create(task=task, user=cast.dept_head)
    now = timezone.now()
    Delegation.objects.create(
        from_user=cast.dept_head,
        to_user=flow_cast.secretariat_head,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
        scope=DelegationScope.OUTGOING,
        reason="出差",
    )
    task.refresh_from_db()

    reminder = urge(task, actor=cast.office_secretary)

    told = {cast.drafter.pk, cast.dept_head.pk, flow_cast.secretariat_head.pk}
    assert set(reminder.recipients) == told
    assert (
        set(Notification.objects.filter(kind="workflows.urge").values_list("recipient_id", flat=True)) == told
    )


def test_urging_a_closed_task_is_refused_and_writes_nothing(flow_cast: Any, pushes: Any) -> None:
    cast = flow_cast.cast
    task = open_draft(flow_cast)
    Task.objects.filter(pk=task.pk).update(status=STATUS.DONE)

    with pytest.raises(FlowError, match="该任务已办结，无需催办。"):
        urge(task, actor=cast.office_secretary, note="快")

    assert not Reminder.objects.exists()
    assert not Opinion.objects.filter(decision=Decision.URGE).exists()
    assert not Notification.objects.filter(kind="workflows.urge").exists()


def test_someone_outside_the_office_may_not_urge(flow_cast: Any, pushes: Any) -> None:
    cast = flow_cast.cast
    task = open_draft(flow_cast)

    for who in (cast.drafter, cast.dept_head, cast.other_clerk, cast.outsider):
        with pytest.raises(FlowError, match="您无权催办该任务。"):
            urge(task, actor=who)

    assert not Reminder.objects.exists()


def test_an_over_long_note_is_refused_with_its_limit(flow_cast: Any, pushes: Any) -> None:
    cast = flow_cast.cast
    task = open_draft(flow_cast)

    with pytest.raises(FlowError, match="催办说明不能超过200字。"):
        urge(task, actor=cast.office_secretary, note="请" * 201)

    assert not Reminder.objects.exists()


def test_manual_urges_are_never_merged_with_each_other_or_with_automatic_ones(
    flow_cast: Any, pushes: Any
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from workflows.urging import scan_reminders

    cast = flow_cast.cast
    friday = date(2026, 10, 16)  # an ordinary working Friday
    with time_machine.travel(datetime(2026, 10, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        task = open_draft(flow_cast, deadline=friday)
        urge(task, actor=cast.office_secretary)
        urge(task, actor=cast.office_director)
        scan_reminders()

    kinds = sorted(Reminder.objects.filter(task=task, for_date=friday).values_list("kind", flat=True))
    assert kinds == sorted([ReminderKind.MANUAL, ReminderKind.MANUAL, ReminderKind.DUE])


def test_the_demo_builder_leaves_reminders_for_overdue_tasks_and_one_manual_urge(
    flow_cast: Any, pushes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from workflows import urging

    cast = flow_cast.cast
    monkeypatch.setattr(urging, "DEMO_OFFICE_USER", cast.office_secretary.username)
    with time_machine.travel(datetime(2026, 10, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        document = make_document(cast)  # no deadline: the builder gives the office's open tasks one
        services.start_outgoing(document, actor=cast.drafter)

        line = urging.build_urging_demo(print)

    assert line.startswith("催办：自动提醒 ")
    assert Reminder.objects.filter(kind=ReminderKind.OVERDUE).exists()
    manual = Reminder.objects.get(kind=ReminderKind.MANUAL)
    assert manual.by == cast.office_secretary
